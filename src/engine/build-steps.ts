// Follows the events of one build and answers what a person needs from them: a one-line
// status (the current step and its latest line), the step that failed and why, and the
// builder's closing error line.
import type { BuildEvent } from "./build-events.ts";
import { failingStep } from "./build-failure.ts";

/** The seconds-since-start prefix buildx puts before each line of a step's output. */
const ELAPSED = /^\d+\.\d+ /;

export interface BuildSteps {
  /** Reads one event; answers the text for a one-line status display. */
  push(event: BuildEvent): string | undefined;
  /** The step that failed, by name: the one the builder's closing error is about, else the first. */
  failedStep(): string | undefined;
  /** The last line of the builder's own that reports an error ("ERROR: failed to solve: …"), without "ERROR:". */
  errorLine(): string | undefined;
  /** The image the build reported, if any. */
  imageId(): string | undefined;
}

export function createBuildSteps(): BuildSteps {
  const failures: Array<{ name: string; error: string }> = [];
  let lastError: string | undefined;
  let image: string | undefined;
  return {
    push(event) {
      switch (event.kind) {
        case "step-started":
          return event.name;
        case "log":
          return `${event.name} › ${event.line.replace(ELAPSED, "")}`;
        case "step-finished":
          return `${event.name} › ${event.cached ? "CACHED" : "DONE"}`;
        case "step-failed":
          failures.push({ name: event.name, error: event.error });
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
    errorLine: () => lastError,
    imageId: () => image,
  };
}
