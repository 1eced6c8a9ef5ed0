// One way to cancel: the features take an AbortSignal and, once it is aborted, start nothing
// more. Called here as a library, without the CLI, its signal handlers or its exit cleanup,
// so nothing but the feature itself can keep the promise: a host attempt after an aborted
// image attempt would run to its end here (it writes a marker file on the host).
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ProgressEvent } from "../../src/core/progress.ts";
import { runBuild } from "../../src/local-build/run-build.ts";
import { collectAgents } from "../../src/version-check/agents.ts";
import { type CheckSettings, checkAgents } from "../../src/version-check/check.ts";
import { BASE_IMAGE, REPO_ROOT, tempDir, testClient } from "../helpers/engine.ts";
import { engineSuite } from "../helpers/suite.ts";

const client = testClient();
// No container may be left (the leak watch), though no exit handler removes any here.
engineSuite(["version-check"], client);

/** An agent whose script, where it runs on this machine, leaves a marker file, then answers late. */
function markingAgent(): { dir: string; marker: string } {
  const work = tempDir("aicage-abort-");
  const dir = join(work, "marking-agent");
  const marker = join(work, "ran-on-host");
  mkdirSync(dir, { mode: 0o755 });
  // In the check container the marker's folder does not exist: only a host run leaves it.
  writeFileSync(join(dir, "version.sh"), `touch '${marker}' 2>/dev/null\nsleep 3\necho 1.0.0\n`, { mode: 0o644 });
  return { dir, marker };
}

function settings(signal: AbortSignal, report: (event: ProgressEvent) => void): CheckSettings {
  return {
    order: ["image", "host"],
    timeoutMs: 60_000,
    jobs: 2,
    variables: [],
    maxOutputBytes: 65_536,
    cacheFallback: false,
    compare: false,
    imageOptions: { baseImage: BASE_IMAGE, network: "host" },
    signal,
    report,
  };
}

describe("a feature called as a library with an aborted signal starts nothing more", () => {
  test("checkAgents, aborted before it starts: no attempt anywhere, no event but none", async () => {
    const { dir, marker } = markingAgent();
    const events: ProgressEvent[] = [];
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    await expect(
      checkAgents(
        client,
        collectAgents([dir], []),
        settings(controller.signal, (e) => events.push(e)),
      ),
    ).rejects.toThrow("stop");
    expect(events).toEqual([]);
    expect(existsSync(marker)).toBe(false);
  });

  test("checkAgents, aborted while the image attempt runs: the host attempt never starts", async () => {
    const { dir, marker } = markingAgent();
    const events: ProgressEvent[] = [];
    const controller = new AbortController();
    const report = (event: ProgressEvent) => {
      events.push(event);
      if (event.type === "check" && event.kind === "started" && event.place === "image")
        controller.abort(new Error("stop now"));
    };
    await expect(checkAgents(client, collectAgents([dir], []), settings(controller.signal, report))).rejects.toThrow(
      "stop now",
    );
    // Longer than the script would take to leave its marker, were it started on the host.
    await Bun.sleep(1_000);
    expect(existsSync(marker)).toBe(false);
    expect(events.some((e) => e.type === "check" && e.place === "host")).toBe(false);
  }, 120_000);

  test("runBuild, aborted before it starts: no scan, no log file, no build", async () => {
    const state = tempDir("aicage-abort-state-");
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    const events: ProgressEvent[] = [];
    const context = join(REPO_ROOT, "test/fixtures/builds/tiny");
    const build = runBuild(
      client,
      {
        contextDir: context,
        dockerfile: join(context, "Dockerfile"),
        tags: ["aicage-util-test/never-built:1"],
        buildArgs: { FROM_IMAGE: BASE_IMAGE },
        labels: {},
        via: "api",
      },
      {
        env: { ...process.env, AICAGE_UTIL_STATE_DIR: state },
        signal: controller.signal,
        report: (e) => events.push(e),
      },
    );
    await expect(build).rejects.toThrow("stop");
    expect(events).toEqual([]);
    expect(readdirSync(state)).toEqual([]);
  });
});
