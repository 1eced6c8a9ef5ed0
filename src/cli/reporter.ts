// The CLI's one consumer of a run's progress events (core/progress.ts). `--progress` picks how
// they are shown, as buildx's flag of the same name does:
//   auto   a live status line where stderr is a terminal that takes cursor moves, else plain
//   tty    the live status line, whatever stderr is
//   plain  every line: a build's steps and output as its log has them, each check's start and end
//   quiet  only notices (warnings with --json)
//   json   every event as one JSON line on stdout (NDJSON), then the answer as the last line
// Notices always go through the logger, after the live line is cleared: a feature never has to.
// Under auto, a version check outside a terminal shows no lines of its own: the table says all.
import type { ArgsDef } from "citty";
import type { BuildEvent, ProgressEvent, Report } from "../core/progress.ts";
import { takesCursorMoves } from "../lib/terminal.ts";
import { type BuildView, createBuildView } from "./build-view.ts";
import { type CheckView, createCheckView } from "./check-view.ts";
import { logger, printProgressLine } from "./output.ts";

export const PROGRESS_MODES = ["auto", "tty", "plain", "quiet", "json"] as const;
export type ProgressMode = (typeof PROGRESS_MODES)[number];

export const progressArg = {
  progress: {
    type: "enum",
    options: [...PROGRESS_MODES],
    description: "How progress is shown: auto (default), tty, plain, quiet, json (NDJSON events on stdout)",
  },
} as const satisfies ArgsDef;

export interface CliReporter {
  report: Report;
  /** Clears the live line before the result is printed. */
  done(): void;
  /** Whether the build's lines were shown one by one (a failure need not show its last lines again). */
  readonly linesShown: boolean;
}

export interface ReporterOptions {
  /** --progress; undefined is auto */
  mode?: string;
  /** --json: the answer is JSON, progress shows only warnings (unless --progress json) */
  json: boolean;
  /** --verbose: where the image attempt's time went, as an info line */
  verbose?: boolean;
  /** the prefix of a util image's build and pull lines; without one they are not shown */
  utilImagePrefix?: string;
}

export function createReporter(options: ReporterOptions): CliReporter {
  const asked = (options.mode ?? "auto") as ProgressMode;
  if (asked === "json") return { report: (event) => printProgressLine(event), done() {}, linesShown: false };
  const quiet = asked === "quiet" || (options.json && asked === "auto");
  const statusLine = asked === "tty" || (asked === "auto" && takesCursorMoves(process.stderr));
  const checkLines = asked === "plain";
  const view = createBuildView({ quiet, statusLine });
  const utilView = options.utilImagePrefix
    ? createBuildView({ quiet, statusLine, prefix: options.utilImagePrefix })
    : undefined;
  const checkView: CheckView = createCheckView({ quiet, statusLine });
  const views: Array<BuildView | CheckView> = [view, checkView, ...(utilView ? [utilView] : [])];
  const clear = () => {
    for (const shown of views) shown.done();
  };
  const notice = (level: "info" | "warn", message: string) => {
    clear();
    logger[level](message);
  };
  const report = (event: ProgressEvent): void => {
    switch (event.type) {
      case "notice":
        notice(event.level, event.message);
        break;
      case "build-log":
        notice("info", `build log: ${event.path}`);
        break;
      case "build":
        (event.subject === "image" ? view : utilView)?.event(buildEventOf(event));
        break;
      case "phase":
        if (checkLines && !quiet) logger.info(event.message);
        checkView.phase(event.message);
        break;
      case "check":
        if (checkLines && !quiet && event.kind !== "place") logger.info(checkLine(event));
        checkView.event(event);
        break;
      case "check-timing":
        if (options.verbose) notice("info", timingLine(event.phases));
        break;
      case "pull":
        utilView?.display.line(event.line);
        break;
    }
  };
  return { report, done: clear, linesShown: view.plain };
}

/** The build event inside a progress event (without its type and subject). */
function buildEventOf(event: Extract<ProgressEvent, { type: "build" }>): BuildEvent {
  const { type: _type, subject: _subject, ...build } = event;
  return build as BuildEvent;
}

function checkLine(event: Extract<ProgressEvent, { type: "check" }>): string {
  if (event.kind === "started") return `${event.agent}: started (${event.place})`;
  if (event.kind === "finished") return `${event.agent}: ${event.ok ? "answered" : "failed"} (${event.place})`;
  return `checking ${event.agents} in the ${event.place}`;
}

function timingLine(phases: Array<{ phase: string; ms: number }>): string {
  const removed = phases.some((p) => p.phase === "remove") ? "" : " (the engine removes the container)";
  return `image attempt: ${phases.map((p) => `${p.phase} ${p.ms} ms`).join(", ")}${removed}`;
}
