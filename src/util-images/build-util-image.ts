// Builds a util image locally from the Dockerfile embedded in this binary, through the
// Engine API (no docker CLI, no checkout of this repository needed).
import { managedLabels } from "../core/labels.ts";
import type { Report } from "../core/progress.ts";
import { toolRevision, toolVersion } from "../core/tool-info.ts";
import type { DockerClient } from "../docker/client.ts";
import { buildThroughApi } from "../workloads/api-build.ts";
import type { BuildEvent } from "../workloads/build-events.ts";
import { BuildStepError } from "../workloads/build-step-error.ts";
import { createBuildSteps, failureLine } from "../workloads/build-steps.ts";
import { tarOfFiles } from "../lib/memory-tar.ts";
import { type UtilImageKind, dockerfileHash, embeddedDockerfile } from "./catalog.ts";

export interface UtilImageBuildOptions {
  /** FROM image; default AICAGE_UTIL_BASE_IMAGE or the Dockerfile's ubuntu:latest */
  baseImage?: string;
  /** network for RUN steps (e.g. "host"); default AICAGE_UTIL_BUILD_NETWORK or the engine's */
  network?: string;
  noCache?: boolean;
  signal?: AbortSignal;
  /** the build's progress (build events of subject "util-image"), and notices */
  report?: Report;
}

/**
 * A util image build that ran and failed. The message is one short line (the tag, the step,
 * its exit code, the step's last lines of output); `detail` keeps the whole step and the
 * builder's whole reason for a log that has room for them.
 */
export class UtilImageBuildError extends Error {
  override name = "UtilImageBuildError";
  constructor(
    message: string,
    readonly detail: string,
  ) {
    super(message);
  }
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
  // What the failure line needs: the failed step and the last lines of its own output.
  const steps = createBuildSteps();
  const onEvent = (event: BuildEvent) => {
    steps.push(event);
    options.report?.({ type: "build", subject: "util-image", ...event });
  };
  try {
    const { imageId } = await buildThroughApi(
      client,
      () => context,
      {
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
        // Its steps (apt, npm, pip) report as they go: ten silent minutes mean a hung engine.
        idleTimeoutMs: 10 * 60_000,
      },
      { signal: options.signal, onEvent },
    );
    return imageId;
  } catch (error) {
    if (!(error instanceof BuildStepError)) throw error;
    throw new UtilImageBuildError(
      // The variable works for every command that builds a util image (each names its flag differently).
      failureLine(tag, error, steps.failedStepOutput()) +
        (network ? "" : " (no network for RUN steps? try AICAGE_UTIL_BUILD_NETWORK=host)"),
      // "failed at step <the whole step>: <the builder's whole reason>"
      error.message,
    );
  }
}
