// What identifies a build: one hash over everything that decides the image, and the labels
// that record it (with this tool's version and the builder used) on the image.
import { createHash } from "node:crypto";
import { toolVersion } from "../core/tool-info.ts";
import {
  BASE_IMAGES_LABEL,
  BUILDER_IMAGE_LABEL,
  CONTEXT_HASH_LABEL,
  TOOL_VERSION_LABEL,
  managedLabels,
} from "../core/labels.ts";

/** The value of the builder label for images built straight through the Engine API. */
export const API_BUILDER = "api";

export interface BuildInputs {
  /** the hash of the scanned context (after .dockerignore) as the way that builds sees it */
  contextHash: string;
  dockerfile: Uint8Array;
  /** the user's build arguments; proxy variables are not inputs, they only change how things are fetched */
  buildArgs: Record<string, string>;
  /** the user's labels */
  labels: Record<string, string>;
  target?: string;
  platform?: string;
  /** the image ID each FROM resolves to now (base-images.ts): a changed base means a rebuild */
  baseImages: Record<string, string>;
}

/** `sha256:<hex>`; the same inputs give the same hash whatever order the flags came in. */
export function buildInputsHash(inputs: BuildInputs): string {
  const sorted = (record: Record<string, string>) =>
    Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  // JSON keeps the fields apart unambiguously; "v" lets a later change of the recipe say so
  // (2: the context hash takes each file's content digest, which the digest cache remembers;
  // 3: the base images' IDs).
  const canonical = JSON.stringify({
    v: 3,
    context: inputs.contextHash,
    dockerfile: createHash("sha256").update(inputs.dockerfile).digest("hex"),
    buildArgs: sorted(inputs.buildArgs),
    labels: sorted(inputs.labels),
    target: inputs.target ?? "",
    platform: inputs.platform ?? "",
    baseImages: sorted(inputs.baseImages),
  });
  return `sha256:${createHash("sha256").update(canonical).digest("hex")}`;
}

/** The labels every built image gets: the user's, then ours (ours win on a clash). */
export function imageLabels(
  userLabels: Record<string, string>,
  facts: { inputsHash: string; builderImage: string; baseImages: Record<string, string> },
): Record<string, string> {
  return {
    ...userLabels,
    ...managedLabels({
      [TOOL_VERSION_LABEL]: toolVersion,
      [BUILDER_IMAGE_LABEL]: facts.builderImage,
      [CONTEXT_HASH_LABEL]: facts.inputsHash,
      [BASE_IMAGES_LABEL]: JSON.stringify(facts.baseImages),
    }),
  };
}
