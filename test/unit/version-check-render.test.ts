// The version-check table: one short cause per agent in the ERROR column, while --json keeps
// every attempt's whole error. Attempts are judged by the real attemptFromRun/attemptNotRun.
import { describe, expect, test } from "bun:test";
import { formatResults, resultsJson, shortCause } from "../../src/commands/version-check/render.ts";
import { type ScriptRun, attemptFromRun, attemptNotRun } from "../../src/version-check/attempt.ts";
import type { CheckResult } from "../../src/version-check/check.ts";

const run = (over: Partial<ScriptRun>): ScriptRun => ({
  exitCode: 0,
  timedOut: false,
  stdout: "",
  stderr: "",
  stdoutTruncated: false,
  truncated: false,
  durationMs: 12,
  ...over,
});
const CURL_STDERR =
  "  % Total    % Received % Xferd\n  0     0    0     0    0     0      0      0 --:--:-- --:--:--\ncurl: (6) Could not resolve host: registry.npmjs.org\n";
const IMAGE_DOWN =
  "the version-check image ghcr.io/aicage/aicage-image-util:version-check-0.1.0 could not be pulled (connect ECONNREFUSED) and building it locally failed: no network for RUN steps; pass --build-network host. Details in the log";

function result(agent: string, attempts: CheckResult["attempts"], over: Partial<CheckResult> = {}): CheckResult {
  const good = attempts.find((a) => a.ok);
  return {
    agent,
    script: `/agents/${agent}/version.sh`,
    ok: Boolean(good),
    version: good?.version ?? null,
    source: good?.source ?? null,
    stale: false,
    checkedAt: good ? "2026-11-25T08:30:00.000Z" : null,
    durationMs: 40,
    attempts,
    previousVersion: null,
    changed: false,
    ...over,
  };
}

describe("version-check table", () => {
  const imageDown = attemptNotRun("image", IMAGE_DOWN, 5);
  const curlFailed = attemptFromRun("host", run({ exitCode: 6, stderr: CURL_STDERR }), 30_000);
  const results = [
    result("claude", [imageDown, attemptFromRun("host", run({ stdout: "2.0.14\n" }), 30_000)]),
    result("codex", [imageDown, curlFailed]),
    result("slow", [attemptFromRun("image", run({ exitCode: null, timedOut: true }), 30_000)]),
    result("quiet", [attemptFromRun("host", run({ stderr: "warning: nothing to say\n" }), 30_000)]),
    result("pinned", [imageDown, curlFailed], { ok: true, version: "1.0.0", source: "cache", stale: true }),
  ];

  test("one short cause per failed agent: where, the exit code and the script's last line", () => {
    const rows = formatResults(results).split("\n");
    const error = (agent: string) =>
      rows
        .find((r) => r.startsWith(`${agent} `))!
        .split(/ {2,}/)
        .at(-1);
    // Answered on the host: the ERROR cell still says why the image did not answer.
    expect(rows.find((r) => r.startsWith("claude "))).toMatch(
      /^claude +2\.0\.14 +host +40ms +image: the version-check image/,
    );
    expect(error("claude")).toBe(`image: ${shortCause(imageDown)}`);
    expect(error("codex")).toBe("host: exit 6: curl: (6) Could not resolve host: registry.npmjs.org");
    expect(error("slow")).toBe("image: timed out after 30s");
    expect(error("quiet")).toBe("host: no output: warning: nothing to say");
    expect(error("pinned")).toBe(
      "stale, every attempt failed (host: exit 6: curl: (6) Could not resolve host: registry.npmjs.org)",
    );
    for (const row of rows) expect(row.length).toBeLessThan(140);
  });

  test("an engine call that failed: the engine's words, not the call (recorded on Docker 20.10 and Podman 4.3)", () => {
    const docker = "start container 73ad97c9e2e9 failed: network no-such-net-aicage not found (HTTP 404)";
    const podman =
      "create container from 81158b631f80 failed: container create: unable to find network with name or ID no-such-net-aicage: network not found (HTTP 500)";
    expect(shortCause(attemptNotRun("image", docker, 1))).toBe("network no-such-net-aicage not found (HTTP 404)");
    expect(shortCause(attemptNotRun("image", podman, 1))).toStartWith(
      "container create: unable to find network with name or ID no-such-net-aicage",
    );
  });

  test("a failure to run at all: its first clause, cut short", () => {
    const cause = shortCause(imageDown);
    expect(cause.length).toBeLessThanOrEqual(80);
    expect(cause).toStartWith("the version-check image ghcr.io/aicage/aicage-image-util:version-check-0.1.0");
    expect(cause).toEndWith("…");
  });

  test("--json keeps every attempt's whole error", () => {
    const json = resultsJson(results);
    expect(json.results[1]!.attempts.map((a) => a.error)).toEqual([IMAGE_DOWN, curlFailed.error]);
    expect(curlFailed.error).toContain("% Total");
  });
});
