// What a failed build tells the person: one line (the tag, the step, its exit code and the
// last lines of the step's own output, a hint where the engine's set-up is the cause, the log
// file), and the error that carries it with the log's last lines.
import { networkFailureKind } from "../host-registries/network-failure-hint.ts";
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
  /** what RUN steps had of the host's registry set-up: all of it, none by choice, or none it could give */
  hostSetup?: "forwarded" | "off" | "not-forwarded";
}

export function buildFailedError(build: FailedBuild): BuildFailedError {
  const hints = networkHint(build.failure.reason, build.network) + tlsHint(build);
  const line = `${failureLine(build.tag, build.failure, build.stepOutput)}${hints}`;
  return new BuildFailedError(`${line} (log: ${build.log.path})`, build.failure.step, build.log.tail(), build.log.path);
}

/** A step that could not verify a registry's certificate, and what RUN steps had of the host's CAs. */
function tlsHint(build: FailedBuild): string {
  const kind = networkFailureKind([build.failure.reason, ...build.stepOutput].join("\n"));
  if (kind !== "tls" && kind !== "tls-unknown-ca") return "";
  if (build.hostSetup === "off") {
    return "; TLS verification failed: RUN steps did not get the host's CAs (--no-host-registries or AICAGE_UTIL_HOST_REGISTRIES=0 switched that off)";
  }
  if (build.hostSetup === "forwarded")
    return "; TLS verification failed, though RUN steps had the host's CAs: does the host trust this server?";
  return "; TLS verification failed: RUN steps could not get the host's CAs (see the notice above)";
}

/** An engine without a default bridge (rootless setups, `--bridge=none`) fails RUN steps this way. */
function networkHint(reason: string, network: string | undefined): string {
  if (network || !/network bridge not found|bridge.*not found/i.test(reason)) return "";
  return "; this engine has no default bridge network: try --network host (or --network none for steps without network access)";
}
