// The context hash: sha256 over every entry's path, type, mode, symlink target and the sha256
// of its content, in entry order. Modification times are left out, so touching a file does not
// change it. A file's content digest comes from the digest cache when the file is unchanged
// since the last build (digest-cache.ts), so an unchanged context is read once, to send it.
import { type Hash, createHash } from "node:crypto";
import { bytesOfName } from "../../lib/raw-names.ts";
import type { DigestCache } from "./digest-cache.ts";
import { readChunks } from "./file-chunks.ts";
import type { ContextEntry } from "./context-entry.ts";

/** Hashing reuses one buffer, so it can afford bigger reads (fewer calls for a large file). */
const HASH_CHUNK_BYTES = 1024 * 1024;

export async function hashEntries(root: string, entries: ContextEntry[], cache?: DigestCache): Promise<string> {
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
      hash.update(await fileDigest(root, entry, buffer, cache));
      hash.update("\0");
    }
  }
  return `sha256:${hash.digest("hex")}`;
}

/** The sha256 (hex) of a file's content: remembered, or read now. */
async function fileDigest(root: string, entry: ContextEntry, buffer: Uint8Array, cache?: DigestCache): Promise<string> {
  if (entry.content) return createHash("sha256").update(entry.content).digest("hex");
  const remembered = entry.stamp && cache?.get(entry.path, entry.stamp);
  if (remembered) return remembered;
  const hash: Hash = createHash("sha256");
  // The hash copies what it is given, so one buffer serves every read.
  for await (const chunk of readChunks(root, entry, () => buffer)) hash.update(chunk);
  const digest = hash.digest("hex");
  if (entry.stamp) cache?.set(entry.path, entry.stamp, digest);
  return digest;
}
