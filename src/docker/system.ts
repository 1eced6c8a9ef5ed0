// System endpoints: version and info.
import type { DockerClient } from "./client.ts";

export interface EngineVersion {
  /** Docker says "Docker Engine - Community" here; Debian's build and Podman leave it empty or name the OS */
  Platform?: { Name?: string };
  /** Docker names its parts "Engine", "containerd", …; Podman "Podman Engine", "Conmon", … */
  Components?: Array<{ Name: string; Version: string }>;
  Version: string;
  ApiVersion: string;
  MinAPIVersion?: string;
  Os: string;
  Arch: string;
  KernelVersion?: string;
}

export interface EngineInfo {
  Name?: string;
  ServerVersion?: string;
  OperatingSystem?: string;
  OSType?: string;
  Architecture?: string;
  Driver?: string;
  SecurityOptions?: string[];
  NCPU?: number;
  MemTotal?: number;
  [key: string]: unknown;
}

export function engineVersion(client: DockerClient): Promise<EngineVersion> {
  return client.request<EngineVersion>("GET", "/version", { operation: "read engine version" });
}

export function engineInfo(client: DockerClient): Promise<EngineInfo> {
  return client.request<EngineInfo>("GET", "/info", { operation: "read engine info" });
}

/** Rootless engines say so in their security options ("name=rootless"). */
export function isRootless(info: EngineInfo): boolean {
  return (info.SecurityOptions ?? []).some((option) => option.split(",").includes("name=rootless"));
}
