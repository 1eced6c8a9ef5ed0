// What a version.sh answered: the first non-empty line of stdout, trimmed, if it is a
// version at all. Script output is untrusted: a version is one line of printable text of
// bounded length, and anything else is refused with the reason, never recorded.
import { hasUnsafeChars, neutralise } from "../lib/safe-text.ts";

/** The longest version line accepted, in characters. */
export const MAX_VERSION_LENGTH = 256;
/** How much of a refused line the reason quotes. */
const QUOTE_LENGTH = 40;

export type VersionAnswer = { version: string } | { refused: string } | { none: true };

/** `cut`: stdout was longer than what was kept, so its last line may be incomplete. */
export function versionFromOutput(stdout: string, cut = false): VersionAnswer {
  let offset = 0;
  for (const line of stdout.split("\n")) {
    const end = offset + line.length;
    offset = end + 1;
    const trimmed = line.trim();
    if (!trimmed) continue;
    // The line ran into the end of what was kept: what was printed went on past it.
    if (cut && end >= stdout.length)
      return { refused: `its first line was cut off after ${trimmed.length} characters` };
    return judge(trimmed);
  }
  return { none: true };
}

function judge(line: string): VersionAnswer {
  const quoted = () => `"${neutralise(line.length > QUOTE_LENGTH ? `${line.slice(0, QUOTE_LENGTH)}…` : line)}"`;
  if (line.length > MAX_VERSION_LENGTH)
    return {
      refused: `its first line is ${line.length} characters long, more than the ${MAX_VERSION_LENGTH} a version may have`,
    };
  if (line.includes("\uFFFD")) return { refused: `its first line is not UTF-8 text: ${quoted()}` };
  if (hasUnsafeChars(line))
    return { refused: `its first line holds control characters or escape sequences: ${quoted()}` };
  return { version: line };
}

/** The last few lines of stderr, for a one-line failure reason; made safe to print. */
export function stderrTail(stderr: string, lines = 3, maxLength = 300): string {
  const tail = stderr
    .split("\n")
    .map((line) => neutralise(line.trim()))
    .filter(Boolean)
    .slice(-lines)
    .join(" | ");
  return tail.length > maxLength ? `…${tail.slice(-maxLength)}` : tail;
}

/** Scripts from Windows checkouts end lines with CRLF; bash chokes on the CRs. */
export function hasCrlf(content: Uint8Array): boolean {
  return content.includes(13);
}

/**
 * The bash argument vector for a script. A script with CRLF line endings is read with
 * the CRs stripped (the user's file is never rewritten), and $0 stays the script path
 * so scripts that look next to themselves still work.
 */
export function bashArgs(scriptPath: string, crlf: boolean): string[] {
  if (!crlf) return ["bash", scriptPath];
  return ["bash", "-c", 'eval "$(sed \'s/\\r$//\' "$0")"', scriptPath];
}
