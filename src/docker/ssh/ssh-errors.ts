// The engine-unreachable errors of an ssh endpoint: the same classes the rest of the tool
// maps to "engine unreachable / refused", with ssh's cause and its own fix in one line.
import type { DockerEndpoint } from "../docker-endpoint.ts";
import { EnginePermissionError, EngineUnreachableError } from "../errors.ts";
import type { SshFailure } from "./ssh-failure.ts";

class SshEngineUnreachableError extends EngineUnreachableError {
  override name = "SshEngineUnreachableError";
  constructor(
    endpoint: DockerEndpoint,
    readonly failure: SshFailure,
  ) {
    super(endpoint, failure.reason, failure.fix);
  }
}

/** Reached the far side, but its user may not open the engine's socket there. */
class SshEnginePermissionError extends EnginePermissionError {
  override name = "SshEnginePermissionError";
  constructor(
    endpoint: DockerEndpoint,
    readonly failure: SshFailure,
  ) {
    super(endpoint);
    this.message = `Permission denied at ${endpoint.display} (${endpoint.source}): ${failure.reason}; ${failure.fix}.`;
  }
}

export function sshEngineError(
  endpoint: DockerEndpoint,
  failure: SshFailure,
): EngineUnreachableError | EnginePermissionError {
  return failure.kind === "engine-permission"
    ? new SshEnginePermissionError(endpoint, failure)
    : new SshEngineUnreachableError(endpoint, failure);
}
