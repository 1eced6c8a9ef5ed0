// Builds an image through the Engine's POST /build and reports progress as build events.
// BuildKit first; the classic builder only when the engine has no BuildKit, which it says
// when asked for one. A build that runs and fails throws a BuildStepError naming the step.
import { type BuildImageOptions, buildImage } from "../docker/builds.ts";
import type { DockerClient } from "../docker/client.ts";
import { DockerApiError, DockerStreamError } from "../docker/errors.ts";
import { oneLine } from "../lib/text.ts";
import type { BuildEvent } from "./build-events.ts";
import { BuildStepError } from "./build-step-error.ts";
import { createApiBuildProgress } from "./build-progress/api-stream.ts";

export type ApiBuildSettings = Omit<BuildImageOptions, "builder" | "onMessage" | "signal">;

export interface ApiBuildHooks {
  signal?: AbortSignal;
  onEvent?: (event: BuildEvent) => void;
  /** one-line notices, such as the fall back to the classic builder */
  onNotice?: (message: string) => void;
}

/**
 * Runs the build. `context` is called for each attempt: a refused BuildKit attempt may have
 * read part of the last tar, so the classic attempt needs a fresh one.
 */
export async function buildThroughApi(
  client: DockerClient,
  context: () => ReadableStream<Uint8Array> | Uint8Array,
  settings: ApiBuildSettings,
  hooks: ApiBuildHooks = {},
): Promise<{ imageId: string; builder: "buildkit" | "buildah" | "classic" }> {
  try {
    return await buildOnce(client, context(), settings, "2", hooks);
  } catch (error) {
    const message =
      error instanceof DockerApiError ? error.engineMessage : error instanceof BuildStepError ? error.reason : "";
    if (!lacksBuildkit(message)) throw error;
    hooks.onNotice?.(`the engine has no BuildKit (${message}); building with the classic builder instead`);
  }
  return { imageId: (await buildOnce(client, context(), settings, "1", hooks)).imageId, builder: "classic" };
}

/**
 * How engines without a working BuildKit answer `version=2`: refused up front (switched off,
 * or experimental-only on old engines), or failing at the first step (Windows has no executor).
 */
function lacksBuildkit(message: string): boolean {
  return /buildkit\b.*\b(not (supported|enabled)|unsupported|disabled|only supported with experimental)|buildkit executor not implemented/i.test(
    message,
  );
}

async function buildOnce(
  client: DockerClient,
  context: ReadableStream<Uint8Array> | Uint8Array,
  settings: ApiBuildSettings,
  builder: "1" | "2",
  hooks: ApiBuildHooks,
): Promise<{ imageId: string; builder: "buildkit" | "buildah" }> {
  const progress = createApiBuildProgress();
  let buildahNoticed = false;
  const emit = (events: BuildEvent[]) => {
    for (const event of events) hooks.onEvent?.(event);
  };
  try {
    const { imageId } = await buildImage(client, context, {
      ...settings,
      builder,
      signal: hooks.signal,
      onMessage: (message) => {
        emit(progress.push(message));
        if (!buildahNoticed && progress.buildah()) {
          buildahNoticed = true;
          hooks.onNotice?.(
            "this engine builds with buildah (Podman), not BuildKit: BuildKit-only Dockerfile features may not work",
          );
        }
      },
    });
    emit(progress.end());
    emit([{ kind: "image", id: imageId }]);
    // Podman answers version=2 with buildah's stream: which builder ran is seen in what it says.
    return { imageId, builder: progress.buildah() ? "buildah" : "buildkit" };
  } catch (error) {
    if (!(error instanceof DockerStreamError)) {
      emit(progress.end());
      throw error;
    }
    const reason = oneLine(error.engineMessage);
    emit(progress.fail(reason));
    throw new BuildStepError(reason, progress.failedStep());
  }
}
