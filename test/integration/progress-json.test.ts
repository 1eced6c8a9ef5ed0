// `--progress json`: a run's events as NDJSON on stdout, one event a line, each valid under
// schemas/progress-event.schema.json, the last line the answer (the command's --json object,
// or the error object) with "type" and "time" added. Taken from real runs against the engine:
// a version check in the image and on the host, a build, a failed build. The other modes say
// on stderr what the mode promises: plain lines for each check, nothing for quiet.
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ProgressEvent } from "../../src/core/progress.ts";
import { checkAgents } from "../../src/version-check/check.ts";
import { collectAgents } from "../../src/version-check/agents.ts";
import { fixtureBuild, runCli, tempDir, testClient } from "../helpers/engine.ts";
import { validateJson } from "../helpers/json-schema.ts";
import { engineSuite } from "../helpers/suite.ts";

const client = testClient();
const RUN = `${process.pid}-${Date.now().toString(36)}`;
const made = engineSuite(["version-check"], client).madeImages;

function agent(name: string, body: string): string {
  const dir = join(tempDir("aicage-progress-"), name);
  mkdirSync(dir, { mode: 0o755 });
  writeFileSync(join(dir, "version.sh"), body, { mode: 0o644 });
  return dir;
}

/** Runs the CLI with --progress json; answers the exit code, the events and the last line. */
async function stream(args: string[]) {
  const { exitCode, stdout, stderr } = await runCli([...args, "--progress", "json"]);
  const lines = stdout.trimEnd().split("\n");
  const parsed = lines.map((line, i) => {
    try {
      return JSON.parse(line);
    } catch {
      throw new Error(`line ${i + 1} of the stream is not JSON (exit ${exitCode}): ${line}\n${stderr}`);
    }
  });
  const last = parsed.pop();
  for (const event of parsed) validateJson("progress-event", event);
  return { exitCode, events: parsed as Array<ProgressEvent & { time: string }>, last, stderr };
}

/** The last line without what the stream adds, as --json prints it. */
function answerOf(last: { type: string; time: string }) {
  const { type: _type, time: _time, ...answer } = last;
  return answer;
}

describe("--progress json", () => {
  test("version-check in the image, then on the host: the place, each agent's start and end, then the result", async () => {
    const good = agent("steady-agent", "echo 1.2.3\n");
    const bad = agent("failing-agent", "echo 'no route to host' >&2\nexit 7\n");
    const { exitCode, events, last } = await stream(["version-check", good, bad, "--no-cache-fallback"]);
    expect(exitCode).toBe(1);
    expect(last.type).toBe("result");
    validateJson("version-check", answerOf(last));
    const checks = events.filter((e) => e.type === "check").map((e) => ({ ...e, time: undefined }));
    // The failing agent is tried in the image, then on the host; the good one answers in the image.
    expect(checks).toContainEqual(expect.objectContaining({ kind: "place", place: "image", agents: 2 }));
    expect(checks).toContainEqual(
      expect.objectContaining({ kind: "finished", agent: "steady-agent", place: "image", ok: true }),
    );
    expect(checks).toContainEqual(expect.objectContaining({ kind: "place", place: "host", agents: 1 }));
    expect(checks).toContainEqual(
      expect.objectContaining({ kind: "finished", agent: "failing-agent", place: "host", ok: false }),
    );
    const startedAt = checks.findIndex((e) => e.kind === "started" && e.agent === "steady-agent");
    const endedAt = checks.findIndex((e) => e.kind === "finished" && e.agent === "steady-agent");
    expect(startedAt).toBeGreaterThan(-1);
    expect(endedAt).toBeGreaterThan(startedAt);
    expect(events.find((e) => e.type === "phase")).toMatchObject({ message: "checking 2 agents in the image" });
    expect(events.some((e) => e.type === "check-timing")).toBe(true);
    // Times are the order the lines were printed in.
    const times = [...events.map((e) => e.time), last.time];
    expect([...times].sort()).toEqual(times);
  }, 300_000);

  test("build: its steps with subject image, the log file, then the result; a failure ends with the error object", async () => {
    const tag = `aicage-util-test/progress-build:${RUN}`;
    made.push(tag);
    const args = fixtureBuild("tiny", tag);
    const built = await stream([...args, "--no-cache"]);
    expect(built.exitCode).toBe(0);
    expect(built.last.type).toBe("result");
    validateJson("build", answerOf(built.last));
    expect(built.events.filter((e) => e.type === "build-log")).toHaveLength(1);
    const steps = built.events.filter((e) => e.type === "build");
    expect(steps.length).toBeGreaterThan(0);
    expect(steps.every((e) => e.type === "build" && e.subject === "image")).toBe(true);
    expect(steps).toContainEqual(
      expect.objectContaining({ kind: "step-started", name: expect.stringContaining("COPY note.txt") }),
    );

    const failed = await stream([...fixtureBuild("failing", `aicage-util-test/progress-fail:${RUN}`)]);
    expect(failed.exitCode).toBe(1);
    expect(failed.last.type).toBe("error");
    validateJson("error", answerOf(failed.last));
    expect(failed.events).toContainEqual(expect.objectContaining({ type: "build", kind: "step-failed" }));
  }, 300_000);

  test("a usage error before anything ran is the stream's one line, the error object", async () => {
    const { exitCode, events, last } = await stream(["build", "/nonexistent/context", "-t", "x:1"]);
    expect(exitCode).toBe(2);
    expect(events).toEqual([]);
    expect(last).toMatchObject({ type: "error", schemaVersion: 1, error: { kind: "usage", exitCode: 2 } });
  });
});

describe("--progress plain and quiet", () => {
  test("plain: a line on stderr for each check's start and end; quiet: none", async () => {
    const good = agent("plain-agent", "echo 2.0.0\n");
    const plain = await runCli(["version-check", good, "--only", "host", "--progress", "plain"]);
    expect(plain.exitCode).toBe(0);
    expect(plain.stderr).toContain("plain-agent: started (host)");
    expect(plain.stderr).toContain("plain-agent: answered (host)");
    const quiet = await runCli(["version-check", good, "--only", "host", "--progress", "quiet"]);
    expect(quiet.exitCode).toBe(0);
    expect(quiet.stderr).not.toContain("plain-agent");
    expect(quiet.stdout).toContain("2.0.0");
  });

  test("quiet: a build shows none of its steps", async () => {
    const tag = `aicage-util-test/progress-quiet:${RUN}`;
    made.push(tag);
    const { exitCode, stderr } = await runCli([...fixtureBuild("tiny", tag), "--no-cache", "--progress", "quiet"]);
    expect(exitCode).toBe(0);
    expect(stderr).not.toContain("COPY note.txt");
    expect(stderr).toContain("build log:");
  }, 300_000);
});

describe("the report, called as a library", () => {
  test("checkAgents emits every event through its one report, in order", async () => {
    const events: ProgressEvent[] = [];
    const dir = agent("library-agent", "echo 3.1.4\n");
    const results = await checkAgents(client, collectAgents([dir], []), {
      order: ["host"],
      timeoutMs: 30_000,
      jobs: 2,
      variables: [],
      maxOutputBytes: 65_536,
      cacheFallback: false,
      compare: false,
      imageOptions: {},
      report: (event) => events.push(event),
    });
    expect(results[0]).toMatchObject({ ok: true, version: "3.1.4" });
    expect(events).toEqual([
      { type: "phase", message: "checking 1 agent on the host" },
      { type: "check", kind: "place", place: "host", agents: 1 },
      { type: "check", kind: "started", agent: "library-agent", place: "host" },
      { type: "check", kind: "finished", agent: "library-agent", place: "host", ok: true },
    ]);
  });
});
