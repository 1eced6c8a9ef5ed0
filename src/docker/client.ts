// A small Docker Engine API client: API version negotiation, deadlines on every call, and
// mapping of failures to typed errors. How requests reach the engine is engine-connection.ts's;
// the resource modules (system, images, containers, build) build on `request` and `stream`.
import { type FetchOptions, ofetch } from "ofetch";
import { agreedApiVersion } from "./api-version.ts";
import { connectionError, describeBody, engineMessage } from "./call-errors.ts";
import { isPlainRequestToTlsServer, plainRequestToTlsServer } from "./tls-failure.ts";
import { Deadline } from "./deadline.ts";
import type { DockerEndpoint } from "./docker-endpoint.ts";
import { EngineConnection } from "./engine-connection.ts";
import {
  DockerApiError,
  EngineAnswerTooLargeError,
  EnginePermissionError,
  EngineTimeoutError,
  EngineUnreachableError,
  NoEngineAnswersError,
  NotAnEngineError,
  apiErrorFor,
} from "./errors.ts";
import { type Query, engineQuery } from "./query.ts";
import type { SshTunnelOptions } from "./ssh/ssh-tunnel.ts";
import { readCappedBody } from "../lib/capped-body.ts";
import { withoutEscapes } from "../lib/safe-text.ts";
import { watchedStream } from "../lib/watched-stream.ts";

/** How long a call that is not a stream may take by default: its answer's head and body. */
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** How long /_ping may take by default: the first call of every command, and the cheapest. */
const DEFAULT_PING_TIMEOUT_MS = 5_000;
/**
 * The largest answer that is not a stream (version, info, an inspect, a list, an error) the
 * client reads by default: far more than an engine sends, far less than a machine's memory.
 */
export const DEFAULT_MAX_ANSWER_BYTES = 16 * 1024 * 1024;

export interface ClientOptions {
  /** Use this API version instead of negotiating one. */
  apiVersion?: string;
  /** The longest a call that is not a stream may take, in ms (default 30 s). */
  requestTimeoutMs?: number;
  /** The longest /_ping may take, in ms (default 5 s, never more than requestTimeoutMs). */
  pingTimeoutMs?: number;
  /** The largest answer that is not a stream, in bytes (default 16 MiB); a larger one is an EngineAnswerTooLargeError. */
  maxAnswerBytes?: number;
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

/** One call on its way: its answer, and the timers that still guard reading it. */
interface Call {
  response: Response;
  /** e.g. "GET /v1.41/images/json", for messages */
  request: string;
  deadline: Deadline;
  controller: AbortController;
}

export class DockerClient {
  private readonly connection: EngineConnection;
  private negotiated?: Promise<string>;
  private libpod = false;
  private fixedApiVersion?: string;
  private readonly requestDeadlineMs: number;
  private readonly pingTimeoutMs: number;
  private readonly maxAnswerBytes: number;
  private readonly onChangingRequest?: (request: Promise<unknown>) => void;

  constructor(endpoint: DockerEndpoint, options: ClientOptions = {}) {
    this.connection = new EngineConnection(endpoint, options.ssh);
    this.fixedApiVersion = options.apiVersion;
    this.requestDeadlineMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.onChangingRequest = options.onChangingRequest;
    this.maxAnswerBytes = options.maxAnswerBytes ?? DEFAULT_MAX_ANSWER_BYTES;
    this.pingTimeoutMs = Math.min(options.pingTimeoutMs ?? DEFAULT_PING_TIMEOUT_MS, this.requestTimeoutMs);
  }

  /** Ends what the client runs for its endpoint (ssh processes, a local socket); idempotent. */
  async close(): Promise<void> {
    await this.connection.close();
  }

  /** close() without waiting, for a process "exit" handler. */
  closeSync(): void {
    this.connection.closeSync();
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
    return this.connection.endpoint;
  }

  /** The API version used for requests: min(client max, server's), negotiated once. */
  apiVersion(): Promise<string> {
    if (this.fixedApiVersion) return Promise.resolve(this.fixedApiVersion);
    this.negotiated ??= this.negotiate().then((server) => agreedApiVersion(server, this.endpoint));
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
    const first = this.connection.endpoint;
    const candidates = [first, ...(first.alternatives ?? [])];
    const failures: Array<{ endpoint: DockerEndpoint; reason: string }> = [];
    for (const candidate of candidates) {
      this.connection.use(candidate);
      try {
        return await this.ping();
      } catch (error) {
        const reason =
          error instanceof EngineUnreachableError
            ? error.reason
            : error instanceof EnginePermissionError
              ? "permission denied"
              : undefined;
        if (reason === undefined || candidates.length === 1) throw error;
        failures.push({ endpoint: candidate, reason });
      }
    }
    this.connection.use(first);
    throw new NoEngineAnswersError(first, failures);
  }

  /** GET /_ping (unversioned); returns the server's API version. */
  async ping(signal?: AbortSignal): Promise<string> {
    let call: Call;
    try {
      call = await this.send("GET", "/_ping", { operation: "ping", timeoutMs: this.pingTimeoutMs, signal }, false);
    } catch (error) {
      // An engine answers /_ping with 200; an error status means something else listens.
      if (error instanceof DockerApiError)
        throw new NotAnEngineError(this.endpoint, `HTTP ${error.status} to GET /_ping`);
      throw error;
    }
    call.deadline.stop();
    this.libpod = call.response.headers.has("libpod-api-version");
    const header = call.response.headers.get("api-version");
    await call.response.body?.cancel().catch(() => undefined);
    if (header) return header;
    // Very old or unusual servers: ask /version instead.
    const version = await this.requestJson<{ ApiVersion?: unknown }>(
      "GET",
      "/version",
      { operation: "version" },
      false,
    );
    if (typeof version?.ApiVersion !== "string")
      throw new NotAnEngineError(this.endpoint, "no API version from GET /version");
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
        : new Deadline(
            call.controller,
            options.idleTimeoutMs,
            () => new EngineTimeoutError(this.endpoint, call.request, options.idleTimeoutMs!, true),
          );
    idle?.arm();
    return watchedStream(call.response.body, {
      onChunk: () => idle?.arm(),
      onEnd: () => idle?.stop(),
      onError: (error) => {
        idle?.stop();
        if (idle?.reason) return idle.reason;
        if (options.signal?.aborted) return error;
        return this.brokeOff(call);
      },
    });
  }

  private async requestJson<T>(method: string, path: string, options: RequestOptions, versioned: boolean): Promise<T> {
    const call = await this.send(method, path, options, versioned);
    let text: string;
    try {
      text = await this.answerText(call.response, call.request);
    } catch (error) {
      if (call.deadline.reason) throw call.deadline.reason;
      if (options.signal?.aborted || error instanceof EngineAnswerTooLargeError) throw error;
      throw this.brokeOff(call);
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

  /** A whole answer's body as text, read under the deadline of its call, at most maxAnswerBytes of it. */
  private async answerText(response: Response, request: string): Promise<string> {
    const bytes = await readCappedBody(response.body, this.maxAnswerBytes);
    if (!bytes) throw new EngineAnswerTooLargeError(this.endpoint, request, this.maxAnswerBytes);
    return new TextDecoder().decode(bytes);
  }

  /** An answer whose body stopped coming because the connection closed. */
  private brokeOff(call: Call): EngineUnreachableError {
    return new EngineUnreachableError(
      this.endpoint,
      `the connection closed in the middle of the answer to ${call.request}`,
    );
  }

  private async send(method: string, path: string, options: RequestOptions, versioned: boolean): Promise<Call> {
    const prefix = versioned ? `/v${await this.apiVersion()}` : "";
    const request = `${method} ${prefix}${readablePath(path)}`;
    const controller = new AbortController();
    const timeoutMs = options.timeoutMs === undefined ? this.requestTimeoutMs : options.timeoutMs;
    const deadline = new Deadline(
      controller,
      timeoutMs,
      () => new EngineTimeoutError(this.endpoint, request, timeoutMs as number),
    );
    const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;

    let body = options.body;
    const isJsonBody = body !== undefined && !(body instanceof ReadableStream) && !(body instanceof Uint8Array);
    // An upload moves the call along: the deadline runs from its last chunk, not from the start.
    if (body instanceof ReadableStream) body = watchedStream(body, { onChunk: () => deadline.arm() });
    const fetchOptions: FetchOptions<"stream"> & Record<string, unknown> = {
      method,
      query: engineQuery(options.query),
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
      Object.assign(fetchOptions, await this.connection.fetchOptions());
      response = await ofetch.raw(this.connection.origin + prefix + path, fetchOptions);
    } catch (error) {
      deadline.stop();
      if (deadline.reason) throw deadline.reason;
      throw connectionError(error, this.endpoint, request, this.connection.lastSshFailure());
    }
    if (response.status >= 400) {
      const text = await this.answerText(response, request).catch((error) =>
        error instanceof EngineAnswerTooLargeError ? error : "",
      );
      deadline.stop();
      if (deadline.reason) throw deadline.reason;
      if (text instanceof EngineAnswerTooLargeError) throw text;
      if (isPlainRequestToTlsServer(response.status, text)) {
        const tls = plainRequestToTlsServer();
        throw new EngineUnreachableError(this.endpoint, tls.reason, tls.fix);
      }
      throw apiErrorFor(response.status, engineMessage(text, response), options.operation ?? `${method} ${path}`);
    }
    return { response, request, deadline, controller };
  }
}

/** The path as a person reads it ("images/a/b:1/json", not "images/a%2Fb%3A1/json"), for messages. */
function readablePath(path: string): string {
  try {
    return withoutEscapes(decodeURIComponent(path));
  } catch {
    return path;
  }
}
