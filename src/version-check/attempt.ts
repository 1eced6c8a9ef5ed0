// One try of a version.sh in one place, and what came of it.
import type { CheckPlace } from "./order.ts";
import { stderrTail, versionFromOutput } from "./script-output.ts";

export interface Attempt {
  source: CheckPlace;
  ok: boolean;
  version: string | null;
  exitCode: number | null;
  timedOut: boolean;
  error: string | null;
  /** the end of stderr, kept for the report */
  stderrTail: string | null;
  outputTruncated: boolean;
  durationMs: number;
}

export interface ScriptRun {
  exitCode: number | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  truncated: boolean;
  durationMs: number;
}

/** Judges a finished run: exit 0 and a non-empty first line is a version, all else a failure. */
export function attemptFromRun(source: CheckPlace, run: ScriptRun, timeoutMs: number): Attempt {
  const version = versionFromOutput(run.stdout);
  const tail = stderrTail(run.stderr) || null;
  let error: string | null = null;
  if (run.timedOut) error = `timed out after ${Math.round(timeoutMs / 1000)}s`;
  else if (run.exitCode !== 0) error = `exit code ${run.exitCode}${tail ? `: ${tail}` : ""}`;
  else if (!version) error = `no output${tail ? `: ${tail}` : ""}`;
  return {
    source,
    ok: error === null,
    version: error === null ? version : null,
    exitCode: run.exitCode,
    timedOut: run.timedOut,
    error,
    stderrTail: tail,
    outputTruncated: run.truncated,
    durationMs: run.durationMs,
  };
}

/** An attempt that could not run the script at all (no engine, no image, no bash). */
export function attemptNotRun(source: CheckPlace, error: string, durationMs: number): Attempt {
  return {
    source,
    ok: false,
    version: null,
    exitCode: null,
    timedOut: false,
    error,
    stderrTail: null,
    outputTruncated: false,
    durationMs,
  };
}
