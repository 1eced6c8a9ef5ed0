// The human form of version-check results: one table row per agent.
import { formatTable } from "../output.ts";
import type { CheckResult } from "../../version-check/check.ts";

/** Script run time: the scripts' own time, without the shared container's start. */
const seconds = (ms: number) => (ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(1)}s`);
/** Table cells stay short; --json and the warnings carry the whole message. */
const clip = (text: string, max = 90) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

function errorText(result: CheckResult): string {
  if (result.compare && !result.compare.match) {
    const { image, host } = result.compare;
    const failures = result.attempts.filter((a) => !a.ok).map((a) => `${a.source}: ${clip(a.error ?? "")}`);
    return [`image ${image ?? "-"} vs host ${host ?? "-"}`, ...failures].join("; ");
  }
  if (result.ok && !result.stale) return "";
  const failures = result.attempts.filter((a) => !a.ok).map((a) => `${a.source}: ${clip(a.error ?? "")}`);
  return (result.stale ? ["stale: every attempt failed", ...failures] : failures).join("; ");
}

export function formatResults(results: CheckResult[]): string {
  const compare = results.some((r) => r.compare);
  const header = compare ? ["AGENT", "IMAGE", "HOST", "MATCH", "TIME", "ERROR"] : ["AGENT", "VERSION", "SOURCE", "TIME", "ERROR"];
  const rows = results.map((r) =>
    compare
      ? [r.agent, r.compare?.image ?? "-", r.compare?.host ?? "-", r.compare?.match ? "yes" : "NO", seconds(r.durationMs), errorText(r)]
      : [r.agent, r.version ?? "-", r.source ? `${r.source}${r.stale ? " (stale)" : ""}` : "-", seconds(r.durationMs), errorText(r)],
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
