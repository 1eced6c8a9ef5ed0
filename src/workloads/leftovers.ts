// What runs of this tool that were killed (SIGKILL, a crash, a closed laptop lid) left behind:
// containers and images that should have lived no longer than the run, and the ssh tunnel's
// temporary folders. Everything of that kind names its owner (core/labels.ts, ownerLabels; the
// tunnel's owner file): the pid, its start time and the machine. The sweep removes what names
// an owner that has ended on this machine; a live run's things (this one's too) are never
// touched, and another machine's (a remote engine shared by several people) only when they are
// far past their own deadline. One list call per kind, with a short deadline: an engine that
// cannot be listed leaves its part of the sweep undone and fails nothing.
import type { DockerClient } from "../docker/client.ts";
import { type ContainerSummary, listContainers, removeContainer } from "../docker/containers.ts";
import { listImages, removeImage } from "../docker/images.ts";
import { removeStaleTunnelFolders } from "../docker/ssh/tunnel-folder.ts";
import { DEADLINE_LABEL, MANAGED_LABEL, OWNER_PID_LABEL, PURPOSE_LABEL, ownerOf } from "../core/labels.ts";
import { ownerState } from "../lib/process-identity.ts";

export interface LeftoverSweep {
  /** containers removed: their name and what they were for ("version-check"; null for a builder) */
  containers: Array<{ id: string; name: string; purpose: string | null }>;
  /** images removed (the host set-up's of a build), by tag */
  images: Array<{ id: string; tag: string }>;
  /** temporary folders removed (ssh tunnels) */
  tempFolders: string[];
  /** why the engine's part was not done (it did not answer in time, or at all); null when it was */
  engineError: string | null;
}

/** How long the list calls may take: the sweep must not hold up the run it is part of. */
const LIST_TIMEOUT_MS = 2_000;
/** How long the whole sweep is waited for; removals still under way go on without a witness. */
const SWEEP_DEADLINE_MS = 8_000;
/** Another machine's container is removed only this long after its own deadline: its owner may only be slow. */
const FOREIGN_GRACE_MS = 6 * 3_600_000;

/** Removes what killed runs left; never throws. `tempRoot`: where the tunnels' folders are (default the temporary folder). */
export async function sweepLeftovers(client: DockerClient | undefined, tempRoot?: string): Promise<LeftoverSweep> {
  const sweep: LeftoverSweep = { containers: [], images: [], tempFolders: [], engineError: null };
  const folders = removeStaleTunnelFolders(tempRoot).catch(() => [] as string[]);
  const engine = client ? sweepEngine(client, sweep) : Promise.resolve();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      sweep.engineError ??= `the engine did not answer within ${SWEEP_DEADLINE_MS / 1000} s`;
      resolve();
    }, SWEEP_DEADLINE_MS);
    timer.unref?.();
  });
  try {
    await Promise.race([engine, late]);
  } finally {
    clearTimeout(timer);
  }
  sweep.tempFolders = await folders;
  // What is reported stays as it was at the deadline.
  return { ...sweep, containers: [...sweep.containers], images: [...sweep.images] };
}

/** Containers and images, each kind on its own: one the engine cannot list leaves the other's sweep whole. */
async function sweepEngine(client: DockerClient, sweep: LeftoverSweep): Promise<void> {
  const outcomes = await Promise.allSettled([sweepContainers(client, sweep), sweepImages(client, sweep)]);
  const failed = outcomes.find((outcome) => outcome.status === "rejected");
  if (failed) sweep.engineError = String((failed.reason as Error)?.message ?? failed.reason);
}

// One label filter: Podman 4 answers none to two of them (a key alone and a key=value); the
// managed label is checked here instead.
const OWNED = { [OWNER_PID_LABEL]: true } as const;
const managed = (labels: Record<string, string> | null | undefined) => labels?.[MANAGED_LABEL] === "true";

async function sweepContainers(client: DockerClient, sweep: LeftoverSweep): Promise<void> {
  const containers = await listContainers(client, { labels: OWNED, all: true, timeoutMs: LIST_TIMEOUT_MS });
  await Promise.all(
    containers
      .filter((container) => managed(container.Labels) && isLeftover(container))
      .map(async (container) => {
        if (!(await removed(() => removeContainer(client, container.Id)))) return;
        const name = (container.Names[0] ?? "").replace(/^\//, "");
        sweep.containers.push({ id: container.Id, name, purpose: container.Labels?.[PURPOSE_LABEL] ?? null });
      }),
  );
}

async function sweepImages(client: DockerClient, sweep: LeftoverSweep): Promise<void> {
  const images = await listImages(client, { labels: OWNED, timeoutMs: LIST_TIMEOUT_MS });
  await Promise.all(
    images.map(async (image) => {
      // Untagged ones are a builder's layer cache (buildah keeps one per label step), no leftover.
      const tag = (image.RepoTags ?? []).find((t) => t !== "<none>:<none>");
      if (!tag || !managed(image.Labels) || !isLeftover({ Labels: image.Labels ?? {} })) return;
      if (await removed(() => removeImage(client, image.Id, { force: true }))) sweep.images.push({ id: image.Id, tag });
    }),
  );
}

/** Whether a thing of ours was left by a killed run: its owner ended here, or it is another machine's and long past its deadline. */
export function isLeftover(thing: Pick<ContainerSummary, "Labels">, now = Date.now()): boolean {
  const owner = ownerOf(thing.Labels);
  if (!owner) return false;
  const state = ownerState(owner);
  if (state !== "elsewhere") return state === "gone";
  const deadline = Date.parse(thing.Labels[DEADLINE_LABEL] ?? "");
  return Number.isFinite(deadline) && now > deadline + FOREIGN_GRACE_MS;
}

/** Runs a removal; answers whether it removed something (gone already, or refused: not counted). */
async function removed(remove: () => Promise<void>): Promise<boolean> {
  try {
    await remove();
    return true;
  } catch {
    return false;
  }
}
