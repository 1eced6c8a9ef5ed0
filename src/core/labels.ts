// Labels this tool puts on everything it creates, so that leftovers can be found and
// removed and so that images can say which tool version and inputs made them.
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
