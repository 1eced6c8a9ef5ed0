// `aicage-util upgrade`: find the newest release (or the one asked for), prove its SHA256SUMS
// signed by the release key compiled into this binary (SHA256SUMS.minisig), download this
// binary's asset, verify it against SHA256SUMS, run it once, and put it in place of the
// running binary. Nothing changes unless all
// of that succeeds; a folder the user cannot write is found before anything is downloaded.
import { realpath } from "node:fs/promises";
import { UsageError } from "../core/errors.ts";
import { releasePublicKey, releaseTarget, toolVersion } from "../core/tool-info.ts";
import { onShutdown } from "../lib/shutdown.ts";
import { expectedSha256 } from "./checksums.ts";
import { DownloadError, downloadInto, downloadText } from "./download.ts";
import { keyIdHex, parsePublicKey, verifySignature } from "./minisign.ts";
import { SIGNATURE_FILE, SUMS_FILE, TARGETS, WINDOWS_ADVICE, assetName } from "./release-targets.ts";
import { DEFAULT_RELEASES_URL, assetUrl, latestVersion, releasesUrl } from "./releases.ts";
import { CannotWriteError, stageNextTo } from "./replace-binary.ts";
import { compareVersions, parseVersion, releaseTag } from "./versions.ts";

export interface UpgradeRequest {
  /** a release to install instead of the newest, e.g. "1.2.3" or "v1.2.3" */
  version?: string;
  /** only find out whether a newer release exists */
  checkOnly?: boolean;
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
  /** one line per step, for the person waiting */
  onStep?: (message: string) => void;
}

export interface UpgradeResult {
  /** the version running now */
  current: string;
  /** the newest release, or the one asked for */
  available: string;
  /** whether `available` is newer than `current` */
  newer: boolean;
  /** whether the binary was replaced */
  upgraded: boolean;
  /** the binary that was (or would be) replaced */
  binary: string;
  /** the release asset for this machine */
  asset: string;
  /** SHA-256 of the binary put in place; null when nothing was downloaded */
  sha256: string | null;
}

/**
 * The largest release binary `upgrade` downloads (README, Upgrade): a release is
 * about 100 MiB; a server sending more would otherwise fill the disk.
 */
export const MAX_BINARY_BYTES = 256 * 1024 * 1024;

/** A download, checksum or run of the new binary that failed; the old binary stays. */
class UpgradeError extends Error {
  override name = "UpgradeError";
}

export async function upgrade(request: UpgradeRequest = {}): Promise<UpgradeResult> {
  const env = request.env ?? process.env;
  if (!releaseTarget) {
    throw new UsageError(
      `upgrade replaces a release binary, and this aicage-util runs from source (${process.argv[1] ?? process.execPath}): update the checkout (git pull), or install a release with ${DEFAULT_RELEASES_URL}/latest/download/install.sh`,
    );
  }
  const wanted = request.version === undefined ? undefined : parseVersion(request.version);
  if (request.version !== undefined && !wanted) {
    throw new UsageError(`--version takes a release version like 1.2.3 or v1.2.3, not '${request.version}'`);
  }
  if (!(releaseTarget in TARGETS)) {
    throw new UpgradeError(`no release carries a ${releaseTarget} binary any more: ${WINDOWS_ADVICE}`);
  }
  const base = releasesUrl(env);
  const asset = assetName(releaseTarget);
  const binary = await realpath(process.execPath);
  const available = wanted ?? (await latestVersion(base, request.signal));
  const order = compareVersions(available, toolVersion);
  const result: UpgradeResult = {
    current: toolVersion,
    available,
    newer: order > 0,
    upgraded: false,
    binary,
    asset,
    sha256: null,
  };
  // Asked for no particular release: only a newer one is worth a download.
  if (request.checkOnly || order === 0 || (!wanted && order < 0)) return result;

  let staged: Awaited<ReturnType<typeof stageNextTo>>;
  try {
    staged = await stageNextTo(binary);
  } catch (error) {
    if (!(error instanceof CannotWriteError)) throw error;
    throw new UpgradeError(
      `cannot replace ${binary}: ${error.message}. Run 'sudo ${binary} upgrade', upgrade it with the package manager that installed it, or install a copy of your own: curl -fsSL ${DEFAULT_RELEASES_URL}/latest/download/install.sh | sh`,
    );
  }
  const stopCleanup = onShutdown(() => staged.discard());
  const release = `release ${releaseTag(available)}`;
  try {
    const expected = await verifiedDigest({ base, available, asset, release, request });
    request.onStep?.(`downloading ${asset} (${available})`);
    const got = await downloadInto(assetUrl(base, available, asset), staged.file, MAX_BINARY_BYTES, request.signal);
    if (got.sha256 !== expected) {
      throw new UpgradeError(
        `checksum mismatch for ${asset} (expected ${expected}, got ${got.sha256}); the download is corrupt or was tampered with, nothing was changed`,
      );
    }
    request.onStep?.(`verified SHA-256 of ${asset}; checking that it runs`);
    try {
      await staged.commit(available);
    } catch (error) {
      throw new UpgradeError(`${(error as Error).message}; nothing was changed`);
    }
    return { ...result, upgraded: true, sha256: got.sha256 };
  } catch (error) {
    await staged.discard();
    if (error instanceof DownloadError) throw new UpgradeError(`${error.message}; nothing was changed`);
    throw error;
  } finally {
    stopCleanup();
  }
}

/** Largest signature file accepted: a minisign signature is about 300 bytes. */
const MAX_SIGNATURE_BYTES = 4096;

interface ReleaseFiles {
  base: string;
  available: string;
  asset: string;
  release: string;
  request: UpgradeRequest;
}

/** A small file of the release; a 404 becomes `missing`'s words. */
async function releaseText(files: ReleaseFiles, file: string, max: number, missing: string): Promise<string> {
  const url = assetUrl(files.base, files.available, file);
  return downloadText(url, files.request.signal, max).catch((error) => {
    if (error instanceof DownloadError && error.status === 404)
      throw new UpgradeError(`${url} answered HTTP 404: ${missing}`);
    throw error;
  });
}

/**
 * The SHA-256 the release lists for this machine's asset, once SHA256SUMS is proved to be signed
 * by the release key compiled into this binary, for this very release: a missing signature, one
 * by another key, one over other bytes or one made for another release is refused.
 */
async function verifiedDigest(files: ReleaseFiles): Promise<string> {
  const { asset, release, available, request } = files;
  const key = releasePublicKey === undefined ? undefined : parsePublicKey(releasePublicKey);
  if (!key) throw new UpgradeError("this binary carries no release public key, so it cannot verify a release");
  request.onStep?.(`downloading ${SUMS_FILE} of ${release} from ${files.base}`);
  const sums = await releaseText(files, SUMS_FILE, 1024 * 1024, `does ${release} exist and carry binaries?`);
  const signature = await releaseText(
    files,
    SIGNATURE_FILE,
    MAX_SIGNATURE_BYTES,
    `${release} is not signed; refusing to upgrade, nothing was changed`,
  );
  const check = verifySignature(Buffer.from(sums, "utf8"), signature, key);
  if (!check.ok) {
    throw new UpgradeError(
      `the signature of ${SUMS_FILE} of ${release} is not valid (${check.detail}); refusing to upgrade, nothing was changed`,
    );
  }
  if (!check.trustedComment.split(/\s+/).includes(`release:${releaseTag(available)}`)) {
    throw new UpgradeError(
      `the signed ${SUMS_FILE} served as ${release} was signed for another release (trusted comment '${check.trustedComment}'); refusing to upgrade, nothing was changed`,
    );
  }
  request.onStep?.(`verified the signature of ${SUMS_FILE} (release key ${keyIdHex(key.keyId)})`);
  const expected = expectedSha256(sums, asset);
  if (!expected.ok) {
    throw new UpgradeError(
      expected.problem === "missing"
        ? `${SUMS_FILE} of ${release} lists no ${asset}; refusing to upgrade, nothing was changed`
        : `${SUMS_FILE} of ${release} has a malformed line for ${asset}; refusing to upgrade, nothing was changed`,
    );
  }
  return expected.sha256;
}
