// Build progress as typed events, whichever builder ran: BuildKit's trace through the API,
// the classic builder's or buildah's text stream, buildx's plain output in the builder image.
// Producers live in build-progress/; the log file, the terminal's status line, the plain
// view and the failure report all consume the same events, so no text is parsed twice.

/** A step of the build, e.g. `[2/3] RUN make`. */
export interface StepRef {
  /** 1-based number of the step, like the `#N` of `docker build --progress=plain`. */
  index: number;
  /** The step as the builder names it, e.g. `[2/3] RUN make`. */
  name: string;
  /** BuildKit's vertex digest, where there is one. */
  vertex?: string;
}

export type BuildEvent =
  | (StepRef & { kind: "step-started" })
  | (StepRef & { kind: "step-finished"; cached: boolean; durationMs?: number })
  | (StepRef & { kind: "step-failed"; error: string; durationMs?: number })
  /** a line of a step's own output; stream 1 is stdout, 2 stderr */
  | (StepRef & { kind: "log"; stream: number; line: string })
  | (StepRef & { kind: "warning"; message: string })
  /** a line of the builder's that belongs to no step (a summary, the final error) */
  | { kind: "message"; line: string }
  /** the ID of the image the build produced */
  | { kind: "image"; id: string };

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
