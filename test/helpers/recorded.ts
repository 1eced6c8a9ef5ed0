// Real bytes recorded from Docker Engine 20.10 (see test/fixtures/recorded/README.md).
import { readFileSync } from "node:fs";
import { join } from "node:path";

export function recorded(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(import.meta.dir, "..", "fixtures", "recorded", name)));
}

/** Cuts bytes into chunks at the given sizes, cycling, to split frames at awkward places. */
export function chunked(bytes: Uint8Array, sizes: number[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (let i = 0; offset < bytes.length; i++) {
    const size = sizes[i % sizes.length]!;
    chunks.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  return chunks;
}

export function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
}
