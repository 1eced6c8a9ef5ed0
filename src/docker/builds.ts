// POST /build: sends a tar of the build context and follows the progress stream.
// With BuildKit (version "2") progress arrives as `moby.buildkit.trace` messages whose
// `aux` is a base64 protobuf StatusResponse (see streams/buildkit-trace.ts); the classic
// builder sends `stream` text. Both end with the image ID in an `aux` message.
import type { DockerClient } from "./client.ts";
import { DockerError } from "./errors.ts";
import { type ProgressMessage, readProgress } from "./streams/json-lines.ts";

export interface BuildImageOptions {
  tags: string[];
  /** path of the Dockerfile inside the context */
  dockerfile?: string;
  buildArgs?: Record<string, string>;
  labels?: Record<string, string>;
  target?: string;
  platform?: string;
  noCache?: boolean;
  pull?: boolean;
  networkMode?: string;
  /** "2" = BuildKit (needed for RUN --mount), "1" = classic builder */
  builder?: "1" | "2";
  signal?: AbortSignal;
  /**
   * The longest the progress may stay silent; default none (a RUN step may compute quietly for
   * long). The upload of the context and the answer's head are under the client's deadline.
   */
  idleTimeoutMs?: number;
  /** every progress message, BuildKit traces included */
  onMessage?: (message: ProgressMessage) => void;
}

export interface BuildImageResult {
  imageId: string;
}

export async function buildImage(
  client: DockerClient,
  context: ReadableStream<Uint8Array> | Uint8Array,
  options: BuildImageOptions,
): Promise<BuildImageResult> {
  const operation = `build ${options.tags[0] ?? "image"}`;
  const body = await client.stream("POST", "/build", {
    query: {
      t: options.tags,
      dockerfile: options.dockerfile,
      buildargs: options.buildArgs ? JSON.stringify(options.buildArgs) : undefined,
      labels: options.labels ? JSON.stringify(options.labels) : undefined,
      target: options.target,
      platform: options.platform,
      nocache: options.noCache,
      pull: options.pull,
      networkmode: options.networkMode,
      version: options.builder ?? "2",
      // classic builder: never leave intermediate containers behind, even on failure
      rm: true,
      forcerm: true,
    },
    headers: { "content-type": "application/x-tar" },
    body: context,
    signal: options.signal,
    idleTimeoutMs: options.idleTimeoutMs,
    operation,
  });
  let imageId: string | undefined;
  for await (const message of readProgress(body, operation)) {
    const aux = message.aux as { ID?: unknown } | undefined;
    if (message.id !== "moby.buildkit.trace" && typeof aux?.ID === "string") imageId = aux.ID;
    options.onMessage?.(message);
  }
  if (!imageId) throw new DockerError(`${operation} failed: the engine reported no image ID`);
  return { imageId };
}
