import { describe, expect, test } from "bun:test";
import { DockerStreamError } from "../../src/docker/errors.ts";
import { readProgress } from "../../src/docker/streams/json-lines.ts";
import { readLines } from "../../src/lib/lines.ts";
import { chunked, recorded, streamOf } from "../helpers/recorded.ts";

// classic-build-fail.jsonl: POST /build?version=1 of FROM base / RUN echo classic-hello / RUN exit 4
const classicFail = recorded("classic-build-fail.jsonl");
// buildkit-fail.jsonl: POST /build?version=2 whose last step exits 3
const buildkitFail = recorded("buildkit-fail.jsonl");

async function collect(body: ReadableStream<Uint8Array>) {
  const messages: unknown[] = [];
  try {
    for await (const message of readProgress(body, "build")) messages.push(message);
  } catch (error) {
    return { messages, error };
  }
  return { messages, error: undefined };
}

describe("readProgress", () => {
  test("yields each message and ends with the in-band error of a real classic build", async () => {
    const { messages, error } = await collect(streamOf([classicFail]));
    expect(messages).toContainEqual({ stream: "classic-hello\n" });
    expect(messages[0]).toEqual({ stream: "Step 1/3 : FROM aicage-test-base:trixie" });
    expect(error).toBeInstanceOf(DockerStreamError);
    expect((error as Error).message).toBe("build failed: The command '/bin/sh -c exit 4' returned a non-zero code: 4");
  });

  test("reads BuildKit trace lines and their final errorDetail", async () => {
    const { messages, error } = await collect(streamOf([buildkitFail]));
    expect(messages.some((m: any) => m.id === "moby.buildkit.trace" && typeof m.aux === "string")).toBe(true);
    expect((error as Error).message).toContain("exit code: 3");
  });

  for (const sizes of [[1], [2, 3], [1000]]) {
    test(`is not confused by lines split across ${sizes.join(",")}-byte chunks`, async () => {
      const whole = await collect(streamOf([classicFail]));
      const pieces = await collect(streamOf(chunked(classicFail, sizes)));
      expect(pieces.messages).toEqual(whole.messages);
      expect((pieces.error as Error).message).toBe((whole.error as Error).message);
    });
  }

  test("a line that is not JSON is reported, not swallowed", async () => {
    const body = streamOf([new TextEncoder().encode('{"status":"ok"}\nnot json\n')]);
    const { messages, error } = await collect(body);
    expect(messages).toEqual([{ status: "ok" }]);
    expect((error as Error).message).toContain("unreadable progress line: not json");
  });
});

describe("readLines", () => {
  test("joins a multi-byte character split across chunks", async () => {
    const bytes = new TextEncoder().encode("grüße\nzwei");
    const lines: string[] = [];
    for await (const line of readLines(streamOf(chunked(bytes, [3])))) lines.push(line);
    expect(lines).toEqual(["grüße", "zwei"]);
  });

  test("drops the \\r of a \\r\\n ending, also when the two arrive in different chunks", async () => {
    const bytes = new TextEncoder().encode("eins\r\nzwei\r\ndrei\r");
    for (const sizes of [[1], [5], [1000]]) {
      const lines: string[] = [];
      for await (const line of readLines(streamOf(chunked(bytes, sizes)))) lines.push(line);
      expect(lines).toEqual(["eins", "zwei", "drei"]);
    }
  });
});

describe("readProgress over CRLF lines", () => {
  test("a \\r\\n ending and blank lines do not reach JSON.parse", async () => {
    const body = streamOf([new TextEncoder().encode('{"status":"a"}\r\n\r\n{"status":"b"}\r\n  ')]);
    const { messages, error } = await collect(body);
    expect(error).toBeUndefined();
    expect(messages).toEqual([{ status: "a" }, { status: "b" }]);
  });
});
