import { describe, expect, test } from "bun:test";
import { NotMultiplexedError, createDemuxer, demultiplex } from "../../src/docker/streams/multiplex.ts";
import { chunked, recorded, streamOf } from "../helpers/recorded.ts";

// logs-multiplexed.bin: GET /containers/{id}/logs?stdout=1&stderr=1 of a container that ran
//   echo out1; echo err1 >&2; printf partial; echo err2 >&2; printf '\xff\xfe\n';
//   head -c 70000 /dev/zero | tr '\0' a; echo; exit 7
const bytes = recorded("logs-multiplexed.bin");

async function split(chunks: Uint8Array[]) {
  const out: Record<number, number[]> = { 1: [], 2: [] };
  for await (const frame of demultiplex(streamOf(chunks))) out[frame.stream]!.push(...frame.data);
  const text = (stream: number) => new TextDecoder().decode(new Uint8Array(out[stream]!));
  return { stdout: text(1), stderr: text(2) };
}

describe("demultiplex", () => {
  test("separates stdout and stderr of a real log stream", async () => {
    const { stdout, stderr } = await split([bytes]);
    expect(stderr).toBe("err1\nerr2\n");
    expect(stdout.startsWith("out1\npartial\uFFFD\uFFFD\n")).toBe(true);
    expect(stdout.endsWith(`${"a".repeat(10)}\n`)).toBe(true);
    expect((stdout.match(/a/g) ?? []).length).toBe(70000 + 2); // and the two in "partial"
  });

  for (const sizes of [[1], [3, 5, 7], [8], [9, 4096], [16384]]) {
    test(`gives the same result when chunks are cut at ${sizes.join(",")} bytes`, async () => {
      expect(await split(chunked(bytes, sizes))).toEqual(await split([bytes]));
    });
  }

  test("hands out a large payload in pieces as it arrives, without waiting for the whole frame", () => {
    const push = createDemuxer();
    const header = new Uint8Array([1, 0, 0, 0, 0, 0, 0x10, 0]); // stdout, 4096 bytes
    expect(push(header)).toEqual([]);
    const first = push(new Uint8Array(100).fill(65));
    expect(first.length).toBe(1);
    expect(first[0]!.data.length).toBe(100);
    const rest = push(
      new Uint8Array(4096 - 100 + 8 + 2)
        .fill(66)
        .map((v, i) => (i === 3996 ? 2 : i >= 3997 && i < 4003 ? 0 : i === 4003 ? 2 : v)),
    );
    expect(rest[0]!.data.length).toBe(3996);
    expect(rest[1]).toEqual({ stream: 2, data: new Uint8Array([66, 66]) });
  });

  // podman43-logs-follow-ended.txt: the body of Podman 4.3.1's 200 answer to
  // GET /containers/{id}/logs?follow=1&stdout=1&stderr=1 for a container that had just ended
  // (seen in CI, 2026-11-26): its error as text, where frames were due.
  test("a body that is an engine's error text, not frames, ends with NotMultiplexedError naming it", async () => {
    for (const sizes of [[4096], [3], [8, 1]]) {
      const error = await split(chunked(recorded("podman43-logs-follow-ended.txt"), sizes)).catch((e) => e);
      expect(error).toBeInstanceOf(NotMultiplexedError);
      expect(error.message).toStartWith(
        'the engine sent text where container output was expected: {"cause":"no such process","message":"failed to obtain logs',
      );
      expect(error.message).not.toContain("\n");
    }
  });

  test("frames before a header that is none are handed out first", () => {
    const push = createDemuxer();
    expect(push(new Uint8Array([1, 0, 0, 0, 0, 0, 0, 2, 104, 105]))).toEqual([
      { stream: 1, data: new Uint8Array([104, 105]) },
    ]);
    expect(() => push(new Uint8Array([1, 0, 7, 0, 0, 0, 0, 2]))).toThrow(NotMultiplexedError);
  });
});
