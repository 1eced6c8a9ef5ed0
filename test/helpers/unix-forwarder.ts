// A unix socket that passes bytes through to the real engine's socket, at a path and with a
// mode the test chooses: what answers on it is the real engine (rootless-style sockets that
// another user may open, in tests that run as root).
import { chmodSync } from "node:fs";
import { type RelayLink, relayHandlers } from "./socket-relay.ts";

export function startUnixForwarder(path: string, target: string, mode = 0o666) {
  const server = Bun.listen<RelayLink>({
    unix: path,
    socket: relayHandlers((socket) => Bun.connect({ unix: target, socket })) as never,
  });
  chmodSync(path, mode);
  return { stop: () => server.stop(true) };
}

/** A socket file nothing listens on any more: connecting to it is refused. */
export function staleSocket(path: string): void {
  // Bound but never listening, as a crashed engine leaves its socket (Bun and node unlink theirs on close).
  const bind = Bun.spawnSync([
    "python3",
    "-c",
    "import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])",
    path,
  ]);
  if (bind.exitCode !== 0) throw new Error(`could not make a stale socket at ${path}: ${bind.stderr.toString()}`);
  chmodSync(path, 0o666);
}
