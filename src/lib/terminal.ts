// Whether a stream is a person's terminal. CI logs claim to be terminals at times, and
// redrawn status lines and colours only make them harder to read: CI counts as no terminal.
export function isInteractive(stream: { isTTY?: boolean } = process.stderr, env: Record<string, string | undefined> = process.env): boolean {
  return Boolean(stream.isTTY) && !env.CI;
}
