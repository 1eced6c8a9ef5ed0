// Content digests of context files, remembered from one build to the next by what the file
// system says of each file (device, inode, size, modification and change times in ns), the way
// git's index avoids re-reading files that did not change. A build of an unchanged context then
// reads each file once, to send it; only new or changed files are read a second time for the
// context hash. Any write to a file changes its change time (which no program can set back), so
// a remembered digest is only used for a file that was not written since. A file changed in the
// last two seconds is never remembered: some file systems keep coarse times, and a second write
// within the same tick would look unchanged (git's "racy" files).
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { readRegularFile } from "../../lib/regular-file.ts";

/** How recent a change keeps a file's digest from being remembered. */
const RACY_MS = 2_000;
/** The largest cache read (about 200 bytes a file: a context of 300,000 files); a larger one is ignored. */
const MAX_CACHE_BYTES = 64 * 1024 * 1024;

/** What identifies one version of a file without reading it. */
export interface FileStamp {
  /** device, inode, size, mtime and ctime in ns */
  key: string;
  /** the later of mtime and ctime, in ms since the epoch */
  changedMs: number;
}

export interface DigestCache {
  /** The remembered digest (hex) of the file at `path` when its stamp is unchanged. */
  get(path: string, stamp: FileStamp): string | undefined;
  /** Remembers a digest read just now; a file changed too recently is not remembered. */
  set(path: string, stamp: FileStamp, digest: string): void;
  /** Writes what this build saw (files no longer in the context are forgotten). Best effort. */
  save(): void;
}

interface Stored {
  v: 1;
  files: Record<string, [string, string]>;
}

export function openDigestCache(file: string, options: { now?: number } = {}): DigestCache {
  const now = options.now ?? Date.now();
  let known: Record<string, [string, string]> = {};
  try {
    const parsed = JSON.parse(new TextDecoder().decode(readRegularFile(file, MAX_CACHE_BYTES))) as Stored;
    if (parsed?.v === 1 && parsed.files && typeof parsed.files === "object") known = parsed.files;
  } catch {
    // none yet, or unreadable: every file is read
  }
  const seen: Record<string, [string, string]> = {};
  let changed = false;
  return {
    get(path, stamp) {
      const entry = seen[path] ?? known[path];
      if (!Array.isArray(entry) || entry[0] !== stamp.key || typeof entry[1] !== "string") return undefined;
      seen[path] = entry;
      return entry[1];
    },
    set(path, stamp, digest) {
      changed = true;
      if (stamp.changedMs > now - RACY_MS) return;
      seen[path] = [stamp.key, digest];
    },
    save() {
      if (!changed && Object.keys(seen).length === Object.keys(known).length) return;
      try {
        mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
        const temp = `${file}.${process.pid}.tmp`;
        writeFileSync(temp, JSON.stringify({ v: 1, files: seen } satisfies Stored), { mode: 0o600 });
        renameSync(temp, file);
      } catch {
        // Only the next build's speed depends on it.
      }
    },
  };
}
