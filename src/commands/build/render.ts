// The human form of a build's outcome: the line that says how it went, and on failure the
// last lines of the log.
import { shortId } from "../../docker/ids.ts";
import type { BuildResult } from "../../local-build/run-build.ts";

export function buildSuccessLine(result: BuildResult): string {
  const id = shortId(result.imageId);
  if (result.skipped) return `${result.tag} is up to date (${id}), built from the same inputs: skipped (--if-changed)`;
  return `built ${result.tags.join(", ")} (${id}) via ${result.via} in ${(result.durationMs / 1000).toFixed(1)}s`;
}

export function formatBuildTail(tail: string[]): string {
  return `last ${tail.length} lines of the build log:\n${tail.map((line) => `  ${line}`).join("\n")}\n`;
}
