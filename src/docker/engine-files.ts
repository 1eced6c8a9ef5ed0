// The files the engine's settings live in (the docker config.json, a context's meta.json, the
// TLS certificates), read only when they are regular files of a sane size: a FIFO there would
// block the read for good (Ctrl-C and SIGTERM included), /dev/zero would grow it without end.
import { readRegularFile } from "../lib/regular-file.ts";

/** Far above any real config.json, meta.json or PEM bundle (the whole Mozilla CA set is ~220 KiB). */
export const ENGINE_FILE_MAX_BYTES = 1024 * 1024;

/** A file that is there but that this client will not read: not a regular file, or too large. */
export class RefusedEngineFileError extends Error {
  override name = "RefusedEngineFileError";
}

/**
 * The file's text; undefined when it does not exist. Throws RefusedEngineFileError, its message
 * naming the path and why, for what is not a regular file or is larger than the cap, and the
 * system's error (EACCES...) for what cannot be opened.
 */
export function readEngineFile(path: string): string | undefined {
  let bytes: Uint8Array;
  try {
    bytes = readRegularFile(path, ENGINE_FILE_MAX_BYTES);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    // readRegularFile's own refusals carry no system code.
    if ((error as NodeJS.ErrnoException).code === undefined) {
      const kind = /not a regular file \((.+)\)$/.exec((error as Error).message)?.[1];
      throw new RefusedEngineFileError(
        kind
          ? `${path} is ${kind}, not a regular file`
          : `${path} is larger than ${ENGINE_FILE_MAX_BYTES / 1024 / 1024} MiB`,
      );
    }
    throw error;
  }
  return new TextDecoder().decode(bytes);
}
