// Live progress on stderr. In a terminal one status line is rewritten in place (the
// latest step or log line); elsewhere (CI, pipes, log files, TERM=dumb) every line is printed.
import { withoutEscapes } from "../lib/safe-text.ts";
import { takesCursorMoves, terminalColumns } from "../lib/terminal.ts";
import { styleFor } from "./style.ts";

export interface ProgressDisplay {
  line(text: string): void;
  /** Clears the status line before normal output continues. */
  done(): void;
}

export interface DisplayOptions {
  quiet?: boolean;
  prefix?: string;
  /** one status line redrawn in place; default: where stderr takes cursor moves (--progress tty forces it) */
  statusLine?: boolean;
}

export function createProgressDisplay(options: DisplayOptions = {}): ProgressDisplay {
  const prefix = options.prefix ? `${options.prefix} ` : "";
  if (options.quiet) return { line() {}, done() {} };
  const tty = options.statusLine ?? takesCursorMoves();
  if (!tty) {
    return {
      // Lines from builds and pulls: colours and cursor moves dropped, other controls shown.
      line: (text) => process.stderr.write(`${prefix}${withoutEscapes(text)}\n`),
      done() {},
    };
  }
  let shown = false;
  const style = styleFor(process.stderr);
  return {
    line(text) {
      const width = Math.max(20, (terminalColumns(process.stderr) ?? 80) - 1);
      const single = `${prefix}${withoutEscapes(text.replace(/\s+/g, " "))}`.slice(0, width);
      process.stderr.write(`\r\x1b[2K${style.dim(single)}`);
      shown = true;
    },
    done() {
      if (shown) process.stderr.write("\r\x1b[2K");
      shown = false;
    },
  };
}
