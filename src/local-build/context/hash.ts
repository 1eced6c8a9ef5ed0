// The context hash: sha256 over every entry's path, type, mode, symlink target and content,
// in entry order. Modification times are left out, so touching a file does not change it.
import { type Hash, createHash } from "node:crypto";
import { bytesOfName } from "../../lib/raw-names.ts";
import { readChunks } from "./file-chunks.ts";
import type { ContextEntry } from "./scan.ts";

/** Hashing reuses one buffer, so it can afford bigger reads (fewer calls for a large file). */
const HASH_CHUNK_BYTES = 1024 * 1024;


export async function hashEntries(root: string, entries: ContextEntry[]): Promise<string> {
  const hash = createHash("sha256");
  const buffer = new Uint8Array(HASH_CHUNK_BYTES);
  for (const entry of entries) {
    // NUL cannot occur in a path, so these fields cannot run into each other.
    // Paths as their bytes: the same as their UTF-8 for names that are UTF-8.
    hash.update(`${entry.type}\0`);
    hash.update(bytesOfName(entry.path));
    hash.update(`\0${entry.mode.toString(8)}\0`);
    if (entry.type === "symlink") {
      hash.update(bytesOfName(entry.linkTarget!));
      hash.update("\0");
    }
    if (entry.type === "file") {
      hash.update(`${entry.size}\0`);
      await hashFile(hash, root, entry, buffer);
    }
  }
  return `sha256:${hash.digest("hex")}`;
}

async function hashFile(hash: Hash, root: string, entry: ContextEntry, buffer: Uint8Array): Promise<void> {
  if (entry.content) return void hash.update(entry.content);
  // The hash copies what it is given, so one buffer serves every read.
  for await (const chunk of readChunks(root, entry, () => buffer)) hash.update(chunk);
}
