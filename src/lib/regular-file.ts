// Reading a file the user named without trusting what it is: a FIFO would block the read
// (and the open) forever, a device may never end. Only regular files are read.
import { accessSync, closeSync, constants, fstatSync, openSync, readSync } from "node:fs";

class NotRegularFileError extends Error {
  override name = "NotRegularFileError";
  constructor(
    readonly path: string,
    readonly kind: string,
  ) {
    super(`${path}: not a regular file (${kind})`);
  }
}

/** What a file is, in words, from its stat mode. */
export function fileKindName(stats: {
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
}): string {
  if (stats.isFile()) return "a regular file";
  if (stats.isDirectory()) return "a folder";
  if (stats.isSymbolicLink()) return "a symlink";
  if (stats.isFIFO()) return "a FIFO";
  if (stats.isSocket()) return "a socket";
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isBlockDevice()) return "a block device";
  return "an unknown kind of file";
}

/**
 * Reads a regular file whole. Opens without blocking (a FIFO put there after a check would
 * otherwise wait for a writer), then checks what was opened. Throws NotRegularFileError for
 * anything else, and an Error when the file is larger than `maxBytes`.
 */
export function readRegularFile(path: string, maxBytes: number): Uint8Array {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new NotRegularFileError(path, fileKindName(stats));
    if (stats.size > maxBytes) throw new Error(`${path}: larger than ${maxBytes} bytes`);
    const buffer = new Uint8Array(stats.size);
    let offset = 0;
    while (offset < buffer.length) {
      const read = readSync(fd, buffer, offset, buffer.length - offset, offset);
      if (read === 0) break; // got shorter since the stat
      offset += read;
    }
    return buffer.subarray(0, offset);
  } finally {
    closeSync(fd);
  }
}

/** Whether this process may read the file (permissions, not existence alone). */
export function isReadable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}
