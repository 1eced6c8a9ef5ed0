// The two utility images this tool drives: their names for this release, and the
// Dockerfiles they are built from, embedded in the binary so it can build them
// itself when the registry cannot be reached.
import { createHash } from "node:crypto";
import builderDockerfile from "../../images/builder/Dockerfile" with { type: "text" };
import versionCheckDockerfile from "../../images/version-check/Dockerfile" with { type: "text" };
import { releasedImageDigests, toolVersion } from "../core/tool-info.ts";

export const UTIL_IMAGE_KINDS = ["version-check", "builder"] as const;
export type UtilImageKind = (typeof UTIL_IMAGE_KINDS)[number];

const DEFAULT_IMAGE_REPOSITORY = "ghcr.io/aicage/aicage-image-util";

const DOCKERFILES: Record<UtilImageKind, string> = {
  "version-check": versionCheckDockerfile,
  builder: builderDockerfile,
};

export function isUtilImageKind(value: string): value is UtilImageKind {
  return (UTIL_IMAGE_KINDS as readonly string[]).includes(value);
}

export function embeddedDockerfile(kind: UtilImageKind): string {
  return DOCKERFILES[kind];
}

export function dockerfileHash(kind: UtilImageKind): string {
  return createHash("sha256").update(DOCKERFILES[kind]).digest("hex");
}

export interface UtilImageNames {
  /** repository:kind-version: what a local build is tagged, and what is pulled without a digest */
  tag: string;
  /** repository@sha256:… in a release build: what is pulled, immutable */
  digestRef?: string;
}

/** What is pulled, and looked up first: the release's digest reference, else the tag. */
export function pullReference(names: UtilImageNames): string {
  return names.digestRef ?? names.tag;
}

/** Names of one util image for this binary; the repository comes from the flag, env or default. */
export function utilImageNames(
  kind: UtilImageKind,
  options: { repository?: string; image?: string; env?: Record<string, string | undefined> } = {},
): UtilImageNames {
  if (options.image) return { tag: options.image };
  const env = options.env ?? process.env;
  const repository = options.repository || env.AICAGE_UTIL_IMAGE_REPOSITORY || DEFAULT_IMAGE_REPOSITORY;
  const tag = `${repository}:${kind}-${toolVersion}`;
  const digest = releasedImageDigests[kind];
  // Only the official repository has the digests this release recorded.
  const digestRef = digest && repository === DEFAULT_IMAGE_REPOSITORY ? `${repository}@${digest}` : undefined;
  return { tag, digestRef };
}
