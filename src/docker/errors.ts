// Errors of the Engine client, one family. Each message is one line that names the cause
// and, where the fix lies in the engine or its settings, the fix. Callers map the classes to
// their own words and exit codes.
import type { DockerEndpoint } from "./docker-endpoint.ts";
import { sizeInWords } from "../lib/text.ts";

export class DockerError extends Error {
  override name = "DockerError";
}

/** The endpoint setting itself is wrong (a malformed host, a missing context, unreadable TLS files). */
export class EndpointError extends DockerError {
  override name = "EndpointError";
}

/** Nothing answers at the endpoint (no socket, connection refused, DNS, TLS). */
export class EngineUnreachableError extends DockerError {
  override name = "EngineUnreachableError";
  constructor(
    readonly endpoint: DockerEndpoint,
    readonly reason: string,
    /** The way out, when the cause says it (an ssh login refused); otherwise the caller's. */
    readonly fix?: string,
  ) {
    super(`Docker engine unreachable at ${endpoint.display} (${endpoint.source}): ${reason}${fix ? `; ${fix}` : ""}.`);
  }
}

/** Several usual sockets exist and none answers: each one tried, and why it failed. */
export class NoEngineAnswersError extends EngineUnreachableError {
  override name = "NoEngineAnswersError";
  constructor(
    endpoint: DockerEndpoint,
    readonly tried: Array<{ endpoint: DockerEndpoint; reason: string }>,
  ) {
    super(endpoint, tried.map((t) => `${t.endpoint.display} (${t.endpoint.source}): ${t.reason}`).join("; "));
    this.message = `no Docker engine answers at the usual sockets: ${this.reason}.`;
  }
}

/** The engine took a connection but did not answer in time, or its answer stopped moving. */
export class EngineTimeoutError extends EngineUnreachableError {
  override name = "EngineTimeoutError";
  constructor(
    endpoint: DockerEndpoint,
    /** the request, e.g. "GET /v1.41/images/json" */
    readonly request: string,
    readonly timeoutMs: number,
    stalled = false,
  ) {
    super(
      endpoint,
      `${stalled ? "the answer stopped moving" : "no answer"} within ${seconds(timeoutMs)} to ${request}; the engine may be hung (restart it)`,
    );
  }
}

/** Something answers at the endpoint, but not the Docker Engine API (a web server, another service). */
export class NotAnEngineError extends EngineUnreachableError {
  override name = "NotAnEngineError";
  constructor(endpoint: DockerEndpoint, what: string) {
    super(endpoint, `what answers there is not a Docker engine (${what})`);
  }
}

/**
 * An answer that is not a stream came larger than the client takes (an endless body, or an
 * engine flooding it): it is cut off there, so no answer can exhaust this process's memory.
 */
export class EngineAnswerTooLargeError extends EngineUnreachableError {
  override name = "EngineAnswerTooLargeError";
  constructor(
    endpoint: DockerEndpoint,
    /** the request, e.g. "GET /v1.41/version" */
    readonly request: string,
    readonly maxBytes: number,
  ) {
    super(
      endpoint,
      `the answer to ${request} is larger than ${sizeInWords(maxBytes)}, more than a Docker engine sends`,
    );
  }
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}

/** The socket exists but this user may not open it. */
export class EnginePermissionError extends DockerError {
  override name = "EnginePermissionError";
  constructor(readonly endpoint: DockerEndpoint) {
    super(
      `Permission denied on ${endpoint.display} (${endpoint.source}). ` +
        `Add your user to the 'docker' group and log in again, or use rootless Docker ` +
        `(DOCKER_HOST=unix://$XDG_RUNTIME_DIR/docker.sock).`,
    );
  }
}

/** Any error answer of the Engine API, with the engine's own message. */
export class DockerApiError extends DockerError {
  override name = "DockerApiError";
  constructor(
    readonly status: number,
    readonly engineMessage: string,
    readonly operation: string,
  ) {
    super(`${operation} failed: ${engineMessage} (HTTP ${status})`);
  }
}

export class NotFoundError extends DockerApiError {
  override name = "NotFoundError";
}

export class ConflictError extends DockerApiError {
  override name = "ConflictError";
}

/** An error reported inside a progress stream (pull, build): the HTTP status was 200. */
export class DockerStreamError extends DockerError {
  override name = "DockerStreamError";
  constructor(
    readonly operation: string,
    readonly engineMessage: string,
  ) {
    super(`${operation} failed: ${engineMessage}`);
  }
}

export function apiErrorFor(status: number, engineMessage: string, operation: string): DockerApiError {
  if (status === 404) return new NotFoundError(status, engineMessage, operation);
  if (status === 409) return new ConflictError(status, engineMessage, operation);
  return new DockerApiError(status, engineMessage, operation);
}
