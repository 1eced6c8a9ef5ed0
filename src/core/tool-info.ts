// What this build of the tool is. Release builds fill the constants in with
// `bun build --define` (see scripts/release.ts); a source checkout falls back to
// package.json and "dev", so the same code runs unchanged under Bun and Deno.
import pkg from "../../package.json" with { type: "json" };

declare const AICAGE_UTIL_VERSION: string | undefined;
declare const AICAGE_UTIL_REVISION: string | undefined;
declare const AICAGE_UTIL_IMAGE_DIGESTS: string | undefined;
declare const AICAGE_UTIL_TARGET: string | undefined;
declare const AICAGE_UTIL_RELEASE_KEY: string | undefined;

export const toolVersion: string = typeof AICAGE_UTIL_VERSION === "string" ? AICAGE_UTIL_VERSION : pkg.version;

export const toolRevision: string = typeof AICAGE_UTIL_REVISION === "string" ? AICAGE_UTIL_REVISION : "dev";

/** Digests of the util images published with this release, by kind; empty in a development build. */
export const releasedImageDigests: Record<string, string> =
  typeof AICAGE_UTIL_IMAGE_DIGESTS === "string" && AICAGE_UTIL_IMAGE_DIGESTS
    ? (JSON.parse(AICAGE_UTIL_IMAGE_DIGESTS) as Record<string, string>)
    : {};

/** The release target this binary was built for (e.g. "linux-x64"); undefined outside a release binary. */
export const releaseTarget: string | undefined =
  typeof AICAGE_UTIL_TARGET === "string" && AICAGE_UTIL_TARGET ? AICAGE_UTIL_TARGET : undefined;

/**
 * The key line of the minisign public key that signs the releases' SHA256SUMS (keys/release.pub,
 * or the --public-key of scripts/release.ts); undefined outside a release binary.
 */
export const releasePublicKey: string | undefined =
  typeof AICAGE_UTIL_RELEASE_KEY === "string" && AICAGE_UTIL_RELEASE_KEY ? AICAGE_UTIL_RELEASE_KEY : undefined;
