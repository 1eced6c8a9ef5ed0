// Streams a scanned build context as a tar, with bounded memory.
import { Buffer } from "node:buffer";
import { pack, type Pack } from "tar-stream";
import { readChunks } from "./file-chunks.ts";
import { type BuildContext, type BuildContextOptions, type ContextEntry, scanBuildContext } from "./scan.ts";

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
  const packer = pack();
  const chunks = packer[Symbol.asyncIterator]();
  let started = false;

  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!started) {
          started = true;
          writeEntries(packer, context).then(
            () => packer.finalize(),
            (error: unknown) => packer.destroy(error instanceof Error ? error : new Error(String(error))),
          );
        }
        // Rejects with the producer's error, which errors this stream.
        const next = await chunks.next();
        if (next.done) controller.close();
        else controller.enqueue(next.value as Uint8Array);
      },
      cancel() {
        packer.destroy();
      },
    },
    // Pull only when the consumer asks: the tar packer's own buffer is the only read-ahead.
    { highWaterMark: 0 },
  );
}

async function writeEntries(packer: Pack, context: BuildContext): Promise<void> {
  for (const entry of context.entries) {
    if (packer.destroyed) return;
    await writeEntry(packer, context.dir, entry);
  }
}

function writeEntry(packer: Pack, root: string, entry: ContextEntry): Promise<void> {
  return new Promise((resolve, reject) => {
    // The callback runs once the entry is fully in the tar, or with the error that stopped it.
    const sink = packer.entry(tarHeader(entry), (error) => (error ? reject(error) : resolve()));
    // Without a listener an entry destroyed with an error would throw it as uncaught.
    sink.on("error", reject);
    // Directories and symlinks are complete with their header.
    if (entry.type !== "file") return;
    writeFileBody(sink, root, entry).then(
      () => sink.end(undefined),
      (error: unknown) => {
        reject(error);
        sink.destroy(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

type EntrySink = ReturnType<Pack["entry"]>;
type EntryHeader = Parameters<Pack["entry"]>[0];

async function writeFileBody(sink: EntrySink, root: string, entry: ContextEntry): Promise<void> {
  if (entry.content) return void sink.write(entry.content);
  // A fresh buffer per chunk: the packer keeps a reference until the consumer has read it.
  for await (const chunk of readChunks(root, entry, () => Buffer.allocUnsafe(CHUNK_BYTES))) {
    if (!sink.write(chunk)) await drained(sink);
  }
}

function drained(sink: EntrySink): Promise<void> {
  return new Promise((resolve, reject) => {
    if (sink.destroyed) return reject(new Error("tar stream closed"));
    const onDrain = () => {
      sink.off("close", onClose);
      resolve();
    };
    const onClose = () => {
      sink.off("drain", onDrain);
      reject(new Error("tar stream closed"));
    };
    sink.once("drain", onDrain);
    sink.once("close", onClose);
  });
}

function tarHeader(entry: ContextEntry): EntryHeader {
  const header: EntryHeader = {
    name: entry.type === "directory" ? `${entry.path}/` : entry.path,
    type: entry.type,
    mode: entry.mode,
    mtime: entry.mtime,
    uid: 0,
    gid: 0,
  };
  if (entry.type === "file") header.size = entry.size;
  if (entry.type === "symlink") header.linkname = entry.linkTarget;
  return header;
}
