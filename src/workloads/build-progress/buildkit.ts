// BuildKit's trace (decoded by docker/streams/buildkit-status.ts) as build events. A step is
// a vertex of the build graph, numbered in the order it first appears.
import type {
  BuildkitStatus,
  BuildkitVertex,
  BuildkitVertexLog,
  BuildkitVertexWarning,
} from "../../docker/streams/buildkit-status.ts";
import { type LineSplitter, createLineSplitter } from "../../lib/lines.ts";
import type { BuildEvent, StepRef } from "../build-events.ts";
import { failingStep } from "../build-step-error.ts";

type BuildkitProgressEvent = Exclude<BuildEvent, { kind: "message" } | { kind: "image" }>;

export interface BuildkitProgress {
  /** Feeds one decoded status message; returns the events it caused, in order. */
  push(status: BuildkitStatus): BuildkitProgressEvent[];
  /** At the end of the stream: returns log lines still waiting for their newline. */
  flush(): BuildkitProgressEvent[];
  /**
   * The step to name when the build ends with `finalError`: the failed step whose error the
   * final error holds (BuildKit runs steps at once, and ends on one failure while the trace
   * may have marked another first), else the first that failed.
   */
  failedStep(finalError?: string): { name: string; error: string } | undefined;
}

interface StepState extends StepRef {
  vertex: string;
  started?: Date;
  announced: boolean;
  done: boolean;
  /** Output per stream, cut at arbitrary bytes: the part after its last newline waits here. */
  pending: Map<number, LineSplitter>;
}

/**
 * Tracks vertices across status messages. BuildKit re-sends a vertex each time it changes
 * (started, then completed), and log messages cut output at arbitrary bytes, so both the
 * "already announced" state and partial lines have to live across messages.
 */
export function createBuildkitProgress(): BuildkitProgress {
  const steps = new BuildkitSteps();
  const failures: Array<{ name: string; error: string }> = [];

  return {
    push(status) {
      const out: BuildkitProgressEvent[] = [];
      // Starts first, then output, then completions: one message may carry all three for a
      // step, and a reader expects its lines between "started" and "finished".
      steps.start(status.vertexes, out);
      steps.log(status.logs, out);
      steps.warn(status.warnings, out);
      steps.complete(status.vertexes, out, failures);
      return out;
    },

    flush() {
      const out: BuildkitProgressEvent[] = [];
      for (const step of steps.all()) flushStep(step, out);
      return out;
    },

    failedStep(finalError) {
      return failingStep(failures, finalError);
    },
  };
}

/** The steps seen so far, by vertex digest, numbered in the order they first appeared. */
class BuildkitSteps {
  private readonly steps = new Map<string, StepState>();

  all(): Iterable<StepState> {
    return this.steps.values();
  }

  /** Announces the steps a message says started or completed. */
  start(vertexes: BuildkitVertex[], out: BuildkitProgressEvent[]): void {
    for (const vertex of vertexes) {
      const step = this.stepFor(vertex.digest, vertex.name);
      if (vertex.started) step.started = vertex.started;
      if (vertex.started || vertex.completed) announce(step, out);
    }
  }

  /** Output, as whole lines of the step that printed it. */
  log(logs: BuildkitVertexLog[], out: BuildkitProgressEvent[]): void {
    for (const log of logs) {
      const step = this.stepFor(log.vertex);
      announce(step, out);
      splitLines(step, log.stream, log.msg, out);
    }
  }

  warn(warnings: BuildkitVertexWarning[], out: BuildkitProgressEvent[]): void {
    for (const warning of warnings) {
      const step = this.stepFor(warning.vertex);
      out.push({ kind: "warning", ...ref(step), message: new TextDecoder().decode(warning.short) });
    }
  }

  /** Ends each step a message says completed, once: its last lines, then finished or failed. */
  complete(
    vertexes: BuildkitVertex[],
    out: BuildkitProgressEvent[],
    failures: Array<{ name: string; error: string }>,
  ): void {
    for (const vertex of vertexes) {
      const step = this.stepFor(vertex.digest);
      if (!vertex.completed || step.done) continue;
      step.done = true;
      flushStep(step, out);
      const durationMs = step.started ? vertex.completed.getTime() - step.started.getTime() : undefined;
      if (vertex.error) {
        failures.push({ name: step.name, error: vertex.error });
        out.push({ kind: "step-failed", ...ref(step), error: vertex.error, durationMs });
      } else {
        out.push({ kind: "step-finished", ...ref(step), cached: vertex.cached, durationMs });
      }
    }
  }

  private stepFor(digest: string, name = ""): StepState {
    let step = this.steps.get(digest);
    if (!step) {
      step = { vertex: digest, name, index: this.steps.size + 1, announced: false, done: false, pending: new Map() };
      this.steps.set(digest, step);
    } else if (name) {
      step.name = name;
    }
    return step;
  }
}

function ref(step: StepState): StepRef {
  return { vertex: step.vertex, name: step.name, index: step.index };
}

function announce(step: StepState, out: BuildkitProgressEvent[]): void {
  if (step.announced) return;
  step.announced = true;
  out.push({ kind: "step-started", ...ref(step) });
}

function splitLines(step: StepState, stream: number, msg: Uint8Array, out: BuildkitProgressEvent[]): void {
  let pending = step.pending.get(stream);
  if (!pending) {
    pending = createLineSplitter();
    step.pending.set(stream, pending);
  }
  for (const line of pending.push(msg)) out.push({ kind: "log", ...ref(step), stream, line });
}

/** Hands on the step's last lines, those still waiting for a newline: its output has ended. */
function flushStep(step: StepState, out: BuildkitProgressEvent[]): void {
  for (const [stream, pending] of step.pending) {
    for (const line of pending.end()) out.push({ kind: "log", ...ref(step), stream, line });
  }
  step.pending.clear();
}
