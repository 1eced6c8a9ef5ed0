// Follows the events of one build and answers what a person needs from them: a one-line
// status (the current step and its latest line), the step that failed and why, the last lines
// of that step's own output, and the builder's closing error line; and the one short line a
// failed build is reported with.
import type { BuildEvent } from "./build-events.ts";
import { type BuildStepError, failingStep } from "./build-step-error.ts";
import { clip } from "../lib/text.ts";

/** The seconds-since-start prefix buildx puts before each line of a step's output. */
const ELAPSED = /^\d+\.\d+ /;
/** Lines of its own output kept per step, for the failure report. */
const STEP_OUTPUT_LINES = 5;

export interface BuildSteps {
  /** Reads one event; answers the text for a one-line status display. */
  push(event: BuildEvent): string | undefined;
  /** The step that failed, by name: the one the builder's closing error is about, else the first. */
  failedStep(): string | undefined;
  /** The last lines (up to STEP_OUTPUT_LINES) of the failed step's own output, oldest first. */
  failedStepOutput(): string[];
  /** The last line of the builder's own that reports an error ("ERROR: failed to solve: …"), without "ERROR:". */
  errorLine(): string | undefined;
  /** The image the build reported, if any. */
  imageId(): string | undefined;
}

export function createBuildSteps(): BuildSteps {
  const failures: Array<{ name: string; index: number; error: string }> = [];
  let lastError: string | undefined;
  let image: string | undefined;
  const output = new Map<number, string[]>();
  return {
    push(event) {
      switch (event.kind) {
        case "step-started":
          return event.name;
        case "log": {
          const line = event.line.replace(ELAPSED, "");
          const lines = output.get(event.index) ?? [];
          if (line.trim()) lines.push(line);
          if (lines.length > STEP_OUTPUT_LINES) lines.shift();
          output.set(event.index, lines);
          return `${event.name} › ${line}`;
        }
        case "step-finished":
          return `${event.name} › ${event.cached ? "CACHED" : "DONE"}`;
        case "step-failed":
          failures.push({ name: event.name, index: event.index, error: event.error });
          return `${event.name} › ERROR: ${event.error}`;
        case "warning":
          return `${event.name} › WARNING: ${event.message}`;
        case "message":
          if (/^error\b:?/i.test(event.line)) lastError = event.line.replace(/^error\b:?\s*/i, "");
          return event.line;
        case "image":
          image = event.id;
          return undefined;
      }
    },
    failedStep: () => failingStep(failures, lastError)?.name,
    failedStepOutput: () => {
      const failed = failingStep(failures, lastError);
      return failed === undefined ? [] : [...(output.get(failed.index) ?? [])];
    },
    errorLine: () => lastError,
    imageId: () => image,
  };
}

/** The exit code a builder names in its error ("exit code: 3", "returned a non-zero code: 3", "exit status 3"). */
export function exitCodeOf(reason: string): number | undefined {
  const match = /(?:exit code:?|returned a non-zero code:?|exit status) (\d+)/i.exec(reason);
  return match ? Number(match[1]) : undefined;
}

/** A step's name on one short line: whitespace (line continuations too) folded, long commands cut with "…". */
export function shortStepName(name: string, max = 72): string {
  const single = name
    .replace(/\\\s*\n/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  return clip(single, max, { trimEnd: true });
}

/**
 * The builder's reason without the failed command repeated in it ("executor failed running
 * [/bin/sh -c <the whole RUN line>]: exit code: 6" says no more than "exit code: 6" once the
 * step is named), on one line, at most `max` characters.
 */
export function shortReason(reason: string, step: string | undefined, max = 200): string {
  let text = reason.replace(/\s+/g, " ").trim();
  const command = step
    ?.replace(/^\[[^\]]*\]\s*(?:RUN\s+)?/, "")
    .replace(/\s+/g, " ")
    .trim();
  if (command && command.length > 20) text = text.split(command).join("…");
  return clip(text, max, { trimEnd: true });
}

/**
 * The failure in one line a person can read: the tag, the step (short), its exit code, and
 * the last lines of the step's own output, which usually say what went wrong ("curl: (6)
 * Could not resolve host"); without output, the builder's reason minus the repeated command.
 * Shared by user builds (local-build/) and util image builds (util-images/).
 */
export function failureLine(tag: string, failure: BuildStepError, output: string[]): string {
  const step = failure.step ? ` at step ${shortStepName(failure.step)}` : "";
  const code = exitCodeOf(failure.reason);
  const exit = code === undefined ? "" : ` (exit code ${code})`;
  return `build of ${tag} failed${step}${exit}: ${output.length ? lastLines(output) : shortReason(failure.reason, failure.step)}`;
}

/** Up to three lines joined with " | ", each at most 120 characters, the whole at most 300 (the newest kept). */
function lastLines(lines: string[]): string {
  const picked = lines.slice(-3).map((line) => clip(line.replace(/\s+/g, " ").trim(), 120));
  while (picked.length > 1 && picked.join(" | ").length > 300) picked.shift();
  return picked.join(" | ");
}
