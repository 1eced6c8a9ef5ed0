// Opens the Docker engine the user asked for: an explicit choice, else the environment,
// the docker context or the usual sockets (see docker/endpoint.ts for the order).
import { DockerClient } from "../docker/client.ts";
import { resolveEndpoint } from "../docker/endpoint.ts";
import { onExit } from "../lib/shutdown.ts";

export interface EngineChoice {
  /** unix:///path, tcp://host:port or ssh://[user@]host[:port] chosen explicitly; wins over the environment */
  host?: string;
  /** how that choice is named in messages, e.g. "--host" */
  hostSource?: string;
}

export function openEngine(choice: EngineChoice = {}): DockerClient {
  const endpoint = resolveEndpoint({ host: choice.host || undefined, hostSource: choice.hostSource });
  const client = new DockerClient(endpoint);
  // An ssh endpoint runs ssh processes and a local socket. They end when the process
  // does, not in a shutdown step: those run side by side, and the ones that remove
  // containers on the remote engine still need the connection.
  if (endpoint.kind === "ssh") onExit(() => client.closeSync());
  return client;
}
