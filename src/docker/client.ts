// A small Docker Engine API client: one HTTP transport (ofetch over a unix socket, TCP, or
// an ssh tunnel's local socket), API version negotiation, deadlines on every call, and
// mapping of failures to typed errors. Resource modules (system, images, containers, build) build on `request` and `stream`.
import { type FetchOptions, ofetch } from "ofetch";
import { tlsFetchOptions, unixSocketFetchOptions } from "./transport.ts";
import type { DockerEndpoint } from "./endpoint.ts";
import {
  DockerApiError,
  DockerError,
  EndpointError,
  EnginePermissionError,
  EngineTimeoutError,
  EngineUnreachableError,
  NoEngineAnswersError,
  NotAnEngineError,
  apiErrorFor,
} from "./errors.ts";
import { quoted, withoutEscapes } from "../lib/safe-text.ts";
import { oneLine } from "../lib/text.ts";
import { sshEngineError } from "./ssh/ssh-errors.ts";
import { SshTunnel, type SshTunnelOptions } from "./ssh/ssh-tunnel.ts";

/** Newest API version whose behaviour this client was written against. */
export const CLIENT_MAX_API_VERSION = "1.47";
/** Oldest engine we accept: Docker 20.10 (BuildKit builds over /build?version=2). */
const CLIENT_MIN_API_VERSION = "1.41";

export type Query = Record<string, string | string[] | number | boolean | undefined>;

/** How long a call that is not a stream may take by default: its answer's head and body. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** How long /_ping may take by default: the first call of every command, and the cheapest. */
export const DEFAULT_PING_TIMEOUT_MS = 5_000;

export interface ClientOptions {
  /** Use this API version instead of negotiating one. */
  apiVersion?: string;
  /** The longest a call that is not a stream may take, in ms (default 30 s). */
  requestTimeoutMs?: number;
  /** The longest /_ping may take, in ms (default 5 s, never more than requestTimeoutMs). */
  pingTimeoutMs?: number;
  /**
   * Sees every request that may change the engine (not GET, under a deadline; a stream until
   * its answer's head): a program that exits on a signal can wait for them and undo what they made.
   */
  onChangingRequest?: (request: Promise<unknown>) => void;
  /** How to run ssh for an ssh:// endpoint (default: `ssh` from the PATH). */
  ssh?: SshTunnelOptions;
}

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  headers?: Record<string, string>;
  /**
   * `request`: the longest the whole call may take; `stream`: the longest until the answer's
   * head. Default: the client's deadline; `false`: none, for a call that lasts as long as a
   * container runs (wait). While a body is uploaded, the time runs from its last chunk.
   */
  timeoutMs?: number | false;
  /**
   * `stream` only: the longest the answer may stay silent once it started. Default none: a
   * container's logs or a build step may be quiet for a long time; pull progress may not.
   */
  idleTimeoutMs?: number;
  signal?: AbortSignal;
  /** Names the operation in error messages, e.g. "inspect image foo". */
  operation?: string;
}

/** A timer that aborts the call it guards; re-armed whenever the call moves. */
class Deadline {
  private timer: ReturnType<typeof setTimeout> | undefined;
  reason: Error | undefined;
  constructor(
    private readonly controller: AbortController,
    private readonly ms: number | false,
    private readonly error: () => Error,
  ) {}
  arm(): void {
    if (this.ms === false) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.reason = this.error();
      this.controller.abort(this.reason);
    }, this.ms);
  }
  stop(): void {
    clearTimeout(this.timer);
  }
}

/** One call on its way: its answer, and the timers that still guard reading it. */
interface Call {
  response: Response;
  /** e.g. "GET /v1.41/images/json", for messages */
  request: string;
  deadline: Deadline;
  controller: AbortController;
}

export class DockerClient {
  private current!: DockerEndpoint;
  private origin!: string;
  private transport!: Record<string, unknown>;
  /** ssh endpoints: the local socket that leads to the engine, opened on first use */
  private tunnel?: SshTunnel;
  private tunnelTransport?: Promise<Record<string, unknown>>;
  private negotiated?: Promise<string>;
  private libpod = false;
  private fixedApiVersion?: string;
  private readonly requestDeadlineMs: number;
  private readonly pingTimeoutMs: number;
  private readonly onChangingRequest?: (request: Promise<unknown>) => void;

  constructor(endpoint: DockerEndpoint, options: ClientOptions = {}) {
    if (endpoint.kind === "ssh") this.tunnel = new SshTunnel(endpoint.ssh!, options.ssh);
    this.fixedApiVersion = options.apiVersion;
    this.requestDeadlineMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.onChangingRequest = options.onChangingRequest;
    this.pingTimeoutMs = Math.min(options.pingTimeoutMs ?? DEFAULT_PING_TIMEOUT_MS, this.requestTimeoutMs);
    this.use(endpoint);
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

  /**
   * Whether the engine that answered the last ping is Podman (its Docker API answers with a
   * Libpod-Api-Version header), for what differs there; false before the first ping.
   */
  get podman(): boolean {
    return this.libpod;
  }

  /** How long a call that is not a stream may wait for its answer, in ms. */
  get requestTimeoutMs(): number {
    return this.requestDeadlineMs;
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
      if (!/^\d+\.\d+$/.test(server)) {
        throw new NotAnEngineError(this.endpoint, `an API version of ${quoted(server, 40)} from GET /_ping`);
      }
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
    let call: Call;
    try {
      call = await this.send("GET", "/_ping", { operation: "ping", timeoutMs: this.pingTimeoutMs, signal }, false);
    } catch (error) {
      // An engine answers /_ping with 200; an error status means something else listens.
      if (error instanceof DockerApiError) throw new NotAnEngineError(this.endpoint, `HTTP ${error.status} to GET /_ping`);
      throw error;
    }
    call.deadline.stop();
    this.libpod = call.response.headers.has("libpod-api-version");
    const header = call.response.headers.get("api-version");
    await call.response.body?.cancel().catch(() => undefined);
    if (header) return header;
    // Very old or unusual servers: ask /version instead.
    const version = await this.requestJson<{ ApiVersion?: unknown }>("GET", "/version", { operation: "version" }, false);
    if (typeof version?.ApiVersion !== "string") throw new NotAnEngineError(this.endpoint, "no API version from GET /version");
    return version.ApiVersion;
  }

  /** A request whose answer is JSON (or empty), under the client's deadline unless told otherwise. */
  async request<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const answer = this.requestJson<T>(method, path, options, true);
    if (method !== "GET" && options.timeoutMs !== false) this.onChangingRequest?.(answer);
    return answer;
  }

  /** A HEAD request, under the client's deadline: answers the response's headers. */
  async head(path: string, options: RequestOptions = {}): Promise<Headers> {
    const call = await this.send("HEAD", path, options, true);
    call.deadline.stop();
    await call.response.body?.cancel().catch(() => undefined);
    return call.response.headers;
  }

  /**
   * A request whose answer is read as a byte stream (logs, pull and build progress). The
   * deadline covers the answer's head; `idleTimeoutMs` the silences after it.
   */
  async stream(method: string, path: string, options: RequestOptions = {}): Promise<ReadableStream<Uint8Array>> {
    const sent = this.send(method, path, options, true);
    if (method !== "GET") this.onChangingRequest?.(sent);
    const call = await sent;
    call.deadline.stop();
    if (!call.response.body) return new ReadableStream({ start: (c) => c.close() });
    const idle =
      options.idleTimeoutMs === undefined
        ? undefined
        : new Deadline(call.controller, options.idleTimeoutMs, () => new EngineTimeoutError(this.endpoint, call.request, options.idleTimeoutMs!, true));
    idle?.arm();
    return watchedStream(call.response.body, {
      onChunk: () => idle?.arm(),
      onEnd: () => idle?.stop(),
      onError: (error) => {
        idle?.stop();
        if (idle?.reason) return idle.reason;
        if (options.signal?.aborted) return error;
        return new EngineUnreachableError(this.endpoint, `the connection closed in the middle of the answer to ${call.request}`);
      },
    });
  }

  private async requestJson<T>(method: string, path: string, options: RequestOptions, versioned: boolean): Promise<T> {
    const call = await this.send(method, path, options, versioned);
    let text: string;
    try {
      text = await call.response.text();
    } catch (error) {
      if (call.deadline.reason) throw call.deadline.reason;
      if (options.signal?.aborted) throw error;
      throw new EngineUnreachableError(this.endpoint, `the connection closed in the middle of the answer to ${call.request}`);
    } finally {
      call.deadline.stop();
    }
    // Podman answers some calls (a tag: 201) with a lone newline for "no body".
    if (!text.trim()) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new NotAnEngineError(this.endpoint, `${describeBody(text, call.response)} to ${call.request}`);
    }
  }

  private async send(method: string, path: string, options: RequestOptions, versioned: boolean): Promise<Call> {
    const prefix = versioned ? `/v${await this.apiVersion()}` : "";
    const request = `${method} ${prefix}${readablePath(path)}`;
    const controller = new AbortController();
    const timeoutMs = options.timeoutMs === undefined ? this.requestTimeoutMs : options.timeoutMs;
    const deadline = new Deadline(controller, timeoutMs, () => new EngineTimeoutError(this.endpoint, request, timeoutMs as number));
    const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;

    let body = options.body;
    const isJsonBody = body !== undefined && !(body instanceof ReadableStream) && !(body instanceof Uint8Array);
    // An upload moves the call along: the deadline runs from its last chunk, not from the start.
    if (body instanceof ReadableStream) body = watchedStream(body, { onChunk: () => deadline.arm() });
    const fetchOptions: FetchOptions<"stream"> & Record<string, unknown> = {
      ...this.transport,
      method,
      query: cleanQuery(options.query),
      headers: { ...(isJsonBody ? { "content-type": "application/json" } : {}), ...options.headers },
      body: (isJsonBody ? JSON.stringify(body) : body) as any,
      responseType: "stream",
      ignoreResponseError: true,
      retry: 0,
      // Deadlines are ours (above): ofetch's would also end a long, healthy stream.
      timeout: false as unknown as number,
      signal,
    };
    deadline.arm();
    let response: Response;
    try {
      if (this.tunnel) Object.assign(fetchOptions, await this.tunnelFetchOptions());
      response = await ofetch.raw(this.origin + prefix + path, fetchOptions);
    } catch (error) {
      deadline.stop();
      if (deadline.reason) throw deadline.reason;
      throw this.connectionError(error, request);
    }
    if (response.status >= 400) {
      const text = await response.text().catch(() => "");
      deadline.stop();
      if (deadline.reason) throw deadline.reason;
      throw apiErrorFor(response.status, engineMessage(text, response), options.operation ?? `${method} ${path}`);
    }
    return { response, request, deadline, controller };
  }

  private tunnelFetchOptions(): Promise<Record<string, unknown>> {
    this.tunnelTransport ??= this.tunnel!.socketPath().then(unixSocketFetchOptions);
    this.tunnelTransport.catch(() => (this.tunnelTransport = undefined));
    return this.tunnelTransport;
  }

  /** Maps a network-level failure (no HTTP answer at all) to a typed error. */
  private connectionError(error: unknown, request: string): Error {
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
    if (/malformed_http|invalid http|parse error|invalid status line|invalid header|http\/0\.9/i.test(`${code} ${text}`)) {
      return new NotAnEngineError(this.endpoint, `an answer that is not HTTP to ${request}`);
    }
    let reason = "no answer";
    if (code === "ENOENT" || /no such file|os error 2\b/i.test(text)) reason = "the socket does not exist";
    else if (code === "ECONNREFUSED" || /connection refused|os error 111\b/i.test(text)) reason = "connection refused";
    else if (code === "ECONNRESET" || /connection (was )?(closed|reset)|closed unexpectedly|os error 104\b/i.test(text)) {
      reason = `the connection closed before an answer to ${request} came`;
    } else if (code === "ENOTFOUND" || code === "EAI_AGAIN" || /failed to lookup|dns error/i.test(text)) {
      reason = "the host name does not resolve";
    } else if (code) reason = code;
    else if (chain.at(-1)?.message) reason = withoutEscapes(String(chain.at(-1).message).split("\n")[0]!);
    return new EngineUnreachableError(this.endpoint, reason);
  }
}

/**
 * The stream, read a chunk at a time as the consumer pulls (no read-ahead), telling the
 * caller about each chunk, the end and a failure (whose error it may replace).
 */
function watchedStream(
  source: ReadableStream<Uint8Array>,
  hooks: { onChunk?: () => void; onEnd?: () => void; onError?: (error: unknown) => unknown },
): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let next: Awaited<ReturnType<typeof reader.read>>;
        try {
          next = await reader.read();
        } catch (error) {
          controller.error(hooks.onError ? hooks.onError(error) : error);
          return;
        }
        if (next.done) {
          hooks.onEnd?.();
          controller.close();
        } else {
          hooks.onChunk?.();
          controller.enqueue(next.value);
        }
      },
      cancel(reason) {
        hooks.onEnd?.();
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

/** The path as a person reads it ("images/a/b:1/json", not "images/a%2Fb%3A1/json"), for messages. */
function readablePath(path: string): string {
  try {
    return withoutEscapes(decodeURIComponent(path));
  } catch {
    return path;
  }
}

/** A few words on a body that should have been JSON: what a person would call it. */
function describeBody(text: string, response: Response): string {
  const type = (response.headers.get("content-type") ?? "").split(";")[0]!.trim();
  if (/html/i.test(type) || /^\s*</.test(text)) return "an HTML page";
  const start = withoutEscapes(text.trim().slice(0, 40));
  return `text that is not JSON${type ? ` (${type})` : ""}: ${quoted(start, 50)}`;
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

/**
 * The engine answers errors as `{"message": "..."}`; anything else (a proxy's error page) is
 * named, not printed. One line, without control characters, either way.
 */
function engineMessage(text: string, response: Response): string {
  try {
    const parsed = JSON.parse(text);
    if (typeof parsed?.message === "string") return withoutEscapes(oneLine(parsed.message));
  } catch {
    // not JSON
  }
  if (!text.trim()) return "no message";
  return describeBody(text, response);
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
