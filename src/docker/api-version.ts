// Which Engine API version the client speaks: the range it was written for, and the choice
// within it once the engine has said which version it offers.
import type { DockerEndpoint } from "./docker-endpoint.ts";
import { DockerError, NotAnEngineError } from "./errors.ts";
import { quoted } from "../lib/safe-text.ts";

/** Newest API version whose behaviour this client was written against. */
export const CLIENT_MAX_API_VERSION = "1.47";
/** Oldest engine we accept: Docker 20.10 (BuildKit builds over /build?version=2). */
const CLIENT_MIN_API_VERSION = "1.41";

/**
 * The version to use with an engine that offers `server`: the lower of it and the client's
 * newest. An answer that is no version, or an engine older than the client's oldest, fails.
 */
export function agreedApiVersion(server: string, endpoint: DockerEndpoint): string {
  if (!/^\d+\.\d+$/.test(server)) {
    throw new NotAnEngineError(endpoint, `an API version of ${quoted(server, 40)} from GET /_ping`);
  }
  if (compareApiVersions(server, CLIENT_MIN_API_VERSION) < 0) {
    throw new DockerError(
      `Docker engine API ${server} at ${endpoint.display} is older than ${CLIENT_MIN_API_VERSION} (Docker 20.10); upgrade Docker`,
    );
  }
  return compareApiVersions(server, CLIENT_MAX_API_VERSION) < 0 ? server : CLIENT_MAX_API_VERSION;
}

/** Compares "1.41" and "1.47" numerically, part by part. */
export function compareApiVersions(a: string, b: string): number {
  const left = a.split(".").map(Number);
  const right = b.split(".").map(Number);
  for (let part = 0; part < Math.max(left.length, right.length); part++) {
    const difference = (left[part] ?? 0) - (right[part] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}
