// Things that are not a working Docker engine, on a temporary unix socket (issue 11 allows a
// fake server for exactly these cases; everything that claims Docker behaviour is tested
// against the real engine):
//   wedged   answers /_ping like Docker 20.10, then never answers anything else
//   silent   accepts connections and never answers at all, not even /_ping
//   html     a web server: an HTML page for every path
//   cut      starts an answer (status line, headers, part of the body) and hangs up
//   garbage  answers bytes that are not HTTP
//   stalls   answers /_ping, and for anything else starts a streamed answer, then goes quiet
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type FakeEngineKind = "wedged" | "silent" | "html" | "cut" | "garbage" | "stalls";

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
const GARBAGE = "\u0000\u0001\u0002 SSH-2.0-OpenSSH_9.2 \u00ff\u00fe not http at all\r\n\r\n";

export function startFakeEngine(kind: FakeEngineKind): FakeEngine {
  const dir = mkdtempSync(join(tmpdir(), `aicage-fake-${kind}-`));
  const socketPath = join(dir, "docker.sock");
  const requests: string[] = [];
  const server = Bun.listen<{ pending: string }>({
    unix: socketPath,
    socket: {
      open(socket) {
        socket.data = { pending: "" };
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

function answer(kind: FakeEngineKind, socket: { write(data: string): number; end(): void }, line: string): void {
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
