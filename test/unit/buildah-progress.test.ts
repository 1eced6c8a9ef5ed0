// Podman builds with buildah whatever POST /build asks for; its stream is text like the
// classic builder's but spelled "STEP 2/3: …". Recorded from Podman 4.3.1 (Debian 12) with
//   curl --unix-socket podman.sock -X POST --data-binary @ctx.tar 'http://d/v1.41/build?t=…&networkmode=host'
// buildah-ok.jsonl:   FROM aicage-test-base:trixie / RUN echo hello-podman (labels become a LABEL step)
// buildah-fail.jsonl: … / RUN echo fail-here && exit 3 (cached second step, then the failure)
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ProgressMessage } from "../../src/docker/streams/json-lines.ts";
import { type BuildEvent, eventLine } from "../../src/workloads/build-events.ts";
import { createApiBuildProgress } from "../../src/workloads/build-progress/api-stream.ts";

function replay(name: string) {
  const messages = readFileSync(join(import.meta.dir, "../fixtures/recorded", name), "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as ProgressMessage);
  const progress = createApiBuildProgress();
  const events: BuildEvent[] = [];
  for (const message of messages) {
    const error = message.errorDetail?.message;
    if (error) events.push(...progress.fail(error.trim()));
    else events.push(...progress.push(message));
  }
  if (!messages.some((m) => m.errorDetail)) events.push(...progress.end());
  return { events, progress };
}

describe("buildah's progress as build events", () => {
  test("steps are numbered and named like BuildKit's; output belongs to its step", () => {
    const { events } = replay("buildah-ok.jsonl");
    expect(events.filter((e) => e.kind === "step-started").map((e) => (e as { name: string }).name)).toEqual([
      "[1/3] FROM aicage-test-base:trixie",
      "[2/3] RUN echo hello-podman",
      '[3/3] LABEL "org.aicage.util.managed"="true"',
    ]);
    expect(events.map(eventLine)).toContain("#2 hello-podman");
    expect(events.map(eventLine)).toContain("Successfully tagged aicage-recorded:buildah-ok");
    const started = events.filter((e) => e.kind === "step-started").length;
    expect(events.filter((e) => e.kind === "step-finished")).toHaveLength(started);
  });

  test("a failing RUN names its step; the output before the failure stays with it", () => {
    const { events, progress } = replay("buildah-fail.jsonl");
    expect(progress.failedStep()).toBe("[3/4] RUN echo fail-here && exit 3");
    const failed = events
      .filter((e) => (e as { name?: string }).name === "[3/4] RUN echo fail-here && exit 3")
      .map((e) => e.kind);
    expect(failed).toEqual(["step-started", "log", "step-failed"]);
    expect(events.at(-1)).toMatchObject({
      kind: "step-failed",
      error: 'building at STEP "RUN echo fail-here && exit 3": while running runtime: exit status 3',
    });
  });
});
