// Pulls a util image of this release: by digest where the release recorded one (then tagged
// with the version tag, so both names find it), else by tag. `images pull` and `ensure`
// both pull this way.
import type { Report } from "../core/progress.ts";
import type { DockerClient } from "../docker/client.ts";
import { pullImage, tagImage } from "../docker/images.ts";
import { type UtilImageKind, pullReference } from "./catalog.ts";
import { type UtilImageLookup, findUtilImage } from "./status.ts";

export interface PullOptions extends UtilImageLookup {
  signal?: AbortSignal;
  /** pull progress (a "pull" event per message) */
  report?: Report;
}

/** Pulls and answers the image ID and the reference pulled; throws when the pull fails. */
export async function pullUtilImage(
  client: DockerClient,
  kind: UtilImageKind,
  options: PullOptions = {},
): Promise<{ id: string; ref: string }> {
  const { names } = await findUtilImage(client, kind, options);
  const ref = pullReference(names);
  await pullImage(client, ref, {
    signal: options.signal,
    onProgress: (m) =>
      m.status && options.report?.({ type: "pull", line: [m.id, m.status, m.progress].filter(Boolean).join(" ") }),
  });
  if (names.digestRef) await tagImage(client, names.digestRef, names.tag);
  const pulled = await findUtilImage(client, kind, options);
  if (!pulled.image) throw new Error(`the pulled image ${ref} cannot be found`);
  return { id: pulled.image.Id, ref: pulled.ref };
}
