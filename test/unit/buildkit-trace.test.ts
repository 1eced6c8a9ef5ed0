import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import {
  BUILDKIT_TRACE_ID,
  type BuildkitStatus,
  decodeBuildkitStatus,
} from "../../src/docker/streams/buildkit-status.ts";
import type { BuildEvent } from "../../src/workloads/build-events.ts";
import { createBuildkitProgress } from "../../src/workloads/build-progress/buildkit.ts";
import { createApiBuildProgress } from "../../src/workloads/build-progress/api-stream.ts";
import type { ProgressMessage } from "../../src/docker/streams/json-lines.ts";

type BuildkitProgressEvent = Exclude<BuildEvent, { kind: "message" } | { kind: "image" }>;

// Real output of Docker Engine 20.10.24 (BuildKit), recorded with
//   curl --unix-socket /var/run/docker.sock -X POST -H 'Content-Type: application/x-tar' \
//     --data-binary @ctx.tar 'http://localhost/v1.41/build?version=2&networkmode=host&t=...&labels=...'
// networkmode=host because the test engine runs with --bridge=none: with the default network a
// RUN step fails with "network bridge not found" (recorded as buildkit-fail-nobridge.jsonl).
//
// buildkit-ok.jsonl (nocache=1) and buildkit-cached.jsonl (same build again), Dockerfile:
//   FROM aicage-test-base:trixie
//   RUN echo hello && echo err >&2
//   RUN --mount=type=bind,source=.,target=/src cat /src/file.txt      (file.txt: "from-context-file")
// A success ends like this: the image ID arrives one trace line before the end, the tag last:
//   {"id":"moby.image.id","aux":{"ID":"sha256:<image id>"}}
//   {"id":"moby.buildkit.trace","aux":"..."}        ("exporting to image" completed)
//   {"stream":"Successfully tagged aicage-recorded:ok\n"}
//
// buildkit-fail.jsonl, Dockerfile: FROM base / RUN echo before-fail / RUN echo about-to-fail && exit 3
// A failure ends with one line holding the error twice, and no image-ID line:
//   {"errorDetail":{"message":"executor failed running [...]: exit code: 3"},"error":"executor failed running [...]: exit code: 3"}
// The failing vertex carries the same text in its `error` field before that.
//
// buildkit-fail-parse.jsonl: an unknown instruction. The frontend fails before any step exists,
// so no vertex has an error and only the final errorDetail line tells why.

interface JsonLine {
  id?: string;
  aux?: unknown;
  stream?: string;
  error?: string;
  errorDetail?: { message: string };
}

function recordedLines(name: string): JsonLine[] {
  const text = readFileSync(join(import.meta.dir, "..", "fixtures", "recorded", name), "utf8");
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as JsonLine);
}

function decodedStatuses(name: string): BuildkitStatus[] {
  return recordedLines(name)
    .filter((line) => line.id === BUILDKIT_TRACE_ID)
    .map((line) => decodeBuildkitStatus(line.aux as string));
}

function progressEvents(name: string): BuildkitProgressEvent[] {
  const progress = createBuildkitProgress();
  const events = decodedStatuses(name).flatMap((status) => progress.push(status));
  return [...events, ...progress.flush()];
}

const RUN_HELLO = "[2/3] RUN echo hello && echo err >&2";
const RUN_MOUNT = "[3/3] RUN --mount=type=bind,source=.,target=/src cat /src/file.txt";

describe("decodeBuildkitStatus on recorded builds", () => {
  test("a successful build: vertices, stdout and stderr logs, exporter statuses", () => {
    const statuses = decodedStatuses("buildkit-ok.jsonl");
    const vertexes = statuses.flatMap((s) => s.vertexes);
    const names = new Set(vertexes.map((v) => v.name));
    expect(names).toContain("[1/3] FROM docker.io/library/aicage-test-base:trixie");
    expect(names).toContain(RUN_HELLO);
    expect(names).toContain(RUN_MOUNT);
    expect(names).toContain("exporting to image");

    const hello = vertexes.find((v) => v.name === RUN_HELLO && v.completed)!;
    expect(hello.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(hello.inputs).toHaveLength(1);
    expect(hello.cached).toBe(false);
    expect(hello.error).toBeUndefined();
    expect(hello.started).toBeInstanceOf(Date);
    expect(hello.completed!.getTime()).toBeGreaterThanOrEqual(hello.started!.getTime());

    const text = (msg: Uint8Array) => new TextDecoder().decode(msg);
    const logs = statuses.flatMap((s) => s.logs);
    const helloLogs = logs.filter((l) => l.vertex === hello.digest);
    expect(helloLogs.map((l) => [l.stream, text(l.msg)])).toContainEqual([1, "hello\n"]);
    expect(helloLogs.map((l) => [l.stream, text(l.msg)])).toContainEqual([2, "err\n"]);
    expect(helloLogs.every((l) => l.timestamp instanceof Date)).toBe(true);
    const mount = vertexes.find((v) => v.name === RUN_MOUNT)!;
    expect(logs.filter((l) => l.vertex === mount.digest).map((l) => text(l.msg))).toEqual(["from-context-file\n"]);

    // The exporter's sub-progress names the image the final moby.image.id line reports.
    const lines = recordedLines("buildkit-ok.jsonl");
    expect(lines.at(-3)!.id).toBe("moby.image.id");
    expect(lines.at(-2)!.id).toBe(BUILDKIT_TRACE_ID);
    expect(lines.at(-1)).toEqual({ stream: "Successfully tagged aicage-recorded:ok\n" });
    const imageId = (lines.at(-3)!.aux as { ID: string }).ID;
    expect(imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
    const statusIds = statuses.flatMap((s) => s.statuses).map((s) => s.id);
    expect(statusIds).toContain(`writing image ${imageId}`);
    expect(statusIds).toContain("naming to docker.io/library/aicage-recorded:ok");
  });

  test("a failing build: the failing vertex carries the error of the final errorDetail line", () => {
    const vertexes = decodedStatuses("buildkit-fail.jsonl").flatMap((s) => s.vertexes);
    const failed = vertexes.filter((v) => v.error);
    expect(failed.map((v) => v.name)).toEqual(["[3/3] RUN echo about-to-fail && exit 3"]);
    const message = "executor failed running [/bin/sh -c echo about-to-fail && exit 3]: exit code: 3";
    expect(failed[0]!.error).toBe(message);
    expect(recordedLines("buildkit-fail.jsonl").at(-1)).toEqual({ errorDetail: { message }, error: message });
  });

  test("accepts raw bytes and skips fields it does not know", () => {
    const timestamp = new BinaryWriter()
      .tag(1, WireType.Varint)
      .int64(1_700_000_000)
      .tag(2, WireType.Varint)
      .int32(5e8)
      .finish();
    const vertex = new BinaryWriter()
      .tag(1, WireType.LengthDelimited)
      .string("sha256:abc")
      .tag(3, WireType.LengthDelimited)
      .string("[1/1] RUN true")
      .tag(8, WireType.LengthDelimited)
      .bytes(new Uint8Array([10, 2, 105, 100])) // progressGroup
      .tag(99, WireType.Bit64)
      .fixed64(7n)
      .tag(5, WireType.LengthDelimited)
      .bytes(timestamp)
      .tag(4, WireType.Varint)
      .bool(true)
      .finish();
    const message = new BinaryWriter()
      .tag(1, WireType.LengthDelimited)
      .bytes(vertex)
      .tag(42, WireType.Varint)
      .uint32(1)
      .tag(3, WireType.LengthDelimited)
      .bytes(
        new BinaryWriter()
          .tag(1, WireType.LengthDelimited)
          .string("sha256:abc")
          .tag(3, WireType.Varint)
          .int64(2)
          .tag(4, WireType.LengthDelimited)
          .bytes(new TextEncoder().encode("x"))
          .finish(),
      )
      .finish();
    const status = decodeBuildkitStatus(message);
    expect(status.vertexes).toEqual([
      { digest: "sha256:abc", inputs: [], name: "[1/1] RUN true", cached: true, started: new Date(1_700_000_000_500) },
    ]);
    expect(status.logs).toEqual([{ vertex: "sha256:abc", stream: 2, msg: new TextEncoder().encode("x") }]);
    expect(status.statuses).toEqual([]);
    expect(status.warnings).toEqual([]);
  });
});

describe("createBuildkitProgress on recorded builds", () => {
  test("a successful build: each step starts, logs its lines, then finishes", () => {
    const events = progressEvents("buildkit-ok.jsonl");
    const hello = events.filter((e) => e.name === RUN_HELLO);
    expect(hello.map((e) => e.kind)).toEqual(["step-started", "log", "log", "step-finished"]);
    expect(hello.filter((e) => e.kind === "log").map((e) => [e.stream, e.line])).toEqual([
      [2, "err"],
      [1, "hello"],
    ]);
    const finished = hello.at(-1)!;
    expect(finished).toMatchObject({ kind: "step-finished", cached: false, index: 5 });
    expect((finished as { durationMs: number }).durationMs).toBeGreaterThanOrEqual(0);

    expect(
      events.filter((e) => e.name === RUN_MOUNT && e.kind === "log").map((e) => (e as { line: string }).line),
    ).toEqual(["from-context-file"]);
    // Every step that started also finished, once.
    const started = events.filter((e) => e.kind === "step-started").map((e) => e.vertex);
    const ended = events.filter((e) => e.kind === "step-finished" || e.kind === "step-failed").map((e) => e.vertex);
    expect(ended.sort()).toEqual([...started].sort());
    expect(new Set(ended).size).toBe(ended.length);
    expect(events.some((e) => e.kind === "step-failed")).toBe(false);
  });

  test("a repeated build reports its RUN steps as cached, with no output", () => {
    const events = progressEvents("buildkit-cached.jsonl");
    const finished = events.filter((e) => e.kind === "step-finished");
    expect(finished.find((e) => e.name === RUN_HELLO)).toMatchObject({ cached: true });
    expect(finished.find((e) => e.name === RUN_MOUNT)).toMatchObject({ cached: true });
    expect(events.filter((e) => e.kind === "log")).toEqual([]);
  });

  test("a failing build names the failing step and its error, after its output", () => {
    const progress = createBuildkitProgress();
    const events = decodedStatuses("buildkit-fail.jsonl").flatMap((status) => progress.push(status));
    const step = "[3/3] RUN echo about-to-fail && exit 3";
    const error = "executor failed running [/bin/sh -c echo about-to-fail && exit 3]: exit code: 3";
    expect(progress.failedStep()).toEqual({ name: step, error });
    expect(events.filter((e) => e.name === step).map((e) => e.kind)).toEqual(["step-started", "log", "step-failed"]);
    expect(events.find((e) => e.kind === "log" && e.name === step)).toMatchObject({ stream: 1, line: "about-to-fail" });
    expect(events.at(-1)).toMatchObject({ kind: "step-failed", name: step, error });
    expect(events.find((e) => e.name === "[2/3] RUN echo before-fail" && e.kind === "step-finished")).toBeDefined();
  });

  test("a Dockerfile parse error fails no step: only the errorDetail line explains it", () => {
    const progress = createBuildkitProgress();
    for (const status of decodedStatuses("buildkit-fail-parse.jsonl")) progress.push(status);
    expect(progress.failedStep()).toBeUndefined();
    expect(recordedLines("buildkit-fail-parse.jsonl").at(-1)!.error).toContain("unknown instruction: FROBNICATE");
  });

  test("an engine without a bridge network fails the first RUN step", () => {
    const progress = createBuildkitProgress();
    for (const status of decodedStatuses("buildkit-fail-nobridge.jsonl")) progress.push(status);
    expect(progress.failedStep()).toEqual({
      name: RUN_HELLO,
      error: "executor failed running [/bin/sh -c echo hello && echo err >&2]: network bridge not found",
    });
  });
});

describe("createBuildkitProgress log lines", () => {
  const digest = "sha256:0001";
  const encoder = new TextEncoder();
  const status = (parts: Partial<BuildkitStatus>): BuildkitStatus => ({
    vertexes: [],
    statuses: [],
    logs: [],
    warnings: [],
    ...parts,
  });
  const log = (stream: number, msg: Uint8Array | string) =>
    status({ logs: [{ vertex: digest, stream, msg: typeof msg === "string" ? encoder.encode(msg) : msg }] });
  const lines = (events: BuildkitProgressEvent[]) =>
    events.filter((e) => e.kind === "log").map((e) => [(e as { stream: number }).stream, (e as { line: string }).line]);

  test("carries partial lines across messages, per stream, and flushes them when the step ends", () => {
    const progress = createBuildkitProgress();
    const started = new Date(1000);
    const events = [
      ...progress.push(status({ vertexes: [{ digest, inputs: [], name: "[1/1] RUN make", cached: false, started }] })),
      ...progress.push(log(1, "hel")),
      ...progress.push(log(2, "warn")),
      ...progress.push(log(1, "lo\r\nwor")),
      ...progress.push(log(1, "ld\n\npart")),
      ...progress.push(log(2, "ing\n")),
    ];
    expect(lines(events)).toEqual([
      [1, "hello"],
      [1, "world"],
      [1, ""],
      [2, "warning"],
    ]);
    const end = progress.push(
      status({
        vertexes: [{ digest, inputs: [], name: "[1/1] RUN make", cached: false, started, completed: new Date(3500) }],
      }),
    );
    expect(end).toEqual([
      { kind: "log", vertex: digest, name: "[1/1] RUN make", index: 1, stream: 1, line: "part" },
      { kind: "step-finished", vertex: digest, name: "[1/1] RUN make", index: 1, cached: false, durationMs: 2500 },
    ]);
    expect(progress.flush()).toEqual([]);
  });

  test("keeps a UTF-8 character cut between two messages whole", () => {
    const progress = createBuildkitProgress();
    const bytes = encoder.encode("grüße\n");
    const cut = bytes.indexOf(0xc3) + 1; // inside the two bytes of "ü"
    const events = [...progress.push(log(1, bytes.slice(0, cut))), ...progress.push(log(1, bytes.slice(cut)))];
    expect(lines(events)).toEqual([[1, "grüße"]]);
  });

  test("flush() returns what an unfinished step left without a newline", () => {
    const progress = createBuildkitProgress();
    const events = progress.push(log(1, "no newline yet"));
    // Output for a vertex not seen before still announces it first.
    expect(events.map((e) => e.kind)).toEqual(["step-started"]);
    expect(lines(progress.flush())).toEqual([[1, "no newline yet"]]);
    expect(progress.flush()).toEqual([]);
  });
});

// buildkit-fail-two-copies.jsonl, Dockerfile: FROM base / COPY missing-one /one / COPY missing-two /two /
// RUN true. BuildKit checks both sources at once: in this recording the trace marks [2/4] failed
// first, and the build ends on [3/4]'s error (about one run in twelve on Docker 20.10).
describe("two steps fail at once", () => {
  test("the step named is the one the final error is about, not the first marked failed", () => {
    const progress = createApiBuildProgress();
    const lines = recordedLines("buildkit-fail-two-copies.jsonl");
    const failedInOrder: string[] = [];
    for (const line of lines.slice(0, -1)) {
      for (const event of progress.push(line as ProgressMessage))
        if (event.kind === "step-failed") failedInOrder.push(event.name);
    }
    expect(failedInOrder).toEqual(["[2/4] COPY missing-one /one", "[3/4] COPY missing-two /two"]);
    const final = lines.at(-1)!.errorDetail!.message;
    expect(final).toContain('"/missing-two" not found');
    progress.fail(final);
    expect(progress.failedStep()).toBe("[3/4] COPY missing-two /two");
  });

  test("without a final error the first failed step is named", () => {
    const progress = createBuildkitProgress();
    for (const status of decodedStatuses("buildkit-fail-two-copies.jsonl")) progress.push(status);
    expect(progress.failedStep()?.name).toBe("[2/4] COPY missing-one /one");
  });
});
