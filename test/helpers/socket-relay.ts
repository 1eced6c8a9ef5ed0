// The socket handlers of a relay that passes bytes both ways between a client and an
// upstream it connects to on open: what answers through it is the upstream (the real engine).
type Upstream = { write(data: Uint8Array): number; end(): void };
export type RelayLink = { upstream?: Upstream; queued: Uint8Array[] };

/** Bun.listen socket handlers relaying each client to the upstream `connect` opens. */
export function relayHandlers(
  connect: (handlers: {
    data(socket: unknown, chunk: Uint8Array): void;
    close(): void;
    error(): void;
  }) => Promise<Upstream>,
) {
  return {
    async open(client: { data: RelayLink; write(data: Uint8Array): number; end(): void }) {
      client.data = { queued: [] };
      const upstream = await connect({
        data: (_s, chunk) => void client.write(chunk),
        close: () => void client.end(),
        error: () => void client.end(),
      });
      for (const chunk of client.data.queued) upstream.write(chunk);
      client.data.upstream = upstream;
    },
    data(client: { data: RelayLink }, chunk: Uint8Array) {
      client.data ??= { queued: [] };
      if (client.data.upstream) client.data.upstream.write(chunk);
      else client.data.queued.push(new Uint8Array(chunk));
    },
    // A client refused during a TLS handshake closes before open() ever ran.
    close: (client: { data?: RelayLink }) => client.data?.upstream?.end(),
    error: (client: { data?: RelayLink }) => client.data?.upstream?.end(),
  };
}
