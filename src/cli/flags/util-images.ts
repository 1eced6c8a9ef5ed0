// Flags that choose the util images, shared by every command that runs one.
import type { ArgsDef } from "citty";
import { engineArgs, jsonArg } from "./common.ts";
import type { UtilImageKind } from "../../util-images/catalog.ts";
import type { EnsureOptions } from "../../util-images/ensure.ts";

export const utilImageArgs = {
  repository: {
    type: "string",
    description:
      "Repository of the util images (default AICAGE_UTIL_IMAGE_REPOSITORY or ghcr.io/aicage/aicage-image-util)",
    valueHint: "REPO",
  },
  "version-check-image": { type: "string", description: "Use this image for version checks", valueHint: "IMAGE" },
  "builder-image": { type: "string", description: "Use this image for builds", valueHint: "IMAGE" },
} as const satisfies ArgsDef;

export const utilImageBuildArgs = {
  "base-image": {
    type: "string",
    description: "FROM image when a util image is built locally (default AICAGE_UTIL_BASE_IMAGE or ubuntu:latest)",
    valueHint: "IMAGE",
  },
  "build-network": {
    type: "string",
    description:
      "Network for RUN steps when a util image is built locally, e.g. host (default AICAGE_UTIL_BUILD_NETWORK)",
    valueHint: "MODE",
  },
} as const satisfies ArgsDef;

/** The flags of a command that may pull or build a util image to run: the engine, --json, the images. */
export const utilImageCommandArgs = {
  ...engineArgs,
  ...jsonArg,
  ...utilImageArgs,
  ...utilImageBuildArgs,
} as const satisfies ArgsDef;

interface UtilImageFlags {
  repository?: string;
  "version-check-image"?: string;
  "builder-image"?: string;
  "base-image"?: string;
  "build-network"?: string;
}

/** The lookup and build options for one kind, from the flags above. */
export function utilImageOptions(kind: UtilImageKind, args: UtilImageFlags): EnsureOptions {
  return {
    repository: args.repository || undefined,
    image: (kind === "builder" ? args["builder-image"] : args["version-check-image"]) || undefined,
    baseImage: args["base-image"] || undefined,
    network: args["build-network"] || undefined,
  };
}
