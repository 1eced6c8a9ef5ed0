// Whether a stream is a person's terminal. CI logs claim to be terminals at times, and
// redrawn status lines and colours only make them harder to read: CI counts as no terminal.
export function isInteractive(
  stream: { isTTY?: boolean } = process.stderr,
  env: Record<string, string | undefined> = process.env,
): boolean {
  return Boolean(stream.isTTY) && !env.CI;
}

/**
 * Whether a line may be redrawn in place there (`\r`, erase line) and styled: a person's
 * terminal that is not TERM=dumb, which shows such escapes as they are.
 */
export function takesCursorMoves(
  stream: { isTTY?: boolean } = process.stderr,
  env: Record<string, string | undefined> = process.env,
): boolean {
  return isInteractive(stream, env) && env.TERM !== "dumb";
}

/** The terminal's width in columns; undefined when it does not say (a pty reports 0 until set). */
export function terminalColumns(stream: { columns?: number } = process.stderr): number | undefined {
  return stream.columns && stream.columns > 0 ? stream.columns : undefined;
}
