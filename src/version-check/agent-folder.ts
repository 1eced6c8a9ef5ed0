// What of an agent folder is copied into the check container, found before anything runs.
// The copy goes through the Engine API (the engine may not see this machine's files), so it
// is bounded: a folder with a 2 GB file must not be sent. Symlinks are copied as symlinks,
// never followed: one pointing out of the folder cannot bring a host file along. FIFOs,
// sockets and devices have no copy (reading one may never end): they are bad input.
import { type Stats, lstatSync, readdirSync, readlinkSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileKindName, isReadable } from "../lib/regular-file.ts";
import { neutralise } from "../lib/safe-text.ts";

/** The most of one agent folder copied into the container: its files plus a 512-byte tar header each. */
export const COPY_LIMIT_BYTES = 16 * 1024 * 1024;
const TAR_HEADER_BYTES = 512;

export interface FolderEntry {
  /** Path inside the folder, forward slashes. */
  path: string;
  /** Absolute path on this machine, where the bytes are read from. */
  source: string;
  type: "file" | "directory" | "symlink";
  /** Read through a symlink: only the script is. */
  follow: boolean;
  /** Any execute bit set on this machine. */
  executable: boolean;
  size: number;
  linkTarget?: string;
}

export interface AgentFolder {
  dir: string;
  entries: FolderEntry[];
  /** Bytes the copy takes (files rounded up to tar blocks, plus headers); past the limit: stopped counting. */
  bytes: number;
  /** More than COPY_LIMIT_BYTES: the folder is not copied. */
  tooBig: boolean;
  /** Bad input found inside the folder, one line each. */
  problems: string[];
}

/**
 * Walks an agent folder: every entry, sorted, parents before children. The script itself may
 * be a symlink (the user named it; its bytes are what runs): it is copied as the file it points
 * to. The walk stops once the folder is known to be too big.
 */
export function scanAgentFolder(dir: string, scriptName: string): AgentFolder {
  const folder: AgentFolder = { dir, entries: [], bytes: 0, tooBig: false, problems: [] };
  walk(folder, "", scriptName);
  return folder;
}

function walk(folder: AgentFolder, relDir: string, scriptName: string): void {
  const absDir = relDir ? join(folder.dir, relDir) : folder.dir;
  let names: Buffer[];
  try {
    names = readdirSync(absDir, { encoding: "buffer" }).sort(Buffer.compare);
  } catch (error) {
    folder.problems.push(
      `${neutralise(absDir)}: cannot read the folder (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
    return;
  }
  for (const raw of names) {
    if (folder.tooBig) return;
    const name = utf8(raw);
    if (name === undefined) {
      folder.problems.push(
        `${neutralise(absDir)}: holds a file name that is not UTF-8 text (${neutralise(raw.toString("latin1"))}); rename it`,
      );
      continue;
    }
    const relPath = relDir ? `${relDir}/${name}` : name;
    const source = join(folder.dir, relPath);
    const isScript = relPath === scriptName;
    let info: Stats;
    try {
      // The script is followed (it is what runs); everything else is looked at, not through.
      info = isScript ? statSync(source) : lstatSync(source);
    } catch (error) {
      folder.problems.push(
        `${neutralise(source)}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
      continue;
    }
    const base = { path: relPath, source, follow: isScript, executable: (info.mode & 0o111) !== 0 };
    if (info.isDirectory()) {
      add(folder, { ...base, type: "directory", size: 0 });
      walk(folder, relPath, scriptName);
    } else if (info.isFile()) {
      if (!isReadable(source)) folder.problems.push(`${neutralise(source)}: not readable (check its permissions)`);
      else add(folder, { ...base, type: "file", size: info.size });
    } else if (info.isSymbolicLink()) {
      add(folder, { ...base, type: "symlink", size: 0, linkTarget: readlinkSync(source) });
    } else {
      folder.problems.push(
        `${neutralise(source)}: ${fileKindName(info)} in an agent folder cannot be copied into the container; move it out`,
      );
    }
  }
}

function add(folder: AgentFolder, entry: FolderEntry): void {
  folder.bytes += TAR_HEADER_BYTES + Math.ceil(entry.size / TAR_HEADER_BYTES) * TAR_HEADER_BYTES;
  if (folder.bytes > COPY_LIMIT_BYTES) {
    // Not copied, so neither its entries nor what is wrong with them matter any more.
    folder.tooBig = true;
    folder.entries = [];
    folder.problems = [];
    return;
  }
  folder.entries.push(entry);
}

function utf8(raw: Buffer): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(raw);
  } catch {
    return undefined;
  }
}
