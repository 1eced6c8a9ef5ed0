// Opens the Docker engine the user asked for: an explicit choice, else the environment,
// the docker context or the usual sockets (see docker/endpoint.ts for the order).
import { DockerClient } from "../docker/client.ts";
import { resolveEndpoint } from "../docker/endpoint.ts";

export interface EngineChoice {
  /** unix:///path or tcp://host:port chosen explicitly; wins over the environment */
  host?: string;
  /** how that choice is named in messages, e.g. "--host" */
  hostSource?: string;
}

export function openEngine(choice: EngineChoice = {}): DockerClient {
  return new DockerClient(resolveEndpoint({ host: choice.host || undefined, hostSource: choice.hostSource }));
}
