// Every util image on the engine: the ones this binary expects (present or missing)
// and older or foreign ones carrying the util kind label.
import type { DockerClient } from "../docker/client.ts";
import { listImages } from "../docker/images.ts";
import { KIND_LABEL, OCI_VERSION_LABEL } from "../core/labels.ts";
import { UTIL_IMAGE_KINDS, type UtilImageKind, isUtilImageKind } from "./catalog.ts";
import { type UtilImageLookup, utilImageStatus } from "./status.ts";

export interface UtilImageRow {
  kind: UtilImageKind;
  name: string;
  id: string | null;
  size: number | null;
  version: string | null;
  /** the image this binary uses for its kind */
  expected: boolean;
  present: boolean;
  current: boolean;
}

export async function listUtilImages(
  client: DockerClient,
  lookup: (kind: UtilImageKind) => UtilImageLookup,
): Promise<UtilImageRow[]> {
  const rows: UtilImageRow[] = [];
  const seen = new Set<string>();
  for (const kind of UTIL_IMAGE_KINDS) {
    const status = await utilImageStatus(client, kind, lookup(kind));
    rows.push({
      kind,
      name: status.ref,
      id: status.id,
      size: status.size,
      version: status.version,
      expected: true,
      present: status.present,
      current: status.current,
    });
    if (status.id) seen.add(status.id);
  }
  for (const image of await listImages(client, { labels: { [KIND_LABEL]: true } })) {
    const kind = image.Labels?.[KIND_LABEL] ?? "";
    if (seen.has(image.Id) || !isUtilImageKind(kind)) continue;
    const name = image.RepoTags?.find((tag) => tag !== "<none>:<none>") ?? "<untagged>";
    rows.push({
      kind,
      name,
      id: image.Id,
      size: image.Size,
      version: image.Labels?.[OCI_VERSION_LABEL] ?? null,
      expected: false,
      present: true,
      current: false,
    });
  }
  return rows;
}
