// Container logs of a container without a TTY come multiplexed: each frame is an
// 8-byte header [stream, 0, 0, 0, size (uint32 big-endian)] then `size` bytes.
// Stream 1 is stdout, 2 is stderr (0 is stdin, echoed only when attached).
export interface OutputFrame {
  stream: 0 | 1 | 2;
  data: Uint8Array;
}

const HEADER_SIZE = 8;

/**
 * A stateful demuxer: feed chunks as they arrive, get whole frames back. Headers and
 * payloads may be split across chunks at any byte; a large payload is handed out in
 * pieces as it arrives, so memory stays bounded by the chunk size.
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
  for await (const chunk of body) yield* push(chunk);
}
