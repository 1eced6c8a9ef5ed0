// The live line of a version-check run in a terminal: what runs where, how many are done,
// running and failed so far, and the slowest script still running with its time, refreshed
// every second. Outside a terminal that takes cursor moves (pipes, CI, TERM=dumb, --json) it
// shows nothing: the table says all.
import { takesCursorMoves } from "../lib/terminal.ts";
import type { CheckEvent } from "../core/progress.ts";
import { createProgressDisplay } from "./progress.ts";

export interface CheckView {
  /** the phase, e.g. "checking 20 agents in the image" */
  phase(text: string): void;
  event(event: CheckEvent): void;
  /** clears the line before other output; it comes back with the next event */
  done(): void;
}

/** The line for the counts so far; `now` and the start times are in ms. */
export function checkStatusLine(
  phase: string,
  counts: { done: number; failed: number; total: number },
  running: Map<string, number[]>,
  now: number,
): string {
  let slowest: { agent: string; since: number } | undefined;
  let runningCount = 0;
  for (const [agent, starts] of running) {
    runningCount += starts.length;
    for (const since of starts) if (!slowest || since < slowest.since) slowest = { agent, since };
  }
  const parts = [`${counts.done} of ${counts.total} done`, `${runningCount} running`];
  if (counts.failed) parts.push(`${counts.failed} failed`);
  const head = phase ? `${phase}: ` : "";
  const seconds = slowest ? Math.floor((now - slowest.since) / 1000) : 0;
  // A second or more, or it is no news.
  const tail = slowest && seconds >= 1 ? `; slowest: ${slowest.agent} ${seconds}s` : "";
  return `${head}${parts.join(", ")}${tail}`;
}

export function createCheckView(options: { quiet: boolean; statusLine?: boolean }): CheckView {
  const statusLine = options.statusLine ?? takesCursorMoves(process.stderr);
  if (options.quiet || !statusLine) return { phase() {}, event() {}, done() {} };
  const display = createProgressDisplay({ statusLine });
  const running = new Map<string, number[]>();
  const counts = { done: 0, failed: 0, total: 0 };
  let phase = "";
  let timer: ReturnType<typeof setInterval> | undefined;
  const draw = () => display.line(checkStatusLine(phase, counts, running, performance.now()));
  const stopTimer = () => {
    if (timer) clearInterval(timer);
    timer = undefined;
  };
  return {
    phase(text) {
      phase = text;
      display.line(text);
    },
    event(event) {
      if (event.kind === "place") {
        Object.assign(counts, { done: 0, failed: 0, total: event.agents });
        running.clear();
      } else if (event.kind === "started") {
        running.set(event.agent, [...(running.get(event.agent) ?? []), performance.now()]);
      } else {
        const starts = running.get(event.agent) ?? [];
        starts.shift();
        if (starts.length) running.set(event.agent, starts);
        else running.delete(event.agent);
        counts.done++;
        if (!event.ok) counts.failed++;
      }
      draw();
      if (!timer && running.size) {
        timer = setInterval(draw, 1000);
        timer.unref?.();
      }
      if (!running.size) stopTimer();
    },
    done() {
      stopTimer();
      display.done();
    },
  };
}
