// Container endpoints: create, copy files in, look at a path, start, wait, logs, kill, remove, list.
import type { DockerClient } from "./client.ts";
import { ConflictError, DockerApiError, NotFoundError } from "./errors.ts";
import { labelFilters } from "./filters.ts";
import { shortId as short } from "./ids.ts";

/** The body of POST /containers/create (the fields we use; the Engine accepts more). */
export interface ContainerSpec {
  Image: string;
  Cmd?: string[];
  Entrypoint?: string[] | null;
  Env?: string[];
  Labels?: Record<string, string>;
  WorkingDir?: string;
  User?: string;
  Tty?: boolean;
  OpenStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  NetworkDisabled?: boolean;
  HostConfig?: {
    Binds?: string[];
    Mounts?: Array<{ Type: "bind" | "volume" | "tmpfs"; Source?: string; Target: string; ReadOnly?: boolean }>;
    NetworkMode?: string;
    CapDrop?: string[];
    CapAdd?: string[];
    SecurityOpt?: string[];
    PidsLimit?: number;
    Memory?: number;
    ReadonlyRootfs?: boolean;
    Tmpfs?: Record<string, string>;
    Init?: boolean;
    AutoRemove?: boolean;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  State: string;
  Status: string;
  Labels: Record<string, string>;
}

export async function createContainer(client: DockerClient, spec: ContainerSpec, name?: string): Promise<string> {
  const created = await client.request<{ Id: string; Warnings?: string[] }>("POST", "/containers/create", {
    query: { name },
    body: spec,
    // An image ID in 12 characters, as the docker CLI shows it: the engine's words come after it.
    operation: `create container from ${spec.Image.replace(/^sha256:([0-9a-f]{12})[0-9a-f]{52}$/, "$1")}`,
  });
  return created.Id;
}

/**
 * Extracts a tar archive into the container's file system at `path` (PUT /containers/{id}/archive),
 * through the API, so it works on an engine that cannot see this machine's files. Works on a
 * created container before it starts. Owners and modes come from the tar headers.
 */
export async function putArchive(
  client: DockerClient,
  id: string,
  path: string,
  archive: ReadableStream<Uint8Array> | Uint8Array,
  options: { signal?: AbortSignal } = {},
): Promise<void> {
  await client.request("PUT", `/containers/${id}/archive`, {
    // A directory in the archive must not replace a file of the same name, nor the reverse.
    query: { path, noOverwriteDirNonDir: true },
    headers: { "content-type": "application/x-tar" },
    body: archive,
    signal: options.signal,
    operation: `copy files into container ${short(id)}`,
  });
}

/** What a path in a container's file system is, as the engine describes it. */
export interface ContainerPathStat {
  name: string;
  size: number;
  mode: number;
  /** RFC 3339, nanoseconds */
  mtime: string;
  linkTarget: string;
}

/**
 * Looks at a path in the container's file system (HEAD /containers/{id}/archive) without
 * reading it. Works on a created container before it starts, bind mounts included.
 */
export async function statContainerPath(client: DockerClient, id: string, path: string): Promise<ContainerPathStat> {
  const headers = await client.head(`/containers/${id}/archive`, {
    query: { path },
    operation: `look at ${path} in container ${short(id)}`,
  });
  const encoded = headers.get("x-docker-container-path-stat");
  if (!encoded)
    throw new DockerApiError(
      200,
      "no X-Docker-Container-Path-Stat header",
      `look at ${path} in container ${short(id)}`,
    );
  return JSON.parse(Buffer.from(encoded, "base64").toString("utf8")) as ContainerPathStat;
}

export async function startContainer(client: DockerClient, id: string): Promise<void> {
  await client.request("POST", `/containers/${id}/start`, { operation: `start container ${short(id)}` });
}

/**
 * Waits for the container to stop and answers its exit code. Call with "next-exit"
 * before starting it so a fast exit cannot be missed.
 */
export async function waitContainer(
  client: DockerClient,
  id: string,
  condition: "not-running" | "next-exit" | "removed" = "not-running",
  signal?: AbortSignal,
): Promise<number> {
  const result = await client.request<{ StatusCode: number; Error?: { Message?: string } | null }>(
    "POST",
    `/containers/${id}/wait`,
    // Lasts as long as the container runs: no deadline of its own (the caller's signal ends it).
    { query: { condition }, signal, timeoutMs: false, operation: `wait for container ${short(id)}` },
  );
  return result.StatusCode;
}

/** Follows stdout and stderr (multiplexed, see streams/multiplex.ts) until the container stops. */
export function containerLogs(
  client: DockerClient,
  id: string,
  options: { follow?: boolean; signal?: AbortSignal } = {},
): Promise<ReadableStream<Uint8Array>> {
  return client.stream("GET", `/containers/${id}/logs`, {
    query: { follow: options.follow ?? true, stdout: true, stderr: true },
    signal: options.signal,
    operation: `read logs of container ${short(id)}`,
  });
}

export async function killContainer(client: DockerClient, id: string, signal = "SIGKILL"): Promise<void> {
  await client.request("POST", `/containers/${id}/kill`, {
    query: { signal },
    operation: `kill container ${short(id)}`,
  });
}

/** Force-removes a container with its anonymous volumes; an already gone container is fine. */
export async function removeContainer(client: DockerClient, id: string): Promise<void> {
  try {
    await client.request("DELETE", `/containers/${id}`, {
      query: { force: true, v: true },
      operation: `remove container ${short(id)}`,
    });
  } catch (error) {
    if (error instanceof NotFoundError) return;
    // 409 "removal already in progress" means someone else is removing it: also fine.
    if (error instanceof ConflictError) return;
    throw error;
  }
}

export function listContainers(
  client: DockerClient,
  options: { labels?: Record<string, string | true>; all?: boolean; timeoutMs?: number } = {},
): Promise<ContainerSummary[]> {
  return client.request<ContainerSummary[]>("GET", "/containers/json", {
    query: { all: options.all ?? true, filters: options.labels ? labelFilters(options.labels) : undefined },
    operation: "list containers",
    timeoutMs: options.timeoutMs,
  });
}
