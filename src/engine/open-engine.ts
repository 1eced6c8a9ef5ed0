// Opens the Docker engine the user asked for: an explicit choice, else the environment,
// the docker context or the usual sockets (see docker/endpoint.ts for the order).
import { DockerClient } from "../docker/client.ts";
import { resolveEndpoint } from "../docker/endpoint.ts";
import { engineVersion } from "../docker/system.ts";
import { holdExitFor } from "../lib/shutdown.ts";

export interface EngineChoice {
  /** unix:///path or tcp://host:port chosen explicitly; wins over the environment */
  host?: string;
  /** how that choice is named in messages, e.g. "--host" */
  hostSource?: string;
  /** the longest an API call that is not a stream may take (default: the client's, 30 s) */
  requestTimeoutMs?: number;
}

export function openEngine(choice: EngineChoice = {}): DockerClient {
  return new DockerClient(resolveEndpoint({ host: choice.host || undefined, hostSource: choice.hostSource }), {
    requestTimeoutMs: choice.requestTimeoutMs,
    // A container whose create request is on its way when Ctrl-C comes is still removed.
    onChangingRequest: holdExitFor,
  });
}

/**
 * Resolves once the engine answers a real API call, not only /_ping: a hung engine may answer
 * /_ping and nothing else. Throws the client's typed error (unreachable, timed out, not an engine).
 */
export async function requireEngine(client: DockerClient): Promise<void> {
  await engineVersion(client);
}
