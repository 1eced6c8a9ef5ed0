// Removes util images: those of this release for the kinds asked, or with `all` every util
// image the engine holds, other versions included. An image already gone is no error.
import type { DockerClient } from "../docker/client.ts";
import { NotFoundError } from "../docker/errors.ts";
import { removeImage } from "../docker/images.ts";
import type { UtilImageKind } from "./catalog.ts";
import { listUtilImages } from "./list.ts";
import type { UtilImageLookup } from "./status.ts";

/** Answers the names of the images removed, in list order. */
export async function removeUtilImages(
  client: DockerClient,
  kinds: UtilImageKind[],
  options: { all?: boolean; lookup: (kind: UtilImageKind) => UtilImageLookup; onRemoved?: (name: string) => void },
): Promise<string[]> {
  const rows = await listUtilImages(client, options.lookup);
  const removed: string[] = [];
  for (const row of rows) {
    if (!row.present || !kinds.includes(row.kind) || (!row.expected && !options.all)) continue;
    try {
      await removeImage(client, row.id!, { force: true });
      removed.push(row.name);
      options.onRemoved?.(row.name);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
  }
  return removed;
}
