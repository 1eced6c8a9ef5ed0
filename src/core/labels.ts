// Labels this tool puts on everything it creates, so that leftovers can be found and
// removed and so that images can say which tool version and inputs made them.
import { type ProcessOwner, thisProcess } from "../lib/process-identity.ts";

export const MANAGED_LABEL = "org.aicage.util.managed";
export const KIND_LABEL = "org.aicage.util.kind";
export const DOCKERFILE_HASH_LABEL = "org.aicage.util.dockerfile-sha256";
export const TOOL_VERSION_LABEL = "org.aicage.util.tool-version";
export const BUILDER_IMAGE_LABEL = "org.aicage.util.builder-image";
export const CONTEXT_HASH_LABEL = "org.aicage.util.context-sha256";
/** The image ID each FROM of a build resolved to, as JSON: what --if-changed compares to name a changed base. */
export const BASE_IMAGES_LABEL = "org.aicage.util.base-images";
export const OCI_VERSION_LABEL = "org.opencontainers.image.version";
/** What a container of ours is for, e.g. "version-check". */
export const PURPOSE_LABEL = "org.aicage.util.purpose";

export function managedLabels(extra: Record<string, string> = {}): Record<string, string> {
  return { [MANAGED_LABEL]: "true", ...extra };
}

/**
 * The process that made a container or image meant to live no longer than it (a check or builder
 * container, the host set-up's image): its pid, start time and machine (lib/process-identity.ts).
 * A later run removes what such a process left when it was killed (workloads/leftovers.ts).
 */
export const OWNER_PID_LABEL = "org.aicage.util.owner-pid";
export const OWNER_START_LABEL = "org.aicage.util.owner-start";
export const OWNER_MACHINE_LABEL = "org.aicage.util.owner-machine";
export const OWNER_HOST_LABEL = "org.aicage.util.owner-host";
/** When a container's run is over at the latest (ISO time): another machine's leftover is removed long after it. */
export const DEADLINE_LABEL = "org.aicage.util.deadline";

/** The labels naming this process as the owner; `deadline`: when its run is over at the latest. */
export function ownerLabels(deadline?: Date): Record<string, string> {
  const owner = thisProcess();
  return {
    [OWNER_PID_LABEL]: String(owner.pid),
    [OWNER_START_LABEL]: owner.start,
    [OWNER_MACHINE_LABEL]: owner.machine,
    [OWNER_HOST_LABEL]: owner.host,
    ...(deadline ? { [DEADLINE_LABEL]: deadline.toISOString() } : {}),
  };
}

/** The owner the labels name, undefined when they name none. */
export function ownerOf(labels: Record<string, string> | null | undefined): ProcessOwner | undefined {
  const pid = labels?.[OWNER_PID_LABEL];
  const machine = labels?.[OWNER_MACHINE_LABEL];
  if (!pid || !/^\d+$/.test(pid) || !machine) return undefined;
  return { pid: Number(pid), start: labels[OWNER_START_LABEL] ?? "", machine, host: labels[OWNER_HOST_LABEL] ?? "" };
}
