// Where releases come from: GitHub's release pages, or a mirror laid out the same way
// (AICAGE_UTIL_DOWNLOAD_URL, as for scripts/install.sh):
//   <base>/latest                  redirects to <base>/tag/vX.Y.Z (the newest release)
//   <base>/download/vX.Y.Z/<file>  the assets of a release
import { DownloadError, redirectTarget } from "./download.ts";
import { parseVersion, releaseTag } from "./versions.ts";

export const DEFAULT_RELEASES_URL = "https://github.com/aicage/aicage-image-util/releases";

export function releasesUrl(env: Record<string, string | undefined> = process.env): string {
  return (env.AICAGE_UTIL_DOWNLOAD_URL || DEFAULT_RELEASES_URL).replace(/\/+$/, "");
}

export function assetUrl(base: string, version: string, file: string): string {
  return `${base}/download/${releaseTag(version)}/${file}`;
}

class NoLatestReleaseError extends Error {
  override name = "NoLatestReleaseError";
}

/** The version of the newest release: where <base>/latest redirects to. */
export async function latestVersion(base: string, signal?: AbortSignal): Promise<string> {
  const url = `${base}/latest`;
  let target: string | undefined;
  try {
    target = await redirectTarget(url, signal);
  } catch (error) {
    if (error instanceof DownloadError && error.status === 404) {
      throw new NoLatestReleaseError(`${url} answered HTTP 404: no release published there yet`);
    }
    throw error;
  }
  const tag = target && /\/tag\/([^/?#]+)\/?(?:[?#].*)?$/.exec(target)?.[1];
  const version = tag ? parseVersion(decodeURIComponent(tag)) : undefined;
  if (!version) {
    throw new NoLatestReleaseError(
      `cannot tell the newest release: ${url} ${target ? `redirects to ${target}` : "does not redirect"}, not to …/tag/vX.Y.Z as GitHub does`,
    );
  }
  return version;
}
