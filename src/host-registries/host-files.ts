// The few file operations reading the host's registry set-up needs, behind an interface
// so tests can lay out a whole host (its /etc too) under a temporary folder.
import {
  accessSync,
  closeSync,
  constants,
  fstatSync,
  openSync,
  readSync,
  readdirSync,
  realpathSync,
  statSync,
} from "node:fs";

export interface HostFiles {
  /**
   * The first `maxBytes` bytes of a regular file, `truncated` when it is longer; null
   * when the path does not exist. Throws (with the errno code) when it cannot be read.
   */
  read(path: string, maxBytes: number): { bytes: Uint8Array; truncated: boolean } | null;
  /** Names in a folder, sorted; null when it does not exist or is no folder. */
  list(path: string): string[] | null;
  /** The path with every symlink resolved; null when it does not exist. */
  realpath(path: string): string | null;
  isExecutableFile(path: string): boolean;
  isDirectory(path: string): boolean;
}

const missing = (error: unknown) => ["ENOENT", "ENOTDIR"].includes((error as NodeJS.ErrnoException).code ?? "");

export const realHostFiles: HostFiles = {
  read(path, maxBytes) {
    let fd: number;
    try {
      fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK); // a FIFO must not block
    } catch (error) {
      if (missing(error)) return null;
      throw error;
    }
    try {
      const stat = fstatSync(fd);
      if (!stat.isFile()) throw Object.assign(new Error(`${path} is not a regular file`), { code: "ENOTFILE" });
      const size = Math.min(stat.size, maxBytes);
      const buffer = Buffer.alloc(size);
      let offset = 0;
      while (offset < size) {
        const n = readSync(fd, buffer, offset, size - offset, offset);
        if (n === 0) break;
        offset += n;
      }
      return { bytes: new Uint8Array(buffer.buffer, buffer.byteOffset, offset), truncated: stat.size > maxBytes };
    } finally {
      closeSync(fd);
    }
  },
  list(path) {
    try {
      return readdirSync(path).sort();
    } catch (error) {
      if (missing(error) || (error as NodeJS.ErrnoException).code === "ENOTDIR") return null;
      throw error;
    }
  },
  realpath(path) {
    try {
      return realpathSync(path);
    } catch {
      return null;
    }
  },
  isExecutableFile(path) {
    try {
      if (!statSync(path).isFile()) return false;
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  },
  isDirectory(path) {
    try {
      return statSync(path).isDirectory();
    } catch {
      return false;
    }
  },
};

/** A short reason for a failed read, for a notice: the errno code when there is one. */
export function readFailure(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "ENOTFILE") return "not a regular file";
  if (code === "EISDIR") return "a folder, not a file";
  return code ?? "unreadable";
}
