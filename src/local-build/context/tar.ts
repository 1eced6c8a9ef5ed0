// Streams a scanned build context as a tar, with bounded memory. Names travel as the bytes
// they are on disk (lib/raw-names.ts, lib/tar-header.ts): a file name that is not UTF-8 reaches
// the engine unchanged.
import { Buffer } from "node:buffer";
import { bytesOfName } from "../../lib/raw-names.ts";
import { endOfArchive, padding, tarHeader } from "../../lib/tar-header.ts";
import { readChunks } from "./file-chunks.ts";
import type { ContextEntry } from "./context-entry.ts";
import { type BuildContext, type BuildContextOptions, scanBuildContext } from "./scan.ts";

/** Reads files in chunks of this size: large enough for throughput, small enough to stay bounded. */
const CHUNK_BYTES = 64 * 1024;

/** Scans the context and returns a tar stream of it, ready to be a fetch body. */
export async function packBuildContext(
  opts: BuildContextOptions,
): Promise<BuildContext & { stream: ReadableStream<Uint8Array> }> {
  const context = await scanBuildContext(opts);
  return { ...context, stream: tarBuildContext(context) };
}

/**
 * Streams the scanned entries as a tar. Nothing is read until the consumer pulls, and each file
 * is read a chunk at a time only as fast as the consumer takes the tar, so memory stays bounded
 * whatever the size of the context. Cancelling the stream stops the reading.
 */
export function tarBuildContext(context: BuildContext): ReadableStream<Uint8Array> {
  const pieces = tarPieces(context);
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        // Rejects with the reading's error (a file that changed), which errors this stream.
        const next = await pieces.next();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
      async cancel() {
        await pieces.return(undefined);
      },
    },
    // Pull only when the consumer asks: no read-ahead.
    { highWaterMark: 0 },
  );
}

async function* tarPieces(context: BuildContext): AsyncGenerator<Uint8Array> {
  for (const entry of context.entries) {
    yield tarHeader(headerFields(entry));
    if (entry.type !== "file") continue;
    if (entry.content) yield entry.content;
    // A fresh buffer per chunk: the consumer may still hold the last one.
    else yield* readChunks(context.dir, entry, () => Buffer.allocUnsafe(CHUNK_BYTES));
    if (entry.size % 512 !== 0) yield padding(entry.size);
  }
  yield endOfArchive();
}

function headerFields(entry: ContextEntry): Parameters<typeof tarHeader>[0] {
  return {
    name: bytesOfName(entry.type === "directory" ? `${entry.path}/` : entry.path),
    type: entry.type,
    mode: entry.mode,
    size: entry.type === "file" ? entry.size : 0,
    mtime: entry.mtime,
    linkname: entry.linkTarget === undefined ? undefined : bytesOfName(entry.linkTarget),
  };
}
