// Reading a file the user named without trusting what it is: a FIFO would block the read
// (and the open) forever, a device may never end. Only regular files are read.
import { accessSync, closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";

export class NotRegularFileError extends Error {
  override name = "NotRegularFileError";
  constructor(
    readonly path: string,
    readonly kind: string,
  ) {
    super(`${path}: not a regular file (${kind})`);
  }
}

/** A regular file larger than its reader takes. */
export class FileTooLargeError extends Error {
  override name = "FileTooLargeError";
  constructor(
    readonly path: string,
    readonly maxBytes: number,
  ) {
    super(`${path}: larger than ${maxBytes} bytes`);
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
    if (stats.size > maxBytes) throw new FileTooLargeError(path, maxBytes);
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

/**
 * readRegularFile for async code, with the same checks: the bytes of a regular file of at most
 * `maxBytes`; NotRegularFileError or FileTooLargeError otherwise.
 */
export async function readRegularFileAsync(path: string, maxBytes: number): Promise<Uint8Array> {
  const file = await openRegularFile(path);
  try {
    const { size } = await file.stat();
    if (size > maxBytes) throw new FileTooLargeError(path, maxBytes);
    const buffer = new Uint8Array(size);
    let offset = 0;
    while (offset < buffer.length) {
      const { bytesRead } = await file.read(buffer, offset, buffer.length - offset, offset);
      if (bytesRead === 0) break; // got shorter since the stat
      offset += bytesRead;
    }
    return buffer.subarray(0, offset);
  } finally {
    await file.close();
  }
}

/**
 * Opens a regular file for reading without blocking (a FIFO swapped in would wait for a
 * writer); anything else is closed again and a NotRegularFileError. `noFollow`: a symlink put
 * in its place fails too (ELOOP).
 */
export async function openRegularFile(
  path: string | Buffer,
  options: { noFollow?: boolean } = {},
): Promise<FileHandle> {
  const flags = constants.O_RDONLY | constants.O_NONBLOCK | (options.noFollow ? constants.O_NOFOLLOW : 0);
  const file = await open(path, flags);
  const stats = await file.stat().catch(async (error: unknown) => {
    await file.close();
    throw error;
  });
  if (!stats.isFile()) {
    await file.close();
    throw new NotRegularFileError(String(path), fileKindName(stats));
  }
  return file;
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
