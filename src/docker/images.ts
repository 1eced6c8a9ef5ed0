// Image endpoints: inspect, pull, list, remove.
import type { DockerClient } from "./client.ts";
import { NotFoundError } from "./errors.ts";
import { labelFilters } from "./filters.ts";
import { type ProgressMessage, readProgress } from "./streams/json-lines.ts";

export interface ImageInspect {
  Id: string;
  RepoTags: string[] | null;
  RepoDigests?: string[] | null;
  Created: string;
  Size: number;
  Os?: string;
  Architecture?: string;
  Config?: { Labels?: Record<string, string> | null; Env?: string[] | null; Cmd?: string[] | null };
  RootFS?: { Layers?: string[] };
}

export interface ImageSummary {
  Id: string;
  RepoTags: string[] | null;
  Created: number;
  Size: number;
  Labels: Record<string, string> | null;
}

export function inspectImage(client: DockerClient, ref: string): Promise<ImageInspect> {
  return client.request<ImageInspect>("GET", `/images/${encodeURIComponent(ref)}/json`, {
    operation: `inspect image ${ref}`,
  });
}

/** Inspects, answering undefined instead of throwing when the image is absent. */
export async function findImage(client: DockerClient, ref: string): Promise<ImageInspect | undefined> {
  try {
    return await inspectImage(client, ref);
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
}

export function listImages(
  client: DockerClient,
  options: { labels?: Record<string, string | true>; all?: boolean; timeoutMs?: number } = {},
): Promise<ImageSummary[]> {
  return client.request<ImageSummary[]>("GET", "/images/json", {
    query: { all: options.all, filters: options.labels ? labelFilters(options.labels) : undefined },
    operation: "list images",
    timeoutMs: options.timeoutMs,
  });
}

/** Splits "repo:tag" / "repo@sha256:…" into the pull API's fromImage and tag. */
function splitReference(ref: string): { repository: string; tag: string } {
  const at = ref.indexOf("@");
  if (at >= 0) return { repository: ref.slice(0, at), tag: ref.slice(at + 1) };
  const lastSlash = ref.lastIndexOf("/");
  const colon = ref.lastIndexOf(":");
  if (colon > lastSlash) return { repository: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { repository: ref, tag: "latest" };
}

const PULL_IDLE_TIMEOUT_MS = 120_000;

/**
 * Pulls an image, reporting each progress message. Registry failures (offline, no such
 * tag, no auth) arrive either as an HTTP error or in-band; both throw.
 */
export async function pullImage(
  client: DockerClient,
  ref: string,
  options: {
    onProgress?: (message: ProgressMessage) => void;
    signal?: AbortSignal;
    platform?: string;
    /** the longest the progress may stay silent (default 2 minutes: a pull reports every layer's bytes) */
    idleTimeoutMs?: number;
  } = {},
): Promise<void> {
  const { repository, tag } = splitReference(ref);
  const operation = `pull ${ref}`;
  const body = await client.stream("POST", "/images/create", {
    query: { fromImage: repository, tag, platform: options.platform },
    operation,
    signal: options.signal,
    idleTimeoutMs: options.idleTimeoutMs ?? PULL_IDLE_TIMEOUT_MS,
  });
  for await (const message of readProgress(body, operation)) options.onProgress?.(message);
}

export async function removeImage(
  client: DockerClient,
  ref: string,
  options: { force?: boolean; noprune?: boolean } = {},
): Promise<void> {
  await client.request("DELETE", `/images/${encodeURIComponent(ref)}`, {
    query: { force: options.force, noprune: options.noprune },
    operation: `remove image ${ref}`,
  });
}

export async function tagImage(client: DockerClient, source: string, target: string): Promise<void> {
  const { repository, tag } = splitReference(target);
  await client.request("POST", `/images/${encodeURIComponent(source)}/tag`, {
    query: { repo: repository, tag },
    operation: `tag ${source} as ${target}`,
  });
}
