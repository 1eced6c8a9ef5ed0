// `--via builder`: runs `docker buildx build` in the builder util image (see
// builder-container.ts) and follows its plain progress output line by line. The container
// is removed afterwards whatever happens, on Ctrl-C too (runContainer sees to that).
import type { DockerClient } from "../docker/client.ts";
import { findImage } from "../docker/images.ts";
import { runContainer } from "../engine/run-container.ts";
import { type BuilderBuild, builderContainerSpec } from "./builder-container.ts";
import { BuildFailure } from "./failure.ts";
import { createStepTracker } from "./step-tracker.ts";

export interface ViaBuilderOptions {
  signal?: AbortSignal;
  onLine?: (line: string) => void;
}

/** The docker exporter names the image it wrote: "#9 writing image sha256:… done". */
const WRITTEN_IMAGE = /\bwriting image (sha256:[0-9a-f]{64})\b/;

export async function buildViaBuilder(
  client: DockerClient,
  build: BuilderBuild,
  options: ViaBuilderOptions = {},
): Promise<{ imageId: string }> {
  const steps = createStepTracker();
  let imageId: string | undefined;
  const onLine = (line: string) => {
    // buildx separates steps with blank lines; the log and the display do without them.
    if (!line.trim()) return;
    steps.push(line);
    imageId = WRITTEN_IMAGE.exec(line)?.[1] ?? imageId;
    options.onLine?.(line);
  };
  const splitters = { stdout: lineSplitter(onLine), stderr: lineSplitter(onLine) };

  const result = await runContainer(client, builderContainerSpec(build), {
    signal: options.signal,
    // The output is handled line by line as it comes; only a little is kept in memory.
    maxOutputBytes: 64 * 1024,
    onOutput: (stream, data) => splitters[stream].push(data),
  });
  splitters.stdout.end();
  splitters.stderr.end();

  if (result.exitCode !== 0) {
    throw new BuildFailure(steps.errorLine() ?? `docker buildx exited with code ${result.exitCode}`, steps.failedStep());
  }
  // Other image stores name no image ID in the output: the tag says which image was built.
  imageId ??= (await findImage(client, build.tags[0]!))?.Id;
  if (!imageId) throw new BuildFailure(`the build succeeded but ${build.tags[0]} is not in the engine`);
  return { imageId };
}

/** Turns chunks of output into lines, across chunk edges and UTF-8 sequences. */
function lineSplitter(onLine: (line: string) => void) {
  const decoder = new TextDecoder();
  let pending = "";
  const emit = (text: string) => {
    pending += text;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) onLine(line.replace(/\r$/, ""));
  };
  return {
    push: (data: Uint8Array) => emit(decoder.decode(data, { stream: true })),
    end() {
      emit(decoder.decode());
      if (pending) onLine(pending);
      pending = "";
    },
  };
}
