// One entry of a build context: what the scan (scan.ts) finds and the hash (hash.ts), the
// chunked reads (file-chunks.ts) and the tar (tar.ts) read.
import type { FileStamp } from "./digest-cache.ts";

export interface ContextEntry {
  /**
   * Path inside the context: forward slashes, no leading `./`, no trailing `/`. Bytes that are
   * not UTF-8 are kept as U+DC80-U+DCFF (lib/raw-names.ts).
   */
  path: string;
  type: "file" | "directory" | "symlink";
  /** Permission bits, including setuid, setgid and sticky. */
  mode: number;
  mtime: Date;
  /** Bytes of a regular file; 0 for the other types. */
  size: number;
  /** Where a symlink points, as stored in the link (not followed). */
  linkTarget?: string;
  /** The bytes of a file that is not read from the context directory (a Dockerfile from outside it). */
  content?: Uint8Array;
  /**
   * In the tar only because the engine reads it there: a Dockerfile or ignore file the patterns
   * exclude, or a Dockerfile from outside the context. The engine's BuildKit leaves such files
   * in `COPY .`; buildx, reading the folder itself, does not.
   */
  onlyForEngine?: boolean;
  /** What the file system says of a regular file's version, for the digest cache. */
  stamp?: FileStamp;
}
