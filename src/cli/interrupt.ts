// The one way a command learns of Ctrl-C, SIGTERM or SIGHUP: an AbortSignal, aborted when the
// signal comes, handed to the feature it runs. Features never listen for signals themselves;
// what they started they stop and remove on the abort (the entry's cleanup registry,
// lib/shutdown.ts, then exits with 128 + the signal's number).
import { onInterrupt } from "../lib/shutdown.ts";

let interrupted: AbortController | undefined;

/** The process's interrupt signal, made on first use (a signal before then aborts it at once). */
export function interruptSignal(): AbortSignal {
  if (!interrupted) {
    const controller = new AbortController();
    onInterrupt((signal) => controller.abort(new Error(`interrupted by ${signal}`)));
    interrupted = controller;
  }
  return interrupted.signal;
}
