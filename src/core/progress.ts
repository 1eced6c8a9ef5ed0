// What a feature tells whoever runs it, while it runs: one stream of typed events. Features
// only emit; the CLI decides how each is shown (a live line in a terminal, plain lines, a log
// file, NDJSON for `--progress json`), and a library caller may take them or not. A feature
// takes one `report` for all of it, never a callback per kind of news.
//
// The shapes below are what `--progress json` prints (schemas/progress-event.schema.json),
// `time` added: change them only in ways a reader of that stream can tolerate.

/** A place a version check runs in. */
export type CheckPlace = "image" | "host";

/** A step of a build, e.g. `[2/3] RUN make`. */
export interface StepRef {
  /** 1-based number of the step, like the `#N` of `docker build --progress=plain`. */
  index: number;
  /** The step as the builder names it, e.g. `[2/3] RUN make`. */
  name: string;
  /** BuildKit's vertex digest, where there is one. */
  vertex?: string;
}

/** A build's progress, whichever builder ran it (workloads/build-progress/ makes these). */
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

/** A run of many version checks, as it goes. */
export type CheckEvent =
  /** a place takes its turn with this many agents */
  | { kind: "place"; place: CheckPlace; agents: number }
  | { kind: "started"; agent: string; place: CheckPlace }
  | { kind: "finished"; agent: string; place: CheckPlace; ok: boolean };

/** Which build a build event belongs to: the user's image, or a util image built first. */
export type BuildSubject = "image" | "util-image";

export type ProgressEvent =
  /** a line for the person: what happened that they should know ("pulling …", a fall back) */
  | { type: "notice"; level: "info" | "warn"; message: string }
  /** what the run does now, e.g. "checking 3 agents in the image" */
  | { type: "phase"; message: string }
  | ({ type: "check" } & CheckEvent)
  /** where the image attempt's time went: engine, image, then the container's phases */
  | { type: "check-timing"; phases: Array<{ phase: string; ms: number }> }
  | ({ type: "build"; subject: BuildSubject } & BuildEvent)
  /** the file a build writes its log to */
  | { type: "build-log"; path: string }
  /** a line of an image pull's progress */
  | { type: "pull"; line: string };

export type Report = (event: ProgressEvent) => void;

/** For callers that want no progress. */
export const ignoreProgress: Report = () => {};
