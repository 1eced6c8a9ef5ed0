// Opens the Docker engine the user asked for (flag, environment, context or default).
import { DockerClient } from "../docker/client.ts";
import { type DockerEndpoint, resolveEndpoint } from "../docker/endpoint.ts";

export interface EngineOptions {
  /** --host: unix:///path or tcp://host:port */
  host?: string;
}

export function openEngine(options: EngineOptions = {}): DockerClient {
  const endpoint: DockerEndpoint = resolveEndpoint({ host: options.host || undefined });
  return new DockerClient(endpoint);
}
