// A small Docker Engine API client: one HTTP transport (ofetch over a unix socket, TCP,
// or an ssh tunnel's local socket), API version negotiation, and mapping of failures to
// typed errors. Resource modules (system, images, containers, build) build on `request`
// and `stream`. An ssh endpoint runs processes: close() the client when done.
import { type FetchOptions, ofetch } from "ofetch";
import { tlsFetchOptions, unixSocketFetchOptions } from "./transport.ts";
import type { DockerEndpoint } from "./endpoint.ts";
import { DockerError, EndpointError, EnginePermissionError, EngineUnreachableError, NoEngineAnswersError, apiErrorFor } from "./errors.ts";
import { sshEngineError } from "./ssh/ssh-errors.ts";
import { SshTunnel, type SshTunnelOptions } from "./ssh/ssh-tunnel.ts";

/** Newest API version whose behaviour this client was written against. */
export const CLIENT_MAX_API_VERSION = "1.47";
/** Oldest engine we accept: Docker 20.10 (BuildKit builds over /build?version=2). */
const CLIENT_MIN_API_VERSION = "1.41";

export type Query = Record<string, string | string[] | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  headers?: Record<string, string>;
  /** Time to the response headers, in ms (streams may run longer). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Names the operation in error messages, e.g. "inspect image foo". */
  operation?: string;
}

export class DockerClient {
  private current!: DockerEndpoint;
  private origin!: string;
  private transport!: Record<string, unknown>;
  /** ssh endpoints: the local socket that leads to the engine, opened on first use */
  private tunnel?: SshTunnel;
  private tunnelTransport?: Promise<Record<string, unknown>>;
  private negotiated?: Promise<string>;
  private fixedApiVersion?: string;

  constructor(endpoint: DockerEndpoint, options: { apiVersion?: string; ssh?: SshTunnelOptions } = {}) {
    if (endpoint.kind === "ssh") this.tunnel = new SshTunnel(endpoint.ssh!, options.ssh);
    this.use(endpoint);
    this.fixedApiVersion = options.apiVersion;
  }

  /** Ends what the client runs for its endpoint (ssh processes, a local socket); idempotent. */
  async close(): Promise<void> {
    await this.tunnel?.close();
  }

  /** close() without waiting, for a process "exit" handler. */
  closeSync(): void {
    this.tunnel?.closeSync();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** The endpoint in use: after negotiation, the candidate that answered. */
  get endpoint(): DockerEndpoint {
    return this.current;
  }

  private use(endpoint: DockerEndpoint): void {
    this.current = endpoint;
    if (endpoint.kind === "ssh") {
      this.origin = "http://docker";
      this.transport = {}; // the tunnel's socket, once it listens (tunnelFetchOptions)
    } else if (endpoint.kind === "unix") {
      // The host part is ignored on a unix socket but must be a valid URL.
      this.origin = "http://docker";
      this.transport = unixSocketFetchOptions(endpoint.socketPath!);
    } else {
      this.origin = endpoint.origin!;
      this.transport = endpoint.tls ? readTlsFiles(endpoint) : {};
    }
  }

  /** The API version used for requests: min(client max, server's), negotiated once. */
  apiVersion(): Promise<string> {
    if (this.fixedApiVersion) return Promise.resolve(this.fixedApiVersion);
    this.negotiated ??= this.negotiate().then((server) => {
      if (compareApiVersions(server, CLIENT_MIN_API_VERSION) < 0) {
        throw new DockerError(
          `Docker engine API ${server} at ${this.endpoint.display} is older than ${CLIENT_MIN_API_VERSION} (Docker 20.10); upgrade Docker`,
        );
      }
      return compareApiVersions(server, CLIENT_MAX_API_VERSION) < 0 ? server : CLIENT_MAX_API_VERSION;
    });
    // A failed negotiation must not be cached: the engine may come up later.
    this.negotiated.catch(() => (this.negotiated = undefined));
    return this.negotiated;
  }

  /**
   * Pings the endpoint; when it was found among the usual sockets and refuses or is gone, the
   * next one that exists is tried, so a socket this user may not open never wins over one that
   * answers. Answers the server's API version.
   */
  private async negotiate(): Promise<string> {
    const first = this.current;
    const candidates = [first, ...(first.alternatives ?? [])];
    const failures: Array<{ endpoint: DockerEndpoint; reason: string }> = [];
    for (const candidate of candidates) {
      this.use(candidate);
      try {
        return await this.ping();
      } catch (error) {
        const reason = error instanceof EngineUnreachableError ? error.reason : error instanceof EnginePermissionError ? "permission denied" : undefined;
        if (reason === undefined || candidates.length === 1) throw error;
        failures.push({ endpoint: candidate, reason });
      }
    }
    this.use(first);
    throw new NoEngineAnswersError(first, failures);
  }

  /** GET /_ping (unversioned); returns the server's API version. */
  async ping(signal?: AbortSignal): Promise<string> {
    const response = await this.send("GET", "/_ping", { operation: "ping", timeoutMs: 10_000, signal }, false);
    const header = response.headers.get("api-version");
    await response.body?.cancel();
    if (header) return header;
    // Very old or unusual servers: ask /version instead.
    const version = await this.requestJson<{ ApiVersion: string }>("GET", "/version", { operation: "version" }, false);
    return version.ApiVersion;
  }

  /** A request whose answer is JSON (or empty). */
  async request<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    return this.requestJson<T>(method, path, options, true);
  }

  /** A request whose answer is read as a byte stream (logs, pull and build progress). */
  async stream(method: string, path: string, options: RequestOptions = {}): Promise<ReadableStream<Uint8Array>> {
    const response = await this.send(method, path, options, true);
    if (!response.body) return new ReadableStream({ start: (c) => c.close() });
    return response.body;
  }

  private async requestJson<T>(method: string, path: string, options: RequestOptions, versioned: boolean): Promise<T> {
    const response = await this.send(method, path, options, versioned);
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  private async send(method: string, path: string, options: RequestOptions, versioned: boolean): Promise<Response> {
    const prefix = versioned ? `/v${await this.apiVersion()}` : "";
    const body = options.body;
    const isJsonBody = body !== undefined && !(body instanceof ReadableStream) && !(body instanceof Uint8Array);
    const fetchOptions: FetchOptions<"stream"> & Record<string, unknown> = {
      ...this.transport,
      method,
      query: cleanQuery(options.query),
      headers: { ...(isJsonBody ? { "content-type": "application/json" } : {}), ...options.headers },
      body: (isJsonBody ? JSON.stringify(body) : body) as any,
      responseType: "stream",
      ignoreResponseError: true,
      retry: 0,
      // false: no idle deadline on Bun's fetch; a silent build step can take long.
      timeout: (options.timeoutMs ?? false) as number,
      signal: options.signal,
    };
    let response: Response;
    try {
      if (this.tunnel) Object.assign(fetchOptions, await this.tunnelFetchOptions());
      response = await ofetch.raw(this.origin + prefix + path, fetchOptions);
    } catch (error) {
      throw this.connectionError(error);
    }
    if (response.status >= 400) {
      const text = await response.text().catch(() => "");
      throw apiErrorFor(response.status, engineMessage(text), options.operation ?? `${method} ${path}`);
    }
    return response;
  }

  private tunnelFetchOptions(): Promise<Record<string, unknown>> {
    this.tunnelTransport ??= this.tunnel!.socketPath().then(unixSocketFetchOptions);
    this.tunnelTransport.catch(() => (this.tunnelTransport = undefined));
    return this.tunnelTransport;
  }

  /** Maps a network-level failure (no HTTP answer at all) to a typed error. */
  private connectionError(error: unknown): Error {
    // Bun puts a code on the error; Deno nests the OS error a few causes deep.
    const chain: any[] = [];
    for (let e: any = error; e && chain.length < 6; e = e.cause) chain.push(e);
    const aborted = chain.find((e) => e?.name === "AbortError" || e?.name === "TimeoutError");
    if (aborted?.name === "AbortError") return aborted as Error;
    // Over ssh, the reason is in ssh's exit code and stderr, not in the local socket.
    const sshFailure = this.tunnel?.lastFailure();
    if (sshFailure) return sshEngineError(this.endpoint, sshFailure);
    if (aborted) return aborted as Error;
    const code = String(chain.find((e) => e?.code)?.code ?? "");
    const text = chain.map((e) => String(e?.message ?? "")).join(" ");
    if (code === "EACCES" || code === "EPERM" || /permission denied|os error 13\b/i.test(text)) {
      return new EnginePermissionError(this.endpoint);
    }
    let reason = "no answer";
    if (code === "ENOENT" || /no such file|os error 2\b/i.test(text)) reason = "the socket does not exist";
    else if (code === "ECONNREFUSED" || /connection refused|os error 111\b/i.test(text)) reason = "connection refused";
    else if (code) reason = code;
    else if (chain.at(-1)?.message) reason = String(chain.at(-1).message).split("\n")[0]!;
    return new EngineUnreachableError(this.endpoint, reason);
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

/** The engine answers errors as `{"message": "..."}`; fall back to the raw text. */
function engineMessage(text: string): string {
  try {
    const parsed = JSON.parse(text);
    if (typeof parsed?.message === "string") return parsed.message.trim();
  } catch {
    // not JSON
  }
  return text.trim() || "no message";
}

/** Drops unset values and spells booleans as the Engine does; arrays repeat the key. */
function cleanQuery(query?: Query): Record<string, string | string[]> | undefined {
  if (!query) return undefined;
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) out[key] = value;
    else out[key] = typeof value === "boolean" ? (value ? "1" : "0") : String(value);
  }
  return out;
}

/** Compares "1.41" and "1.47" numerically, part by part. */
export function compareApiVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const diff = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}
