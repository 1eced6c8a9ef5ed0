// Opens the Docker engine the user asked for: an explicit choice, else the environment,
// the docker context or the usual sockets (see docker/endpoint.ts for the order).
import { DockerClient } from "../docker/client.ts";
import { resolveEndpoint } from "../docker/endpoint.ts";
import { engineVersion } from "../docker/system.ts";
import { holdExitFor, onExit } from "../lib/shutdown.ts";

export interface EngineChoice {
  /** unix:///path, tcp://host:port or ssh://[user@]host[:port] chosen explicitly; wins over the environment */
  host?: string;
  /** how that choice is named in messages, e.g. "--host" */
  hostSource?: string;
  /** the longest an API call that is not a stream may take (default: the client's, 30 s) */
  requestTimeoutMs?: number;
}

export function openEngine(choice: EngineChoice = {}): DockerClient {
  const endpoint = resolveEndpoint({ host: choice.host || undefined, hostSource: choice.hostSource });
  const client = new DockerClient(endpoint, {
    requestTimeoutMs: choice.requestTimeoutMs,
    // A container whose create request is on its way when Ctrl-C comes is still removed.
    onChangingRequest: holdExitFor,
  });
  // An ssh endpoint runs ssh processes and a local socket. They end when the process
  // does, not in a shutdown step: those run side by side, and the ones that remove
  // containers on the remote engine still need the connection.
  if (endpoint.kind === "ssh") onExit(() => client.closeSync());
  return client;
}

/**
 * Resolves once the engine answers a real API call, not only /_ping: a hung engine may answer
 * /_ping and nothing else. Throws the client's typed error (unreachable, timed out, not an engine).
 */
export async function requireEngine(client: DockerClient): Promise<void> {
  await engineVersion(client);
}
