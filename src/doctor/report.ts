// What `aicage-util doctor` finds out: which engine, how it was found, whether it
// answers, what it is, and whether the util images are there; on the way, it removes what
// killed runs left (workloads/leftovers.ts) and says what. Never throws for an
// engine problem: the report says what went wrong instead.
import { toolRevision, toolVersion } from "../core/tool-info.ts";
import type { DockerClient } from "../docker/client.ts";
import { EnginePermissionError, EngineUnreachableError } from "../docker/errors.ts";
import { runtimeName } from "../docker/transport.ts";
import { identifyEngine } from "../workloads/engine-kind.ts";
import { seesLocalFilesByAddress } from "../workloads/local-files.ts";
import { type LeftoverSweep, sweepLeftovers } from "../workloads/leftovers.ts";
import type { SettingOrigin } from "../host-registries/findings.ts";
import { hostRegistrySetup } from "../host-registries/setup.ts";
import { UTIL_IMAGE_KINDS } from "../util-images/catalog.ts";
import { type UtilImageStatus, utilImageStatus } from "../util-images/status.ts";

export interface DoctorReport {
  tool: { version: string; revision: string; runtime: string; platform: string };
  endpoint: { kind: string; address: string; source: string };
  engine: {
    reachable: boolean;
    /** fix: the way out the error names itself (an ssh failure), else null */
    error: { kind: "unreachable" | "permission" | "other"; message: string; fix: string | null } | null;
    /** "Docker Engine", "Podman" */
    product: string | null;
    version: string | null;
    apiVersion: string | null;
    usedApiVersion: string | null;
    os: string | null;
    arch: string | null;
    operatingSystem: string | null;
    kernel: string | null;
    storageDriver: string | null;
    rootless: boolean | null;
    /** what builds through the Engine API: "buildkit" (Docker) or "buildah" (Podman) */
    apiBuilder: string | null;
    /** the ways `build --via` works on this engine */
    buildWays: { api: boolean; builder: boolean } | null;
  };
  images: UtilImageStatus[];
  /** what the image attempt of version-check gets of the host's registry set-up; null: not forwarded */
  hostRegistries: {
    credentials: boolean;
    shown: SettingOrigin[];
    withheld: SettingOrigin[];
    notices: string[];
    /** what a build's RUN steps get: the same settings, no credentials, the host's own CA bundle too */
    buildSteps: SettingOrigin[];
  } | null;
  /** what killed runs had left and this run removed (workloads/leftovers.ts) */
  leftovers: Omit<LeftoverSweep, "engineError">;
}

/** The report, and what the engine failed with (for the exit code and the line the CLI ends with). */
export interface DoctorOutcome {
  report: DoctorReport;
  /** undefined when the engine answered */
  engineFailure?: unknown;
}

export async function gatherDoctorReport(
  client: DockerClient,
  registries: { forward: boolean; credentials: boolean } = { forward: true, credentials: false },
): Promise<DoctorOutcome> {
  // Beside the engine's questions; never touches a live run's containers.
  const sweeping = sweepLeftovers(client);
  const outcome = await engineReport(client, registries);
  const { engineError: _, ...leftovers } = await sweeping;
  outcome.report.leftovers = leftovers;
  return outcome;
}

async function engineReport(
  client: DockerClient,
  registries: { forward: boolean; credentials: boolean },
): Promise<DoctorOutcome> {
  const report = emptyReport(client);
  if (registries.forward) {
    const setup = hostRegistrySetup({ env: process.env, forwardCredentials: registries.credentials });
    report.hostRegistries = {
      credentials: registries.credentials,
      shown: setup.shown,
      withheld: setup.withheld,
      notices: setup.notices,
      buildSteps: hostRegistrySetup({ env: process.env, includeHostBundle: true }).shown,
    };
  }
  try {
    const identity = await identifyEngine(client);
    Object.assign(report.engine, {
      reachable: true,
      product: identity.product,
      version: identity.version,
      apiVersion: identity.apiVersion,
      usedApiVersion: identity.usedApiVersion,
      os: identity.os,
      arch: identity.arch,
      operatingSystem: identity.operatingSystem,
      kernel: identity.kernel,
      storageDriver: identity.storageDriver,
      rootless: identity.rootless,
      apiBuilder: identity.apiBuilder,
      // The builder bind-mounts the context: an engine that cannot see this machine's files (ssh,
      // TCP to another host) builds through the API. TCP to loopback is asked at build time.
      buildWays: {
        api: true,
        builder: identity.builderImageWorks && seesLocalFilesByAddress(client.endpoint) !== "no",
      },
    });
    report.images = await Promise.all(UTIL_IMAGE_KINDS.map((kind) => utilImageStatus(client, kind)));
  } catch (error) {
    const kind =
      error instanceof EngineUnreachableError
        ? "unreachable"
        : error instanceof EnginePermissionError
          ? "permission"
          : "other";
    report.engine.error = {
      kind,
      message: (error as Error).message,
      fix: error instanceof EngineUnreachableError ? (error.fix ?? null) : null,
    };
    return { report: withEndpointUsed(report, client), engineFailure: error };
  }
  return { report: withEndpointUsed(report, client) };
}

/** The report before anything was asked: the tool and the endpoint, the rest unknown. */
function emptyReport(client: DockerClient): DoctorReport {
  return {
    tool: {
      version: toolVersion,
      revision: toolRevision,
      runtime: runtimeName,
      platform: `${process.platform}/${process.arch}`,
    },
    endpoint: { kind: client.endpoint.kind, address: client.endpoint.display, source: client.endpoint.source },
    engine: {
      reachable: false,
      error: null,
      product: null,
      version: null,
      apiVersion: null,
      usedApiVersion: null,
      os: null,
      arch: null,
      operatingSystem: null,
      kernel: null,
      storageDriver: null,
      rootless: null,
      apiBuilder: null,
      buildWays: null,
    },
    images: [],
    hostRegistries: null,
    leftovers: { containers: [], images: [], tempFolders: [] },
  };
}

/** Discovery may have moved on to another socket than the first one found. */
function withEndpointUsed(report: DoctorReport, client: DockerClient): DoctorReport {
  report.endpoint = { kind: client.endpoint.kind, address: client.endpoint.display, source: client.endpoint.source };
  return report;
}
