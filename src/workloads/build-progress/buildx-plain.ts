// `docker buildx build --progress=plain` output (the builder image's) as build events:
//   #5 [2/3] RUN make          the first line of #5 names the step
//   #5 0.42 compiling          its output, after the seconds since it started
//   #5 DONE 0.5s / #5 CACHED / #5 ERROR: …
//   ERROR: failed to solve: …  lines without a number belong to no step
import type { BuildEvent, StepRef } from "../build-events.ts";

const NUMBERED = /^#(\d+) (.*)$/;
const DONE = /^DONE (\d+(?:\.\d+)?)s$/;
const FAILED = /^ERROR:? (.*)$/;
/** The docker exporter names the image it wrote: "#9 writing image sha256:… done". */
const WRITTEN_IMAGE = /\bwriting image (sha256:[0-9a-f]{64})\b/;

export interface BuildxPlainProgress {
  /** Reads one line of output; answers its events. */
  push(line: string): BuildEvent[];
}

export function createBuildxPlainProgress(): BuildxPlainProgress {
  const steps = new Map<number, StepRef>();
  return {
    push(line) {
      // buildx separates steps with blank lines; they carry nothing.
      if (!line.trim()) return [];
      const numbered = NUMBERED.exec(line);
      if (!numbered) return [{ kind: "message", line }];
      const index = Number(numbered[1]);
      const text = numbered[2]!;
      const step = steps.get(index);
      if (!step) {
        const started: StepRef = { index, name: text };
        steps.set(index, started);
        return [{ kind: "step-started", ...started }];
      }
      if (text === "CACHED") return [{ kind: "step-finished", ...step, cached: true }];
      const done = DONE.exec(text);
      if (done)
        return [{ kind: "step-finished", ...step, cached: false, durationMs: Math.round(Number(done[1]) * 1000) }];
      const failed = FAILED.exec(text);
      if (failed) return [{ kind: "step-failed", ...step, error: failed[1]! }];
      const events: BuildEvent[] = [{ kind: "log", ...step, stream: 1, line: text }];
      const image = WRITTEN_IMAGE.exec(text)?.[1];
      if (image) events.push({ kind: "image", id: image });
      return events;
    },
  };
}
