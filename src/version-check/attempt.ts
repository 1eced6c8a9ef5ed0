// One try of a version.sh in one place, and what came of it.
import type { CheckPlace } from "./order.ts";
import { networkFailureHint } from "../host-registries/network-failure-hint.ts";
import { neutralise } from "../lib/safe-text.ts";
import { type TokenState, rateLimitHint, showsRateLimit } from "./rate-limit.ts";
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
  /** stdout was longer than what was kept */
  stdoutTruncated: boolean;
  /** stdout or stderr was */
  truncated: boolean;
  durationMs: number;
}

/** What the failure hint needs to know of a script and its attempt to tell GitHub's rate limit. */
export interface GitHubContext {
  /** the script's text names api.github.com */
  namesApi: boolean;
  /** whether the attempt had a GitHub token */
  token: TokenState;
}

/**
 * Judges a finished run: exit 0 and a first line that is a version is a success, all else a
 * failure with its reason. Every text kept is safe to print (see script-output.ts).
 */
export function attemptFromRun(
  source: CheckPlace,
  run: ScriptRun,
  timeoutMs: number,
  github: GitHubContext = { namesApi: false, token: "none" },
): Attempt {
  const answer = versionFromOutput(run.stdout, run.stdoutTruncated);
  const tail = stderrTail(run.stderr) || null;
  let error: string | null = null;
  if (run.timedOut) error = `timed out after ${Math.round(timeoutMs / 1000)}s`;
  else if (run.exitCode !== 0) error = `exit code ${run.exitCode}${tail ? `: ${tail}` : ""}`;
  else if ("none" in answer) error = `no output${tail ? `: ${tail}` : ""}`;
  else if ("refused" in answer) error = `output refused: ${answer.refused}`;
  // Why an image attempt failed on the network, in a few words: a reader of "source: host"
  // learns why the image did not answer (a registry's CA it lacks, a name it cannot resolve).
  // GitHub's rate limit, in either place: the cause and its fix, instead of a bare exit code.
  const limited = error !== null && showsRateLimit(`${run.stderr}\n${run.stdout}`, github.namesApi);
  const hint = limited
    ? rateLimitHint(github.token)
    : error !== null && source === "image"
      ? networkFailureHint(run.stderr, run.timedOut)
      : null;
  if (hint) error = `${error} (${hint})`;
  return {
    source,
    ok: error === null,
    version: error === null && "version" in answer ? answer.version : null,
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
    // Engine messages and paths may carry anything.
    error: neutralise(error),
    stderrTail: null,
    outputTruncated: false,
    durationMs,
  };
}
