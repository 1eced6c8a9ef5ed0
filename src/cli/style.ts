// Colour and styling, only where a person reads a terminal: always with FORCE_COLOR (any
// value but empty, 0 or false), never with NO_COLOR (any value but empty), otherwise when the
// stream is a terminal that is not TERM=dumb and not a CI log (lib/terminal.ts). Without
// FORCE_COLOR, escape codes never reach a pipe or a file.
import { takesCursorMoves } from "../lib/terminal.ts";

type Env = Record<string, string | undefined>;

export function colourEnabled(stream: { isTTY?: boolean } = process.stdout, env: Env = process.env): boolean {
  const force = env.FORCE_COLOR;
  if (force && force !== "0" && force !== "false") return true;
  if (env.NO_COLOR) return false;
  return takesCursorMoves(stream, env);
}

export interface Style {
  bold(text: string): string;
  dim(text: string): string;
  accent(text: string): string;
}

const sgr = (on: number, off: number) => (text: string) => `\x1b[${on}m${text}\x1b[${off}m`;
const plain = (text: string) => text;

function createStyle(enabled: boolean): Style {
  return enabled ? { bold: sgr(1, 22), dim: sgr(2, 22), accent: sgr(36, 39) } : { bold: plain, dim: plain, accent: plain };
}

/** The style for text written to `stream`. */
export function styleFor(stream: { isTTY?: boolean } = process.stdout, env: Env = process.env): Style {
  return createStyle(colourEnabled(stream, env));
}
