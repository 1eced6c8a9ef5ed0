// Build progress as typed events, whichever builder ran: BuildKit's trace through the API,
// the classic builder's or buildah's text stream, buildx's plain output in the builder image.
// Their shapes live in core/progress.ts, beside every other event a run reports.
// Producers live in build-progress/; the log file, the terminal's status line, the plain
// view and the failure report all consume the same events, so no text is parsed twice.
import type { BuildEvent } from "../core/progress.ts";

export type { BuildEvent, StepRef } from "../core/progress.ts";

/**
 * The plain-text form of an event, as `docker build --progress=plain` prints it: "#3 [2/3] RUN
 * make", "#3 compiling…", "#3 DONE 1.2s", "#3 ERROR: …". Undefined for events with no line.
 */
export function eventLine(event: BuildEvent): string | undefined {
  if (event.kind === "message") return event.line;
  if (event.kind === "image") return undefined;
  const id = `#${event.index}`;
  switch (event.kind) {
    case "step-started":
      return `${id} ${event.name}`;
    case "step-finished":
      return event.cached ? `${id} CACHED` : `${id} DONE ${seconds(event.durationMs)}`.trimEnd();
    case "step-failed":
      return `${id} ERROR: ${event.error}`;
    case "log":
      return `${id} ${event.line}`;
    case "warning":
      return `${id} WARNING: ${event.message}`;
  }
}

function seconds(ms?: number): string {
  return ms === undefined ? "" : `${(ms / 1000).toFixed(1)}s`;
}
