// Container logs of a container without a TTY come multiplexed: each frame is an
// 8-byte header [stream, 0, 0, 0, size (uint32 big-endian)] then `size` bytes.
// Stream 1 is stdout, 2 is stderr (0 is stdin, echoed only when attached).
import { neutralise } from "../../lib/safe-text.ts";

export interface OutputFrame {
  stream: 0 | 1 | 2;
  data: Uint8Array;
}

const HEADER_SIZE = 8;
/** How much of a body that is not a frame stream its error keeps (an engine's error text). */
const NOT_FRAMES_KEPT = 300;

/**
 * The body was not a frame stream: an engine that had already answered 200 wrote its error
 * as text instead (Podman 4.3, following a container that just ended: `{"cause":"no such
 * process","message":"failed to obtain logs …","response":500}`).
 */
export class NotMultiplexedError extends Error {
  override name = "NotMultiplexedError";
  constructor(readonly bodyStart: Uint8Array) {
    const text = new TextDecoder().decode(bodyStart.subarray(0, NOT_FRAMES_KEPT)).trim();
    super(`the engine sent text where container output was expected: ${neutralise(text)}`);
  }
}

/**
 * A stateful demuxer: feed chunks as they arrive, get whole frames back. Headers and
 * payloads may be split across chunks at any byte; a large payload is handed out in
 * pieces as it arrives, so memory stays bounded by the chunk size. A header that is none
 * (stream above 2, or padding that is not zero) ends it with NotMultiplexedError.
 */
export function createDemuxer() {
  let header = new Uint8Array(HEADER_SIZE);
  let headerFilled = 0;
  let stream: OutputFrame["stream"] = 1;
  let payloadLeft = 0;

  return function push(chunk: Uint8Array): OutputFrame[] {
    const frames: OutputFrame[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      if (payloadLeft > 0) {
        const take = Math.min(payloadLeft, chunk.length - offset);
        frames.push({ stream, data: chunk.subarray(offset, offset + take) });
        payloadLeft -= take;
        offset += take;
        continue;
      }
      const take = Math.min(HEADER_SIZE - headerFilled, chunk.length - offset);
      header.set(chunk.subarray(offset, offset + take), headerFilled);
      headerFilled += take;
      offset += take;
      if (headerFilled === HEADER_SIZE) {
        const kind = header[0]!;
        if (kind > 2 || header[1] !== 0 || header[2] !== 0 || header[3] !== 0) {
          throw new NotMultiplexedError(
            new Uint8Array([...header, ...chunk.subarray(offset, offset + NOT_FRAMES_KEPT)]),
          );
        }
        stream = kind === 0 || kind === 2 ? kind : 1;
        payloadLeft = new DataView(header.buffer).getUint32(4, false);
        headerFilled = 0;
        header = new Uint8Array(HEADER_SIZE);
      }
    }
    return frames;
  };
}

/** Demultiplexes a whole stream into frames as they arrive. */
export async function* demultiplex(body: ReadableStream<Uint8Array>): AsyncGenerator<OutputFrame> {
  const push = createDemuxer();
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      let frames: OutputFrame[];
      try {
        frames = push(value);
      } catch (error) {
        if (!(error instanceof NotMultiplexedError)) throw error;
        // The error names what the engine said: a little more of its text, if more came.
        let start = error.bodyStart;
        while (start.length < NOT_FRAMES_KEPT) {
          const more = await reader.read();
          if (more.done) break;
          start = new Uint8Array([...start, ...more.value]);
        }
        throw new NotMultiplexedError(start);
      }
      yield* frames;
    }
  } finally {
    // Stopped early (an error, or the consumer left): the rest of the body is not wanted.
    await reader.cancel().catch(() => undefined);
  }
}
