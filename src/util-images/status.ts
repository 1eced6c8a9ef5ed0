// Is a util image present, and is it the one this binary expects?
import { toolVersion } from "../core/tool-info.ts";
import type { DockerClient } from "../docker/client.ts";
import { findImage, type ImageInspect } from "../docker/images.ts";
import { DOCKERFILE_HASH_LABEL, OCI_VERSION_LABEL } from "../core/labels.ts";
import { type UtilImageKind, type UtilImageNames, dockerfileHash, pullReference, utilImageNames } from "./catalog.ts";

export interface UtilImageStatus {
  kind: UtilImageKind;
  /** the reference looked up: the digest reference of a release, else the tag */
  ref: string;
  present: boolean;
  id: string | null;
  size: number | null;
  version: string | null;
  /** present, built from this binary's Dockerfile and for this version */
  current: boolean;
}

export interface UtilImageLookup {
  repository?: string;
  image?: string;
}

/** A found image is current when it was made from the Dockerfile this binary embeds. */
export function isCurrent(kind: UtilImageKind, image: ImageInspect, names: UtilImageNames): boolean {
  const labels = image.Config?.Labels ?? {};
  if (names.digestRef && image.RepoDigests?.some((d) => names.digestRef === d)) return true;
  return labels[DOCKERFILE_HASH_LABEL] === dockerfileHash(kind) && labels[OCI_VERSION_LABEL] === toolVersion;
}

/** Finds the image of a kind, preferring the release digest over the tag. */
export async function findUtilImage(
  client: DockerClient,
  kind: UtilImageKind,
  lookup: UtilImageLookup = {},
): Promise<{ names: UtilImageNames; image?: ImageInspect; ref: string }> {
  const names = utilImageNames(kind, lookup);
  for (const ref of [names.digestRef, names.tag]) {
    if (!ref) continue;
    const image = await findImage(client, ref);
    if (image) return { names, image, ref };
  }
  return { names, ref: pullReference(names) };
}

export async function utilImageStatus(
  client: DockerClient,
  kind: UtilImageKind,
  lookup: UtilImageLookup = {},
): Promise<UtilImageStatus> {
  const { names, image, ref } = await findUtilImage(client, kind, lookup);
  // An image named explicitly (--image) is the user's choice: it counts as current.
  const current = image ? Boolean(lookup.image) || isCurrent(kind, image, names) : false;
  return {
    kind,
    ref,
    present: Boolean(image),
    id: image?.Id ?? null,
    size: image?.Size ?? null,
    version: image?.Config?.Labels?.[OCI_VERSION_LABEL] ?? null,
    current,
  };
}
