// A byte-for-byte proxy on a temporary unix socket in front of the real engine's socket. It
// lets a test see what the tool really sends (method and path of every request, when the
// first connection came), cut every connection at a moment it chooses (an engine that goes
// away mid-build), freeze them (an engine that hangs mid-run) or hold one call (an engine
// that hangs on it). What answers is the real engine: nothing is faked.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface SeenRequest {
  method: string;
  /** the request target as sent: path and query */
  target: string;
  /** ms since the proxy started */
  at: number;
}

export interface EngineProxy {
  /** unix:///… to pass as DOCKER_HOST or --host */
  host: string;
  socketPath: string;
  requests: SeenRequest[];
  /** ms since the proxy started at which the first client connected; undefined before */
  firstConnectionAt(): number | undefined;
  /** closes every connection, both ways, now */
  cutAll(): void;
  /** from now on passes no byte either way and opens no new upstream connection: a hung engine */
  freeze(): void;
  /** called with each request as it is seen */
  onRequest?: (request: SeenRequest) => void;
  /** a request for which it answers true never gets its answer (nor does its connection again): an engine that hangs on one call */
  hold?: (request: SeenRequest) => boolean;
  stop(): void;
}

interface Link {
  upstream?: Relay;
  /** a held request went over it: nothing comes back any more */
  held?: boolean;
  queued: Uint8Array[];
  parser: RequestParser;
  client: { end(): void };
  toClient: Relay;
}

/**
 * Writes to a socket without losing bytes: a Bun socket takes what fits now and says how much;
 * the rest waits for its drain. (A build context or an archive upload is larger than that.)
 */
interface Relay {
  write(data: Uint8Array): void;
  drain(): void;
  end(): void;
}

function relayTo(socket: { write(data: Uint8Array): number; end(): void }): Relay {
  let pending: Uint8Array[] = [];
  const flush = () => {
    while (pending.length > 0) {
      const next = pending[0]!;
      const written = socket.write(next);
      if (written < next.length) {
        pending[0] = next.subarray(Math.max(written, 0));
        return;
      }
      pending.shift();
    }
  };
  return {
    write(data) {
      pending.push(new Uint8Array(data));
      if (pending.length === 1) flush();
    },
    drain: flush,
    end: () => {
      pending = [];
      socket.end();
    },
  };
}

export async function startEngineProxy(
  engineSocket = process.env.AICAGE_TEST_SOCKET || "/var/run/docker.sock",
): Promise<EngineProxy> {
  const dir = mkdtempSync(join(tmpdir(), "aicage-proxy-"));
  const socketPath = join(dir, "engine.sock");
  const started = performance.now();
  const links = new Set<Link>();
  let firstConnection: number | undefined;
  let frozen = false;
  const proxy: EngineProxy = {
    host: `unix://${socketPath}`,
    socketPath,
    requests: [],
    firstConnectionAt: () => firstConnection,
    cutAll() {
      for (const link of links) {
        link.upstream?.end();
        link.client.end();
      }
      links.clear();
    },
    freeze() {
      frozen = true;
    },
    stop() {
      proxy.cutAll();
      server.stop(true);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const seen = (method: string, target: string) => {
    const request = { method, target, at: performance.now() - started };
    proxy.requests.push(request);
    proxy.onRequest?.(request);
    return request;
  };

  const server = Bun.listen<Link>({
    unix: socketPath,
    socket: {
      async open(client) {
        firstConnection ??= performance.now() - started;
        const link: Link = {
          queued: [],
          parser: createRequestParser((method, target) => {
            const request = seen(method, target);
            if (proxy.hold?.(request)) link.held = true;
          }),
          client,
          toClient: relayTo(client),
        };
        client.data = link;
        links.add(link);
        if (frozen) return;
        const upstream = await Bun.connect({
          unix: engineSocket,
          socket: {
            data: (_s, chunk) => void (frozen || link.held || link.toClient.write(chunk)),
            drain: () => link.upstream?.drain(),
            close: () => void client.end(),
            error: () => void client.end(),
          },
        });
        link.upstream = relayTo(upstream);
        for (const chunk of link.queued) link.upstream.write(chunk);
      },
      data(client, chunk) {
        if (frozen) return;
        const link = client.data;
        link.parser.push(new Uint8Array(chunk));
        if (link.upstream) link.upstream.write(chunk);
        else link.queued.push(new Uint8Array(chunk));
      },
      drain: (client) => client.data?.toClient.drain(),
      close: (client) => {
        client.data?.upstream?.end();
        links.delete(client.data);
      },
      error: (client) => client.data?.upstream?.end(),
    },
  });
  return proxy;
}

/**
 * Finds the request lines in the client's bytes: reads each request's head, then skips its
 * body (Content-Length or chunked), so bytes of a build context are never taken for a request.
 */
interface RequestParser {
  push(bytes: Uint8Array): void;
}

function createRequestParser(onRequest: (method: string, target: string) => void): RequestParser {
  let buffer = new Uint8Array(0);
  let state: "head" | "body" | "chunk-size" | "chunk-data" | "chunk-end" | "trailer" = "head";
  let left = 0;
  const latin1 = new TextDecoder("latin1");

  const indexOf = (needle: string) => {
    outer: for (let i = 0; i + needle.length <= buffer.length; i++) {
      for (let j = 0; j < needle.length; j++) if (buffer[i + j] !== needle.charCodeAt(j)) continue outer;
      return i;
    }
    return -1;
  };
  const take = (count: number) => {
    const taken = buffer.subarray(0, count);
    buffer = buffer.subarray(count);
    return taken;
  };

  return {
    push(bytes) {
      const joined = new Uint8Array(buffer.length + bytes.length);
      joined.set(buffer);
      joined.set(bytes, buffer.length);
      buffer = joined;
      for (;;) {
        if (state === "head") {
          const end = indexOf("\r\n\r\n");
          if (end < 0) return;
          const head = latin1.decode(take(end + 4));
          const [requestLine, ...headerLines] = head.split("\r\n");
          const [method = "", target = ""] = requestLine!.split(" ");
          onRequest(method, target);
          const header = (name: string) =>
            headerLines
              .find((line) => line.toLowerCase().startsWith(`${name}:`))
              ?.slice(name.length + 1)
              .trim();
          if (/chunked/i.test(header("transfer-encoding") ?? "")) state = "chunk-size";
          else if (Number(header("content-length") ?? 0) > 0) {
            left = Number(header("content-length"));
            state = "body";
          }
        } else if (state === "body") {
          const count = Math.min(left, buffer.length);
          take(count);
          left -= count;
          if (left > 0) return;
          state = "head";
        } else if (state === "chunk-size") {
          const end = indexOf("\r\n");
          if (end < 0) return;
          left = parseInt(latin1.decode(take(end + 2)).trim(), 16);
          state = left === 0 ? "trailer" : "chunk-data";
        } else if (state === "chunk-data") {
          const count = Math.min(left, buffer.length);
          take(count);
          left -= count;
          if (left > 0) return;
          state = "chunk-end";
        } else if (state === "chunk-end") {
          if (buffer.length < 2) return;
          take(2);
          state = "chunk-size";
        } else {
          const end = indexOf("\r\n");
          if (end < 0) return;
          take(end + 2);
          if (end === 0) state = "head";
        }
      }
    },
  };
}
