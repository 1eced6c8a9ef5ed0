// The human form of version-check results: one table row per agent.
import { formatTable } from "../../cli/output.ts";
import type { Attempt } from "../../version-check/attempt.ts";
import type { CheckResult } from "../../version-check/check.ts";
import { RATE_LIMIT_WORDS } from "../../version-check/rate-limit.ts";

/** Script run time: the scripts' own time, without the shared container's start. */
const seconds = (ms: number) => (ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(1)}s`);
/** Table cells stay short; --json and the warnings carry the whole message. */
const clip = (text: string, max = 80) => (text.length > max ? `${text.slice(0, max - 1).trimEnd()}…` : text);
/** The last part of a stderr tail ("a | b | c" → "c"): scripts say what went wrong last. */
const lastLine = (tail: string) =>
  tail
    .split(" | ")
    .map((part) => part.trim())
    .filter(Boolean)
    .at(-1) ?? "";

/** One short cause for a failed attempt: its exit code and the last line it wrote, or the first clause of why it did not run. */
export function shortCause(attempt: Attempt): string {
  const error = attempt.error ?? "failed";
  // GitHub's rate limit: the cause and its fix say more than the script's last line.
  const limit = error.lastIndexOf(`(${RATE_LIMIT_WORDS}`);
  if (limit >= 0) {
    const hint = error.slice(limit + 1).replace(/\)$/, "");
    const code = /^exit code (-?\d+)/.exec(error)?.[1];
    return clip(code ? `exit ${code}: ${hint}` : hint, 100);
  }
  const exited = /^exit code (\S+?)(?:: ([\s\S]*))?$/.exec(error);
  if (exited) return clip(exited[2] ? `exit ${exited[1]}: ${lastLine(exited[2])}` : `exit ${exited[1]}`);
  const silent = /^no output(?:: ([\s\S]*))?$/.exec(error);
  if (silent) return clip(silent[1] ? `no output: ${lastLine(silent[1])}` : "no output");
  // Not run at all (no engine, no image, no bash): the first clause says which; of an engine
  // call that failed ("start container 01f0… failed: network x not found"), the engine's words.
  const clause = error.replace(/\s+/g, " ").split(/; |\. (?=[A-Z])/)[0]!;
  return clip(/^(?:create container from|start container) \S+ failed: (.+)$/.exec(clause)?.[1] ?? clause);
}

/**
 * The ERROR cell: where the check ended up failing and why, in one short cause; for an answer
 * from a later place, why the earlier one did not answer (no fallback goes unseen).
 */
function errorText(result: CheckResult): string {
  const failed = result.attempts.filter((a) => !a.ok);
  const last = failed.at(-1);
  const cause = last ? `${last.source}: ${shortCause(last)}` : "";
  if (result.compare && !result.compare.match) {
    const { image, host } = result.compare;
    return [`image ${image ?? "-"} vs host ${host ?? "-"}`, cause].filter(Boolean).join("; ");
  }
  if (result.ok && !result.stale) return cause;
  return result.stale ? `stale, every attempt failed (${cause})` : cause;
}

/** A version that changed since the last record: "1.1.0 (was 1.0.0)". */
function versionCell(version: string | null, result: CheckResult): string {
  if (version === null) return "-";
  return result.changed ? `${version} (was ${result.previousVersion})` : version;
}

export function formatResults(results: CheckResult[]): string {
  const compare = results.some((r) => r.compare);
  const header = compare
    ? ["AGENT", "IMAGE", "HOST", "MATCH", "TIME", "ERROR"]
    : ["AGENT", "VERSION", "SOURCE", "TIME", "ERROR"];
  const rows = results.map((r) =>
    compare
      ? [
          r.agent,
          r.compare?.image ?? "-",
          r.compare?.host ?? "-",
          r.compare?.match ? (r.changed ? `yes (was ${r.previousVersion})` : "yes") : "NO",
          seconds(r.durationMs),
          errorText(r),
        ]
      : [
          r.agent,
          versionCell(r.version, r),
          r.source ? `${r.source}${r.stale ? " (stale)" : ""}` : "-",
          seconds(r.durationMs),
          errorText(r),
        ],
  );
  return formatTable(header, rows);
}

/** The --json shape: exactly one object, results in input order. */
export function resultsJson(results: CheckResult[]) {
  return {
    results: results.map((r) => ({
      agent: r.agent,
      script: r.script,
      ok: r.ok,
      version: r.version,
      source: r.source,
      stale: r.stale,
      checkedAt: r.checkedAt,
      previousVersion: r.previousVersion,
      changed: r.changed,
      durationMs: r.durationMs,
      attempts: r.attempts.map((a) => ({
        source: a.source,
        ok: a.ok,
        version: a.version,
        exitCode: a.exitCode,
        timedOut: a.timedOut,
        error: a.error,
        stderrTail: a.stderrTail,
        outputTruncated: a.outputTruncated,
        durationMs: a.durationMs,
      })),
      ...(r.compare ? { compare: r.compare } : {}),
    })),
  };
}
