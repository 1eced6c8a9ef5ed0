// Builds a util image locally from the Dockerfile embedded in this binary, through
// the Engine's BuildKit (no docker CLI, no checkout of this repository needed).
import { toolRevision, toolVersion } from "../core/tool-info.ts";
import { createBuildLineReader } from "../local-build/progress-lines.ts";
import { tarOfFiles } from "../lib/memory-tar.ts";
import { buildImage } from "../docker/builds.ts";
import type { DockerClient } from "../docker/client.ts";
import { DockerStreamError } from "../docker/errors.ts";
import { managedLabels } from "../core/labels.ts";
import { type UtilImageKind, dockerfileHash, embeddedDockerfile } from "./catalog.ts";

export interface UtilImageBuildOptions {
  /** FROM image; default AICAGE_UTIL_BASE_IMAGE or the Dockerfile's ubuntu:latest */
  baseImage?: string;
  /** network for RUN steps (e.g. "host"); default AICAGE_UTIL_BUILD_NETWORK or the engine's */
  network?: string;
  noCache?: boolean;
  signal?: AbortSignal;
  /** one call per progress line */
  onLine?: (line: string) => void;
}

export class UtilImageBuildError extends Error {
  override name = "UtilImageBuildError";
}

export async function buildUtilImage(
  client: DockerClient,
  kind: UtilImageKind,
  tag: string,
  options: UtilImageBuildOptions = {},
): Promise<string> {
  const baseImage = options.baseImage || process.env.AICAGE_UTIL_BASE_IMAGE || undefined;
  const network = options.network || process.env.AICAGE_UTIL_BUILD_NETWORK || undefined;
  const context = await tarOfFiles({ Dockerfile: embeddedDockerfile(kind) });
  const lines = createBuildLineReader();
  try {
    const { imageId } = await buildImage(client, context, {
      tags: [tag],
      buildArgs: {
        ...(baseImage ? { BASE_IMAGE: baseImage } : {}),
        VERSION: toolVersion,
        REVISION: toolRevision,
        CREATED: new Date().toISOString(),
        DOCKERFILE_SHA256: dockerfileHash(kind),
      },
      labels: managedLabels(),
      networkMode: network,
      noCache: options.noCache,
      signal: options.signal,
      onMessage: (message) => {
        for (const line of lines.push(message)) options.onLine?.(line);
      },
    });
    for (const line of lines.flush()) options.onLine?.(line);
    return imageId;
  } catch (error) {
    for (const line of lines.flush()) options.onLine?.(line);
    if (!(error instanceof DockerStreamError)) throw error;
    const step = lines.failedStep();
    throw new UtilImageBuildError(
      `building the ${kind} image ${tag} failed${step ? ` at ${step}` : ""}: ${error.engineMessage}` +
        (network ? "" : " (no network for RUN steps? try --network host)"),
    );
  }
}
