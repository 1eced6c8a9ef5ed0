// Colour and styling, only where a person reads a terminal: always with FORCE_COLOR (any
// value but empty, 0 or false), even with NO_COLOR; never with NO_COLOR (any value but empty,
// as no-color.org says); otherwise when the stream is a terminal that is not TERM=dumb and not
// a CI log (lib/terminal.ts). Without FORCE_COLOR, escape codes never reach a pipe or a file.
// The one decision for everything styled: help, live lines and log lines (cli/output.ts).
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
  /** The tags of log lines: [error], [warn], [success]. */
  failure(text: string): string;
  warning(text: string): string;
  success(text: string): string;
}

const sgr = (on: number, off: number) => (text: string) => `\x1b[${on}m${text}\x1b[${off}m`;
const plain = (text: string) => text;

function createStyle(enabled: boolean): Style {
  return enabled
    ? {
        bold: sgr(1, 22),
        dim: sgr(2, 22),
        accent: sgr(36, 39),
        failure: sgr(31, 39),
        warning: sgr(33, 39),
        success: sgr(32, 39),
      }
    : { bold: plain, dim: plain, accent: plain, failure: plain, warning: plain, success: plain };
}

/** The style for text written to `stream`. */
export function styleFor(stream: { isTTY?: boolean } = process.stdout, env: Env = process.env): Style {
  return createStyle(colourEnabled(stream, env));
}
