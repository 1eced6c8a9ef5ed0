// Turns the Engine's build progress (BuildKit traces or classic `stream` text) into
// plain lines: "#3 [2/3] RUN make", "#3 compiling...", "#3 DONE 1.2s", "#3 ERROR ...".
// A build log file and a non-TTY terminal both show these lines.
import {
  BUILDKIT_TRACE_ID,
  type BuildkitProgressEvent,
  createBuildkitProgress,
  decodeBuildkitStatus,
} from "../docker/streams/buildkit-trace.ts";
import type { ProgressMessage } from "../docker/streams/json-lines.ts";

export interface BuildLineReader {
  /** Lines caused by one progress message. */
  push(message: ProgressMessage): string[];
  /** Lines still pending at the end of the stream. */
  flush(): string[];
  /** The step that failed, if any, for the one-line error. */
  failedStep(): string | undefined;
}

export function createBuildLineReader(): BuildLineReader {
  const buildkit = createBuildkitProgress();
  let classicPending = "";
  let classicStep: string | undefined;

  const eventLine = (event: BuildkitProgressEvent): string => {
    const id = `#${event.index}`;
    switch (event.kind) {
      case "step-started":
        return `${id} ${event.name}`;
      case "step-finished":
        return event.cached ? `${id} CACHED` : `${id} DONE ${seconds(event.durationMs)}`;
      case "step-failed":
        return `${id} ERROR ${event.error}`;
      case "log":
        return `${id} ${event.line}`;
      case "warning":
        return `${id} WARNING ${event.message}`;
    }
  };

  return {
    push(message) {
      if (message.id === BUILDKIT_TRACE_ID && typeof message.aux === "string") {
        return buildkit.push(decodeBuildkitStatus(message.aux)).map(eventLine);
      }
      if (typeof message.stream !== "string") return [];
      // Classic builder: text arrives in pieces that may end mid-line.
      classicPending += message.stream;
      const lines = classicPending.split("\n");
      classicPending = lines.pop() ?? "";
      for (const line of lines) if (/^Step \d+\/\d+ : /.test(line)) classicStep = line;
      return lines.filter((line) => line.length > 0);
    },
    flush() {
      const rest = buildkit.flush().map(eventLine);
      if (classicPending) rest.push(classicPending);
      classicPending = "";
      return rest;
    },
    failedStep() {
      const failed = buildkit.failedStep();
      return failed ? failed.name : classicStep;
    },
  };
}

function seconds(ms?: number): string {
  return ms === undefined ? "" : `${(ms / 1000).toFixed(1)}s`;
}
