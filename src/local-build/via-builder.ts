// `--via builder`: runs `docker buildx build` in the builder util image (see
// builder-container.ts) and turns its plain progress output into build events. The container
// is removed afterwards whatever happens, on Ctrl-C too (runContainer sees to that).
import type { DockerClient } from "../docker/client.ts";
import { findImage } from "../docker/images.ts";
import type { BuildEvent } from "../workloads/build-events.ts";
import { BuildStepError } from "../workloads/build-step-error.ts";
import { createBuildxPlainProgress } from "../workloads/build-progress/buildx-plain.ts";
import { createBuildSteps } from "../workloads/build-steps.ts";
import { runContainer } from "../workloads/run-container.ts";
import { createLineSplitter } from "../lib/lines.ts";
import { type MemoryFile, tarOfFiles } from "../lib/memory-tar.ts";
import { secretFiles } from "./build-secrets.ts";
import { type BuilderBuild, REWRITTEN_DOCKERFILE, builderContainerSpec } from "./builder-container.ts";

export interface ViaBuilderOptions {
  signal?: AbortSignal;
  onEvent?: (event: BuildEvent) => void;
}

export async function buildViaBuilder(
  client: DockerClient,
  build: BuilderBuild,
  options: ViaBuilderOptions = {},
): Promise<{ imageId: string }> {
  const progress = createBuildxPlainProgress();
  const steps = createBuildSteps();
  const readLine = (line: string) => {
    for (const event of progress.push(line)) {
      steps.push(event);
      options.onEvent?.(event);
    }
  };
  const splitters = { stdout: createLineSplitter(), stderr: createLineSplitter() };

  // A Dockerfile given as text and the secrets reach buildx as files of the container's own.
  const files: Record<string, MemoryFile> = secretFiles(build.secrets ?? []);
  if (build.dockerfileText !== undefined) files[REWRITTEN_DOCKERFILE.slice(1)] = build.dockerfileText;
  const result = await runContainer(client, builderContainerSpec(build), {
    copyIn: Object.keys(files).length === 0 ? undefined : [{ path: "/", archive: () => tarOfFiles(files) }],
    signal: options.signal,
    // The output is handled line by line as it comes; only a little is kept in memory.
    maxOutputBytes: 64 * 1024,
    onOutput: (stream, data) => splitters[stream].push(data).forEach(readLine),
  });
  splitters.stdout.end().forEach(readLine);
  splitters.stderr.end().forEach(readLine);

  if (result.exitCode !== 0) {
    throw new BuildStepError(
      steps.errorLine() ?? `docker buildx exited with code ${result.exitCode}`,
      steps.failedStep(),
    );
  }
  // Other image stores name no image ID in the output: the tag says which image was built.
  const imageId = steps.imageId() ?? (await findImage(client, build.tags[0]!))?.Id;
  if (!imageId) throw new BuildStepError(`the build succeeded but ${build.tags[0]} is not in the engine`);
  return { imageId };
}
