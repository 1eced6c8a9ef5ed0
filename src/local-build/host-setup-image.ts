// The host's registry set-up (host-setup.ts) as a small image of its own, built from scratch
// through the Engine API, for the user's build to bind-mount into each RUN step (`--mount=
// type=bind,from=IMAGE`). BuildKit, buildah and buildx's docker driver all take a local image
// there; the user's image gets none of its files. It lives while the build does: removed after,
// on failure and on Ctrl-C too. Its builder also says whether the user's build can mount at
// all: the classic builder cannot. It names its owner (core/labels.ts): what a killed build
// left, the next run removes (workloads/leftovers.ts).
import { randomBytes } from "node:crypto";
import { managedLabels, ownerLabels } from "../core/labels.ts";
import type { DockerClient } from "../docker/client.ts";
import { NotFoundError } from "../docker/errors.ts";
import { removeImage } from "../docker/images.ts";
import { tarOfFiles } from "../lib/memory-tar.ts";
import { onShutdown } from "../lib/shutdown.ts";
import { buildThroughApi } from "../workloads/api-build.ts";
import type { BuildHostSetup } from "./host-setup.ts";

const REPOSITORY = "aicage-util-host-setup";

export interface HostSetupImage {
  /** the tag to mount from */
  ref: string;
  /** the engine's builder: "classic" cannot mount the image into RUN steps */
  builder: "buildkit" | "buildah" | "classic";
  /** removes the image; safe to call more than once */
  remove(): Promise<void>;
}

export async function buildHostSetupImage(
  client: DockerClient,
  setup: BuildHostSetup,
  signal: AbortSignal,
): Promise<HostSetupImage> {
  const ref = `${REPOSITORY}:${process.pid}-${randomBytes(6).toString("hex")}`;
  const files: Record<string, Uint8Array | string> = { Dockerfile: "FROM scratch\nCOPY files/ /\n" };
  // Credentials never go into an image: they travel as build secrets (host-setup.ts).
  for (const file of setup.files) if (!file.credentials) files[`files/${file.name}`] = file.content;
  const context = await tarOfFiles(files);
  let removed: Promise<void> | undefined;
  const remove = () => {
    removed ??= removeImage(client, ref, { force: true }).catch((error) => {
      if (!(error instanceof NotFoundError)) throw error;
    });
    return removed;
  };
  // Ctrl-C while the user's build runs: the exit removes it (a finished build removes it itself).
  const stopCleanup = onShutdown(remove);
  try {
    const { builder } = await buildThroughApi(
      client,
      () => context,
      { tags: [ref], labels: managedLabels(ownerLabels()) },
      { signal },
    );
    return {
      ref,
      builder,
      remove: () => {
        stopCleanup();
        return remove();
      },
    };
  } catch (error) {
    stopCleanup();
    await remove().catch(() => undefined);
    throw error;
  }
}
