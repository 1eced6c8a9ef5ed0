// Reads a context file in chunks of exactly the size the scan found, for the hash and the tar.
import { openRegularFile } from "../../lib/regular-file.ts";
import { fsPathIn } from "../../lib/raw-names.ts";
import { escapeControls } from "../../lib/safe-text.ts";
import type { ContextEntry } from "./context-entry.ts";

/**
 * Yields exactly `entry.size` bytes of the file, one chunk at a time, in buffers from `nextBuffer`.
 * A file that is now shorter than when it was scanned is an error: the tar header already
 * promised its size.
 */
export async function* readChunks(
  root: string,
  entry: ContextEntry,
  nextBuffer: () => Uint8Array,
): AsyncGenerator<Uint8Array> {
  // Not a plain open: a FIFO or a symlink put in the file's place since the scan would block or lead elsewhere.
  const file = await openRegularFile(fsPathIn(root, entry.path), { noFollow: true }).catch((error: unknown) => {
    throw changedWhilePacking(entry, error);
  });
  try {
    let position = 0;
    while (position < entry.size) {
      const buffer = nextBuffer();
      const length = Math.min(buffer.byteLength, entry.size - position);
      const { bytesRead } = await file.read(buffer, 0, length, position);
      if (bytesRead === 0) throw changedWhilePacking(entry, new Error("file got shorter"));
      position += bytesRead;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await file.close();
  }
}

function changedWhilePacking(entry: ContextEntry, cause: unknown): Error {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new Error(`build context changed while packing: ${escapeControls(entry.path)}: ${reason}`, { cause });
}
