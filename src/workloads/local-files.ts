// Whether the engine sees this machine's folders where a bind mount looks for them. An engine
// behind a unix socket runs here (or in a VM that shares the user's folders); ssh and TCP to
// another host are elsewhere. TCP to loopback may be either: an engine here, or a tunnel to
// another machine, an engine in a container or VM of its own. There the engine is asked: a
// container (never started) with the folder mounted, whose mount point must show the folder's
// own modification time; an engine without the path refuses the mount at once.
import { randomBytes } from "node:crypto";
import { stat } from "node:fs/promises";
import type { DockerClient } from "../docker/client.ts";
import { createContainer, removeContainer, statContainerPath } from "../docker/containers.ts";
import type { DockerEndpoint } from "../docker/docker-endpoint.ts";
import { DockerApiError } from "../docker/errors.ts";
import { managedLabels, ownerLabels } from "../core/labels.ts";
import { onShutdown } from "../lib/shutdown.ts";

/** What the address alone says: "yes", "no", or "ask" the engine (TCP to loopback). */
export function seesLocalFilesByAddress(endpoint: DockerEndpoint): "yes" | "no" | "ask" {
  if (endpoint.kind === "unix") return "yes";
  if (endpoint.kind !== "tcp" || !endpoint.origin) return "no";
  const host = new URL(endpoint.origin).hostname;
  return host === "localhost" || host === "[::1]" || /^127\./.test(host) ? "ask" : "no";
}

/** Whether a bind mount of each folder (absolute paths) would show that folder to a container of `image`. */
export async function engineSeesFolders(client: DockerClient, image: string, folders: string[]): Promise<boolean> {
  const answer = seesLocalFilesByAddress(client.endpoint);
  if (answer !== "ask") return answer === "yes";
  // Named before the engine answers, its removal registered at once: a Ctrl-C while the engine
  // still makes it (a create cut short on our side may still have made it) removes it too.
  const name = `aicage-util-probe-${randomBytes(8).toString("hex")}`;
  const creating = createContainer(
    client,
    {
      Image: image,
      Cmd: ["true"],
      Entrypoint: null,
      Labels: managedLabels(ownerLabels()),
      HostConfig: {
        NetworkMode: "none",
        Mounts: folders.map((folder, i) => ({
          Type: "bind",
          Source: folder,
          Target: `/aicage-probe/${i}`,
          ReadOnly: true,
        })),
      },
    },
    name,
  );
  creating.catch(() => undefined);
  const removed = () =>
    creating.then(
      (id) => removeContainer(client, id),
      () => removeContainer(client, name).catch(() => undefined),
    );
  const stopWaiting = onShutdown(removed);
  let id: string;
  try {
    id = await creating;
  } catch (error) {
    stopWaiting();
    await removed();
    // "bind source path does not exist": the engine's machine has no such folder.
    if (error instanceof DockerApiError && error.status === 400) return false;
    throw error;
  }
  try {
    for (const [i, folder] of folders.entries()) {
      const [seen, own] = await Promise.all([
        statContainerPath(client, id, `/aicage-probe/${i}`),
        stat(folder, { bigint: true }),
      ]);
      if (nanoseconds(seen.mtime) !== own.mtimeNs) return false;
    }
    return true;
  } finally {
    stopWaiting();
    await removed();
  }
}

/** An RFC 3339 time with up to nine fractional digits (Go's) as nanoseconds since the epoch; -1 when unreadable. */
function nanoseconds(time: string): bigint {
  const parts = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(time);
  const ms = parts ? Date.parse(parts[1]! + parts[3]!) : NaN;
  if (Number.isNaN(ms)) return -1n;
  return BigInt(ms) * 1_000_000n + BigInt((parts![2] ?? "").padEnd(9, "0"));
}
