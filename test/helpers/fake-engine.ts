// Things that are not a working Docker engine, on a temporary unix socket (issue 11 allows a
// fake server for exactly these cases; everything that claims Docker behaviour is tested
// against the real engine):
//   wedged   answers /_ping like Docker 20.10, then never answers anything else
//   silent   accepts connections and never answers at all, not even /_ping
//   html     a web server: an HTML page for every path
//   cut      starts an answer (status line, headers, part of the body) and hangs up
//   garbage  answers bytes that are not HTTP
//   stalls   answers /_ping, and for anything else starts a streamed answer, then goes quiet
//   endless  answers every call, /_ping too, with a body that never ends (without Api-Version:
//            the client then asks GET /version, whose body it must read)
//   trickle  answers /_ping, and anything else with a body of a byte every 100 ms that never ends
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type FakeEngineKind = "wedged" | "silent" | "html" | "cut" | "garbage" | "stalls" | "endless" | "trickle";

export interface FakeEngine {
  host: string;
  socketPath: string;
  /** request lines seen, e.g. "GET /v1.41/images/json" */
  requests: string[];
  stop(): void;
}

const PING =
  "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\n\r\nOK";
const PAGE = "<!DOCTYPE html>\n<html><head><title>Welcome</title></head><body><h1>It works!</h1></body></html>\n";
const HTML = `HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: ${PAGE.length}\r\n\r\n${PAGE}`;
const CUT =
  'HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n{"Id":"sha256:0123';
const PROGRESS = '{"status":"Pulling from library/x","id":"latest"}\n';
const STALLS = `HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${PROGRESS.length.toString(16)}\r\n${PROGRESS}\r\n`;
const ENDLESS_HEAD = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
/** One chunk of an endless body: 64 KiB of a JSON string that never closes. */
const ENDLESS_CHUNK = (() => {
  const data = `{"Version":"${"x".repeat(65_536 - 13)}`.slice(0, 65_536);
  return `${data.length.toString(16)}\r\n${data}\r\n`;
})();
const GARBAGE = "\u0000\u0001\u0002 SSH-2.0-OpenSSH_9.2 \u00ff\u00fe not http at all\r\n\r\n";

export function startFakeEngine(kind: FakeEngineKind): FakeEngine {
  const dir = mkdtempSync(join(tmpdir(), `aicage-fake-${kind}-`));
  const socketPath = join(dir, "docker.sock");
  const requests: string[] = [];
  const server = Bun.listen<FakeSocket["data"]>({
    unix: socketPath,
    socket: {
      open(socket) {
        socket.data = { pending: "" };
      },
      // An endless answer goes on whenever the client has taken what was sent.
      drain(socket) {
        if (socket.data.endless) pump(socket);
      },
      close(socket) {
        clearInterval(socket.data.trickle);
      },
      data(socket, chunk) {
        // Request heads only: the fakes never read far enough for a body to matter.
        socket.data.pending += new TextDecoder("latin1").decode(chunk);
        for (
          let end = socket.data.pending.indexOf("\r\n\r\n");
          end >= 0;
          end = socket.data.pending.indexOf("\r\n\r\n")
        ) {
          const head = socket.data.pending.slice(0, end);
          socket.data.pending = socket.data.pending.slice(end + 4);
          // Origin form ("GET /_ping") or, from Deno's unix-socket client, absolute form ("GET http://docker/_ping").
          const line = head
            .split("\r\n")[0]!
            .split(" ")
            .slice(0, 2)
            .join(" ")
            .replace(/^([A-Z]+) https?:\/\/[^/]+/, "$1 ");
          if (!/^[A-Z]+ \//.test(line)) continue; // bytes of a body
          requests.push(line);
          answer(kind, socket, line);
        }
      },
    },
  });
  return {
    host: `unix://${socketPath}`,
    socketPath,
    requests,
    stop() {
      server.stop(true);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface FakeSocket {
  write(data: string): number;
  end(): void;
  data: { pending: string; endless?: boolean; unsent?: string; trickle?: ReturnType<typeof setInterval> };
}

/** Writes chunks of an endless body until the socket's buffer is full (drain calls again). */
function pump(socket: FakeSocket): void {
  for (;;) {
    const next = socket.data.unsent || ENDLESS_CHUNK;
    const written = socket.write(next);
    // What did not fit is sent first on the next drain: the chunked encoding stays whole.
    socket.data.unsent = next.slice(Math.max(written, 0));
    if (socket.data.unsent) return;
  }
}

function answer(kind: FakeEngineKind, socket: FakeSocket, line: string): void {
  const isPing = / \/_ping(\?|$)/.test(line);
  switch (kind) {
    case "wedged":
      if (isPing) socket.write(PING);
      return; // anything else: never answered
    case "silent":
      return;
    case "stalls":
      socket.write(isPing ? PING : STALLS);
      return;
    case "endless":
      if (socket.data.endless) return; // a second request on the connection: the first never ends
      socket.data.endless = true;
      socket.write(ENDLESS_HEAD);
      pump(socket);
      return;
    case "trickle":
      if (isPing) socket.write(PING);
      else if (!socket.data.trickle) {
        socket.write(ENDLESS_HEAD);
        socket.data.trickle = setInterval(() => socket.write("1\r\n \r\n"), 100);
      }
      return;
    case "html":
      socket.write(HTML);
      return;
    case "cut":
      socket.write(CUT);
      socket.end();
      return;
    case "garbage":
      socket.write(GARBAGE);
      socket.end();
      return;
  }
}
