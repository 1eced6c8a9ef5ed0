// What a failed build tells the person: one line (the tag, the step, its exit code and the
// last lines of the step's own output, a hint where the engine's set-up is the cause, the log
// file), and the error that carries it with the log's last lines.
import type { BuildStepError } from "../workloads/build-step-error.ts";
import { failureLine } from "../workloads/build-steps.ts";

/** A failed build with what the user needs: the step, the last lines, the log. */
export class BuildFailedError extends Error {
  override name = "BuildFailedError";
  constructor(
    message: string,
    readonly step: string | undefined,
    readonly tail: string[],
    readonly logFile: string,
  ) {
    super(message);
  }
}

export interface FailedBuild {
  /** the first tag asked for */
  tag: string;
  failure: BuildStepError;
  /** the failed step's own output lines, as far as they were seen */
  stepOutput: string[];
  /** the build's --network, if given */
  network: string | undefined;
  log: { path: string; tail(): string[] };
}

export function buildFailedError(build: FailedBuild): BuildFailedError {
  const line = `${failureLine(build.tag, build.failure, build.stepOutput)}${networkHint(build.failure.reason, build.network)}`;
  return new BuildFailedError(`${line} (log: ${build.log.path})`, build.failure.step, build.log.tail(), build.log.path);
}

/** An engine without a default bridge (rootless setups, `--bridge=none`) fails RUN steps this way. */
function networkHint(reason: string, network: string | undefined): string {
  if (network || !/network bridge not found|bridge.*not found/i.test(reason)) return "";
  return "; this engine has no default bridge network: try --network host (or --network none for steps without network access)";
}
