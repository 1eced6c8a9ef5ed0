// The whole log of one build, written line by line as it happens (so it is complete up to
// the moment of a crash or Ctrl-C), with the last lines kept in memory for the error report.
import { closeSync, constants, fstatSync, mkdirSync, openSync, statSync, writeSync } from "node:fs";
import path from "node:path";
import { UsageError } from "../core/errors.ts";
import { stateDir } from "../core/state-dir.ts";
import { fileKindName } from "../lib/regular-file.ts";
import { escapeControls, withoutEscapes } from "../lib/safe-text.ts";

/** Lines shown again when a build fails. */
export const TAIL_LINES = 20;

export interface BuildLog {
  readonly path: string;
  /** A line of build output; escape sequences are dropped, control characters shown as escapes. */
  write(line: string): void;
  /** A line of the tool's own ("# ..."), such as the header; not part of the tail. Always one line. */
  note(text: string): void;
  /** The last TAIL_LINES lines written. */
  tail(): string[];
  close(): void;
}

/** `<state dir>/builds/<UTC time>-<first tag, made file-safe>.log` */
export function defaultLogPath(
  tag: string,
  now = new Date(),
  env: Record<string, string | undefined> = process.env,
): string {
  // 2026-05-07T12:01:02.345Z -> 20260507T120102.345Z: sorts by time, no colons for other filesystems.
  const time = now.toISOString().replace(/[-:]/g, "");
  const name = tag.replace(/[^A-Za-z0-9._-]+/g, "_").slice(0, 100);
  return path.join(stateDir(env), "builds", `${time}-${name}.log`);
}

/**
 * Opens the log. A default path never overwrites an earlier log (two builds of one tag in
 * the same millisecond get "-2"), and its folder is made; a path the user chose is
 * overwritten, in a folder that must exist (a typo must not leave folders behind), and must be
 * a regular file: a FIFO would block every write (and its open) with nobody reading. A new file
 * is the user's alone (0600): a build's output may show what a step printed of its secrets. A
 * file that exists keeps its mode, as with a shell's `>`.
 */
export function openBuildLog(file: string, options: { exclusive: boolean }): BuildLog {
  if (options.exclusive) mkdirSync(path.dirname(file), { recursive: true });
  let chosen = file;
  let fd: number | undefined;
  for (let attempt = 2; fd === undefined; attempt++) {
    try {
      fd = openLogFile(chosen, options.exclusive);
    } catch (error) {
      if (!options.exclusive || (error as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 100) throw error;
      chosen = `${file.replace(/\.log$/, "")}-${attempt}.log`;
    }
  }
  const descriptor = fd;
  const lines: string[] = [];
  let open = true;
  // Synchronous and unbuffered: the file is whole whenever the process stops.
  const append = (text: string) => open && writeSync(descriptor, `${text}\n`);
  return {
    path: chosen,
    write(line) {
      // Build output: colours and cursor moves dropped, other control characters shown. A line
      // that looks like one of our notes ("# via: …": buildx prints a step whose build argument
      // holds a newline on two lines) is indented: the header cannot be forged from inside.
      const plain = withoutEscapes(line);
      const safe = plain.startsWith("# ") || plain === "#" ? `  ${plain}` : plain;
      lines.push(safe);
      if (lines.length > TAIL_LINES) lines.shift();
      append(safe);
    },
    // A newline in a build argument, a label or a path must not start a line of its own: it
    // could forge a "# …" header line. Every control character is shown as an escape.
    note: (text) => append(`# ${escapeControls(text)}`),
    tail: () => [...lines],
    close() {
      if (!open) return;
      open = false;
      closeSync(descriptor);
    },
  };
}

/** Opens (creates or truncates) a regular file for writing without ever blocking; anything else is a UsageError. */
function openLogFile(file: string, exclusive: boolean): number {
  // O_NONBLOCK: opening a FIFO for writing would otherwise wait for a reader, deaf to signals.
  const flags =
    constants.O_WRONLY |
    constants.O_CREAT |
    constants.O_TRUNC |
    constants.O_NONBLOCK |
    (exclusive ? constants.O_EXCL : 0);
  let fd: number;
  try {
    fd = openSync(file, flags, 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT")
      throw new UsageError(`build log ${file}: the folder ${path.dirname(file)} does not exist; create it first`);
    // A FIFO without a reader refuses a non-blocking open for writing; a device may too.
    if (code === "ENXIO") throw notRegular(file, kindOf(file));
    throw error;
  }
  const stats = fstatSync(fd);
  if (!stats.isFile()) {
    closeSync(fd);
    throw notRegular(file, fileKindName(stats));
  }
  return fd;
}

function kindOf(file: string): string {
  try {
    return fileKindName(statSync(file));
  } catch {
    return "an unknown kind of file";
  }
}

function notRegular(file: string, kind: string): UsageError {
  return new UsageError(`build log ${file} is ${kind}, not a regular file; choose a file for --log-file`);
}
