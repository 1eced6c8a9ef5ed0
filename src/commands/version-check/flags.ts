// version-check's own flags beyond the shared ones: what the image attempt gets of the host's
// GitHub tokens, and how the run ends (--exit-code: 100 when a version changed).
import type { ArgsDef } from "citty";
import { CommandFailedError, ExitCode } from "../../cli/exit-codes.ts";
import type { CheckResult } from "../../version-check/check.ts";
import { RATE_LIMIT_WORDS } from "../../version-check/rate-limit.ts";

export const versionCheckArgs = {
  "github-token": {
    type: "boolean",
    default: true,
    description:
      "Give each script in the image the host's GITHUB_TOKEN and GH_TOKEN (never shown, never in the container's configuration)",
    negativeDescription:
      "Do not give the image attempt the host's GITHUB_TOKEN and GH_TOKEN unless named by --env (env AICAGE_UTIL_GITHUB_TOKEN=0)",
  },
  "exit-code": {
    type: "boolean",
    description:
      "Exit 100 when a version changed since the last recorded one, 0 when none did (a failure keeps its own code)",
  },
} as const satisfies ArgsDef;

const off = (value: string | undefined) => value !== undefined && /^(0|false|no|off)$/i.test(value);

/** Whether the GitHub tokens go along by default: the flag wins over the environment. */
export function githubTokenChoice(
  args: { "github-token"?: boolean },
  env: Record<string, string | undefined> = process.env,
): boolean {
  return args["github-token"] === false ? false : !off(env.AICAGE_UTIL_GITHUB_TOKEN);
}

/** The rate-limit hint of a failed attempt ("GitHub API rate limit reached: set GITHUB_TOKEN"), if any. */
function rateLimitOf(result: CheckResult): string | undefined {
  for (const attempt of [...result.attempts].reverse()) {
    const at = attempt.error?.lastIndexOf(`(${RATE_LIMIT_WORDS}`) ?? -1;
    if (at >= 0) return attempt.error!.slice(at + 1).replace(/\)$/, "");
  }
  return undefined;
}

/**
 * Ends the run the way its results say: a failure with exit 1 (naming GitHub's rate limit and
 * its fix when that is why), else with --exit-code 100 when a version changed; else it returns.
 */
export function endOfRun(results: CheckResult[], options: { compare: boolean; exitCode: boolean }): void {
  const failed = results.filter((r) => !r.ok);
  if (failed.length > 0) {
    const what = options.compare ? "differ or failed" : "failed";
    const limited = failed.map(rateLimitOf).find(Boolean);
    throw new CommandFailedError(
      `${failed.length} of ${results.length} version check${results.length > 1 ? "s" : ""} ${what}${limited ? `; ${limited}` : ""}`,
      ExitCode.failed,
    );
  }
  if (options.exitCode && results.some((r) => r.changed)) throw new CommandFailedError("", ExitCode.versionChanged);
}
