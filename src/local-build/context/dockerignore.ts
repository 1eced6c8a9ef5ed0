// .dockerignore as the docker CLI and BuildKit apply it: which paths of the context are sent.
import path from "node:path";
import ignore, { type Ignore } from "@balena/dockerignore";
import { UsageError } from "../../core/errors.ts";
import { nameFromBytes } from "../../lib/raw-names.ts";
import { FileTooLargeError, NotRegularFileError, readRegularFileAsync } from "../../lib/regular-file.ts";
import { sizeInWords } from "../../lib/text.ts";

/** The largest ignore file read (docs/builds.md). */
const MAX_IGNORE_FILE_BYTES = 4 * 1024 * 1024;

export interface IgnoreRules {
  matcher: Ignore;
  /** The `!` patterns, cleaned, to decide whether an excluded directory must still be walked. */
  exceptions: string[];
  /** Sent whatever the patterns say: the Dockerfile and the ignore files, as the docker CLI does. */
  alwaysSent: Set<string>;
  file?: string;
}

/**
 * `<Dockerfile>.dockerignore` next to the Dockerfile wins over the context's `.dockerignore`,
 * as in BuildKit; without either, nothing is excluded.
 */
export async function loadIgnoreRules(dir: string, dockerfile: string): Promise<IgnoreRules> {
  const candidates = [`${dockerfile}.dockerignore`, ".dockerignore"];
  const alwaysSent = new Set([dockerfile, ...candidates]);
  // Docker matches case-sensitively; the library defaults to case-insensitive.
  const matcher = ignore({ ignorecase: false });
  for (const candidate of candidates) {
    const bytes = await readIgnoreFile(path.join(dir, candidate));
    if (bytes === undefined) continue;
    // Decoded like the names it is matched against: a pattern's bytes that are not UTF-8 match the same bytes in a name.
    const text = nameFromBytes(bytes);
    const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
    matcher.add(lines);
    return { matcher, exceptions: exceptionPatterns(lines), alwaysSent, file: candidate };
  }
  return { matcher, exceptions: [], alwaysSent };
}

/** An ignore file's bytes; undefined when there is none (or it cannot be read, as the docker CLI skips it). */
async function readIgnoreFile(file: string): Promise<Uint8Array | undefined> {
  try {
    return await readRegularFileAsync(file, MAX_IGNORE_FILE_BYTES);
  } catch (error) {
    // A FIFO would block the read, a device never end: said, not skipped (what to send depends on it).
    if (error instanceof NotRegularFileError) throw new UsageError(`${file} is ${error.kind}, not a regular file`);
    if (error instanceof FileTooLargeError)
      throw new UsageError(`${file} is larger than ${sizeInWords(MAX_IGNORE_FILE_BYTES)}`);
    return undefined;
  }
}

function exceptionPatterns(lines: string[]): string[] {
  const patterns: string[] = [];
  for (const raw of lines) {
    if (raw.startsWith("#")) continue;
    const line = raw.trim();
    if (!line.startsWith("!")) continue;
    const pattern = path.posix.normalize(line.slice(1).trim()).replace(/^\/+/, "").replace(/\/+$/, "");
    if (pattern && pattern !== ".") patterns.push(pattern);
  }
  return patterns;
}

/**
 * Whether anything inside the excluded directory `dir` could still be sent. Errs on the side of
 * walking: each path found is checked against the full rules anyway, so an extra walk only costs
 * time. Compares the literal part of each exception (up to its first wildcard) with the directory.
 */
export function mayReincludeInside(rules: IgnoreRules, dir: string): boolean {
  const prefix = `${dir}/`;
  for (const sent of rules.alwaysSent) if (sent.startsWith(prefix)) return true;
  const depth = dir.split("/").length;
  return rules.exceptions.some((pattern) => {
    // Without `**` a pattern of n segments only matches paths (or their parents) n deep.
    if (!pattern.includes("**") && pattern.split("/").length <= depth) return false;
    const wildcard = pattern.search(/[*?[\\]/);
    const literal = wildcard === -1 ? pattern : pattern.slice(0, wildcard);
    return literal.startsWith(prefix) || prefix.startsWith(literal);
  });
}

export function isSent(rules: IgnoreRules, relPath: string): boolean {
  return rules.alwaysSent.has(relPath) || !rules.matcher.ignores(relPath);
}

/**
 * Sent although the patterns exclude it: the Dockerfile or an ignore file, which the engine
 * must read from the context. A builder that reads the folder itself (buildx) leaves it out.
 */
export function isSentOnlyForEngine(rules: IgnoreRules, relPath: string): boolean {
  return rules.alwaysSent.has(relPath) && rules.matcher.ignores(relPath);
}
