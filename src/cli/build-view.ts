// Shows a build's events on stderr: in a terminal, one status line naming the current step
// and its latest line; elsewhere (CI, pipes) every line as the log file has it.
import { eventLine, type BuildEvent } from "../workloads/build-events.ts";
import { createBuildSteps } from "../workloads/build-steps.ts";
import { takesCursorMoves } from "../lib/terminal.ts";
import { type DisplayOptions, type ProgressDisplay, createProgressDisplay } from "./progress.ts";

export interface BuildView {
  event(event: BuildEvent): void;
  /** Clears the status line before normal output continues. */
  done(): void;
  /** Whether lines are shown one by one (false: a status line, or nothing). */
  readonly plain: boolean;
  readonly display: ProgressDisplay;
}

export function createBuildView(options: DisplayOptions = {}): BuildView {
  // The same choice as the display's: a status line where lines can be redrawn.
  const statusLine = options.statusLine ?? takesCursorMoves();
  const display = createProgressDisplay({ ...options, statusLine });
  const steps = createBuildSteps();
  return {
    event(event) {
      const text = statusLine ? steps.push(event) : eventLine(event);
      if (text !== undefined) display.line(text);
    },
    done: () => display.done(),
    plain: !options.quiet && !statusLine,
    display,
  };
}
