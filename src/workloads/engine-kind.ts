// What engine answers, asked once per client: its product and version (Docker Engine 26.1.5,
// Podman 4.3.1: Podman reports its own version under the Docker fields), API versions,
// rootless or not, the builder behind POST /build, and which ways of building work on it.
// Everything that branches on the kind of engine asks here.
import type { DockerClient } from "../docker/client.ts";
import { type EngineInfo, type EngineVersion, engineInfo, engineVersion, isRootless } from "../docker/system.ts";

export interface EngineIdentity {
  product: "Docker Engine" | "Podman" | "unknown";
  version: string;
  /** the engine's newest API version */
  apiVersion: string;
  /** the API version this client speaks with it */
  usedApiVersion: string;
  os: string;
  arch: string;
  operatingSystem: string | null;
  kernel: string | null;
  storageDriver: string | null;
  rootless: boolean;
  /** what builds an image sent to POST /build: BuildKit on Docker, buildah on Podman */
  apiBuilder: "buildkit" | "buildah";
  /** the builder image's buildx can build into it (its docker driver needs a Docker engine) */
  builderImageWorks: boolean;
}

const identities = new WeakMap<DockerClient, Promise<EngineIdentity>>();

/**
 * Whether the engine is Podman, without the two calls a whole identity costs: the answer to
 * the (cached) API version negotiation says so. For what must know before its first request.
 */
export async function isPodman(client: DockerClient): Promise<boolean> {
  await client.apiVersion();
  return client.podman;
}

export function identifyEngine(client: DockerClient): Promise<EngineIdentity> {
  let identity = identities.get(client);
  if (!identity) {
    identity = (async () => {
      const usedApiVersion = await client.apiVersion();
      const [version, info] = await Promise.all([engineVersion(client), engineInfo(client)]);
      return identityFrom(version, info, usedApiVersion);
    })();
    identity.catch(() => identities.delete(client));
    identities.set(client, identity);
  }
  return identity;
}

/** The identity from the engine's /version and /info answers. */
export function identityFrom(version: EngineVersion, info: EngineInfo, usedApiVersion: string): EngineIdentity {
  const components = version.Components ?? [];
  const podman = components.find((c) => /^podman\b/i.test(c.Name));
  const docker = components.some((c) => c.Name === "Engine") || /docker/i.test(version.Platform?.Name ?? "");
  const product = podman ? "Podman" : docker ? "Docker Engine" : "unknown";
  return {
    product,
    version: podman?.Version ?? version.Version,
    apiVersion: version.ApiVersion,
    usedApiVersion,
    os: version.Os,
    arch: version.Arch,
    operatingSystem: info.OperatingSystem ?? null,
    kernel: version.KernelVersion ?? null,
    storageDriver: info.Driver ?? null,
    rootless: isRootless(info),
    apiBuilder: product === "Podman" ? "buildah" : "buildkit",
    builderImageWorks: product !== "Podman",
  };
}
