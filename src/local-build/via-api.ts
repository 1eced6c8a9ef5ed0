// `--via api`: streams the context as a tar to the Engine's `POST /build` and turns the
// progress into plain lines. BuildKit first; the classic builder only when the engine has no
// BuildKit, which it says when asked for one.
import { buildImage } from "../docker/builds.ts";
import type { DockerClient } from "../docker/client.ts";
import { DockerApiError, DockerStreamError } from "../docker/errors.ts";
import { type BuildContext, tarBuildContext } from "./context-tar.ts";
import { BuildFailure } from "./failure.ts";
import { createBuildLineReader } from "./progress-lines.ts";
import type { BuildSettings } from "./build-settings.ts";

export interface ApiBuild extends BuildSettings {
  context: BuildContext;
  /** the user's build arguments and the proxy variables, together */
  buildArgs: Record<string, string>;
}

export interface ViaApiOptions {
  signal?: AbortSignal;
  onLine?: (line: string) => void;
  /** one-line notices, such as the fall back to the classic builder */
  onNotice?: (message: string) => void;
}

export async function buildViaApi(
  client: DockerClient,
  build: ApiBuild,
  options: ViaApiOptions = {},
): Promise<{ imageId: string; builder: "buildkit" | "classic" }> {
  try {
    return { imageId: await buildOnce(client, build, "2", options), builder: "buildkit" };
  } catch (error) {
    const message = error instanceof DockerApiError ? error.engineMessage : error instanceof BuildFailure ? error.reason : "";
    if (!lacksBuildkit(message)) throw error;
    options.onNotice?.(`the engine has no BuildKit (${message}); building with the classic builder instead`);
  }
  return { imageId: await buildOnce(client, build, "1", options), builder: "classic" };
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

async function buildOnce(client: DockerClient, build: ApiBuild, builder: "1" | "2", options: ViaApiOptions): Promise<string> {
  const lines = createBuildLineReader();
  const emit = (batch: string[]) => {
    for (const line of batch) options.onLine?.(line);
  };
  try {
    // A fresh tar each time: a refused attempt may have read part of the last one.
    const { imageId } = await buildImage(client, tarBuildContext(build.context), {
      tags: build.tags,
      dockerfile: build.context.dockerfile,
      buildArgs: build.buildArgs,
      labels: build.labels,
      target: build.target,
      platform: build.platform,
      noCache: build.noCache,
      pull: build.pull,
      networkMode: build.network,
      builder,
      signal: options.signal,
      onMessage: (message) => emit(lines.push(message)),
    });
    emit(lines.flush());
    return imageId;
  } catch (error) {
    emit(lines.flush());
    if (error instanceof DockerStreamError) throw new BuildFailure(oneLine(error.engineMessage), lines.failedStep());
    throw error;
  }
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}
