// Builds of a util image by several processes at once (three `images build`, or version checks
// and builds started together on a machine without the image) build it once: a lock file per
// engine and tag in the state dir serialises them, and a process that waited takes the image
// another one built meanwhile. Every process answers the ID the tag points to at its end.
import { createHash } from "node:crypto";
import path from "node:path";
import { stateDir } from "../core/state-dir.ts";
import type { DockerClient } from "../docker/client.ts";
import { findImage } from "../docker/images.ts";
import { acquireFileLock } from "../lib/file-lock.ts";
import { type UtilImageBuildOptions, buildUtilImage } from "./build-util-image.ts";
import type { UtilImageKind } from "./catalog.ts";

/** A notice says once that another process is building the same image (options.report). */
export type SharedBuildOptions = UtilImageBuildOptions;

export interface SharedBuildResult {
  /** the image the tag points to now */
  id: string;
  /** false: another process built it while this one waited */
  built: boolean;
}

/** `<state dir>/locks/util-image-<hash of engine and tag>.lock` */
export function utilImageLockPath(
  client: DockerClient,
  tag: string,
  env: Record<string, string | undefined> = process.env,
): string {
  const key = createHash("sha256").update(`${client.endpoint.display}\0${tag}`).digest("hex").slice(0, 24);
  return path.join(stateDir(env), "locks", `util-image-${key}.lock`);
}

export async function buildUtilImageOnce(
  client: DockerClient,
  kind: UtilImageKind,
  tag: string,
  options: SharedBuildOptions = {},
): Promise<SharedBuildResult> {
  const before = (await findImage(client, tag))?.Id;
  const lock = await acquireFileLock(utilImageLockPath(client, tag), {
    signal: options.signal,
    onWait: (owner) =>
      options.report?.({
        type: "notice",
        level: "info",
        message: `waiting for another aicage-util${owner ? ` (pid ${owner.pid})` : ""} building ${tag}`,
      }),
  });
  try {
    if (lock.waited) {
      const now = (await findImage(client, tag))?.Id;
      if (now && now !== before) return { id: now, built: false };
    }
    const built = await buildUtilImage(client, kind, tag, options);
    return { id: (await findImage(client, tag))?.Id ?? built, built: true };
  } finally {
    lock.release();
  }
}
