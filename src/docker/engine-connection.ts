// How requests reach the engine: the origin of their URLs and the fetch options of the way
// there. A unix socket; TCP, with the endpoint's TLS files when it names them; or, for an
// ssh:// endpoint, the local socket of an ssh tunnel, opened on the first request.
import type { DockerEndpoint } from "./docker-endpoint.ts";
import { EndpointError } from "./errors.ts";
import type { SshFailure } from "./ssh/ssh-failure.ts";
import { SshTunnel, type SshTunnelOptions } from "./ssh/ssh-tunnel.ts";
import { tlsFetchOptions, unixSocketFetchOptions } from "./transport.ts";

/** The host part of a URL sent through a socket: ignored there, but a URL must have one. */
const SOCKET_ORIGIN = "http://docker";

export class EngineConnection {
  private current!: DockerEndpoint;
  private base!: string;
  /** what reaches the endpoint without a tunnel; empty for ssh */
  private direct!: Record<string, unknown>;
  private readonly tunnel?: SshTunnel;
  private tunnelled?: Promise<Record<string, unknown>>;

  /** Fails (EndpointError) when the endpoint's TLS files cannot be read. */
  constructor(endpoint: DockerEndpoint, ssh?: SshTunnelOptions) {
    if (endpoint.kind === "ssh") this.tunnel = new SshTunnel(endpoint.ssh!, ssh);
    this.use(endpoint);
  }

  get endpoint(): DockerEndpoint {
    return this.current;
  }

  /** Where request paths are appended, e.g. "http://docker" or "https://host:2376". */
  get origin(): string {
    return this.base;
  }

  /** Sends the next requests to this endpoint (one of the first one's alternatives). */
  use(endpoint: DockerEndpoint): void {
    this.current = endpoint;
    if (endpoint.kind === "tcp") {
      this.base = endpoint.origin!;
      this.direct = endpoint.tls ? readTlsFiles(endpoint) : {};
      return;
    }
    this.base = SOCKET_ORIGIN;
    this.direct = endpoint.kind === "unix" ? unixSocketFetchOptions(endpoint.socketPath!) : {};
  }

  /** The fetch options that lead to the endpoint; over ssh, once the tunnel listens. */
  async fetchOptions(): Promise<Record<string, unknown>> {
    if (!this.tunnel) return this.direct;
    this.tunnelled ??= this.tunnel.socketPath().then(unixSocketFetchOptions);
    // A tunnel that failed to open is tried again by the next request.
    this.tunnelled.catch(() => (this.tunnelled = undefined));
    return { ...this.direct, ...(await this.tunnelled) };
  }

  /** Over ssh: why ssh failed last, which says more than the local socket's error. */
  lastSshFailure(): SshFailure | undefined {
    return this.tunnel?.lastFailure();
  }

  /** Ends the ssh processes and the local socket, if any; idempotent. */
  async close(): Promise<void> {
    await this.tunnel?.close();
  }

  closeSync(): void {
    this.tunnel?.closeSync();
  }
}

function readTlsFiles(endpoint: DockerEndpoint): Record<string, unknown> {
  try {
    return tlsFetchOptions(endpoint.tls!);
  } catch (error) {
    const detail = (error as Error).message.split("\n")[0];
    throw new EndpointError(
      `cannot read the TLS certificates for ${endpoint.display} (${endpoint.source}): ${detail}; ` +
        `set DOCKER_CERT_PATH to the folder holding ca.pem, cert.pem and key.pem`,
    );
  }
}
