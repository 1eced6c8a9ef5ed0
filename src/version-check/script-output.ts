// What a version.sh answered: the first non-empty line of stdout, trimmed.
export function versionFromOutput(stdout: string): string | null {
  for (const line of stdout.split("\n")) {
    const trimmed = line.trim();
    if (trimmed) return trimmed;
  }
  return null;
}

/** The last few lines of stderr, for a one-line failure reason. */
export function stderrTail(stderr: string, lines = 3, maxLength = 300): string {
  const tail = stderr
    .split("\n")
    .map((line) => line.trim())
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
