// The text stream of builders without BuildKit as build events: Docker's classic builder
// ("Step 2/6 : RUN make") and buildah behind Podman's Docker API ("STEP 2/6: RUN make").
// Both name steps N/M; neither says when a step ends, so a step is finished when the next
// one starts or the build reports its image. A failure arrives as the stream's error line.
import { createLineSplitter } from "../../lib/lines.ts";
import type { BuildEvent, StepRef } from "../build-events.ts";

/** "Step 2/6 : RUN make" (Docker) or "STEP 2/6: RUN make" (buildah). */
const STEP_LINE = /^(?:Step|STEP) (\d+)\/(\d+) ?: ?(.*)$/;
/** The builders' closing words, which belong to no step. */
const CLOSING_LINE = /^(?:Successfully (?:built|tagged) |COMMIT\b)/;

export interface ClassicProgress {
  /** Feeds a piece of `stream` text; answers the events it completed. */
  push(text: string): BuildEvent[];
  /** The build succeeded: the last step is finished. */
  end(): BuildEvent[];
  /** The build failed with this message: the current step failed (or, before any step, a message). */
  fail(message: string): BuildEvent[];
  /** The step that failed, once `fail` was called during one. */
  failedStep(): string | undefined;
  /** Which builder wrote the stream, once a step line said so. */
  builder(): "classic" | "buildah" | undefined;
}

export function createClassicProgress(): ClassicProgress {
  const splitter = createLineSplitter();
  let current: StepRef | undefined;
  let failed: string | undefined;
  let builder: "classic" | "buildah" | undefined;

  const finishCurrent = (out: BuildEvent[]) => {
    if (current) out.push({ kind: "step-finished", ...current, cached: false });
    current = undefined;
  };
  const read = (line: string, out: BuildEvent[]) => {
    const step = STEP_LINE.exec(line);
    if (step) {
      finishCurrent(out);
      const [, index, total, instruction] = step as unknown as [string, string, string, string];
      builder ??= line.startsWith("STEP ") ? "buildah" : "classic";
      current = { index: Number(index), name: `[${index}/${total}] ${instruction}` };
      out.push({ kind: "step-started", ...current });
    } else if (!line.trim()) {
      // blank separators carry nothing
    } else if (current && !CLOSING_LINE.test(line)) {
      out.push({ kind: "log", ...current, stream: 1, line });
    } else {
      if (CLOSING_LINE.test(line)) finishCurrent(out);
      out.push({ kind: "message", line });
    }
  };

  return {
    push(text) {
      const out: BuildEvent[] = [];
      for (const line of splitter.push(text)) read(line, out);
      return out;
    },
    end() {
      const out: BuildEvent[] = [];
      for (const line of splitter.end()) read(line, out);
      finishCurrent(out);
      return out;
    },
    fail(message) {
      const out: BuildEvent[] = [];
      for (const line of splitter.end()) read(line, out);
      if (current) {
        failed = current.name;
        out.push({ kind: "step-failed", ...current, error: message });
        current = undefined;
      } else {
        out.push({ kind: "message", line: `ERROR: ${message}` });
      }
      return out;
    },
    failedStep: () => failed,
    builder: () => builder,
  };
}
