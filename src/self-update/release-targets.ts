// The release binaries: which targets are published, what their assets are called, and which
// one this machine runs. One home for the names scripts/release.ts writes, scripts/install.sh
// asks for (its own copy in sh, checked by test/integration/install.test.ts) and `upgrade`
// downloads.
import { readdirSync } from "node:fs";

export const ASSET_PREFIX = "aicage-util-";
export const SUMS_FILE = "SHA256SUMS";
/** The minisign signature of SUMS_FILE, made with the release key (keys/release.pub). */
export const SIGNATURE_FILE = "SHA256SUMS.minisig";

/**
 * Release targets: the asset suffix we publish, and the Bun target it is built with. Only
 * targets that reach their platform's engine are published (README.md, "Platforms", says how
 * each was proved). No windows-x64: the Engine client speaks unix sockets, TCP+TLS and ssh,
 * not Docker Desktop's named pipe (npipe://), so on Windows the linux-x64 binary runs inside
 * WSL2 against Docker Desktop's engine.
 */
export const TARGETS: Record<string, string> = {
  "linux-x64": "bun-linux-x64",
  "linux-arm64": "bun-linux-arm64",
  "linux-x64-musl": "bun-linux-x64-musl",
  "darwin-x64": "bun-darwin-x64",
  "darwin-arm64": "bun-darwin-arm64",
};

/** What a user on Windows does instead: one sentence, said by install.sh, `upgrade` and README.md. */
export const WINDOWS_ADVICE =
  "there is no Windows binary: on Windows, install the Linux binary inside WSL2 (curl -fsSL https://github.com/aicage/aicage-image-util/releases/latest/download/install.sh | sh), where it reaches Docker Desktop's engine through its WSL integration";

export function assetName(target: string): string {
  return `${ASSET_PREFIX}${target}`;
}

/** The release target this machine runs, or undefined when we publish none for it. */
export function hostTarget(): string | undefined {
  const os = ({ linux: "linux", darwin: "darwin" } as Record<string, string>)[process.platform];
  const arch = ({ x64: "x64", arm64: "arm64" } as Record<string, string>)[process.arch];
  if (!os || !arch) return undefined;
  const musl = os === "linux" && isMuslLibc();
  const name = `${os}-${arch}${musl ? "-musl" : ""}`;
  return name in TARGETS ? name : undefined;
}

function isMuslLibc(): boolean {
  // A glibc runtime reports its version in the process report; musl leaves it out.
  const report = (process as { report?: { getReport(): unknown } }).report?.getReport() as
    | { header?: { glibcVersionRuntime?: string } }
    | undefined;
  if (report?.header?.glibcVersionRuntime) return false;
  try {
    return readdirSync("/lib").some((f) => f.startsWith("ld-musl-"));
  } catch {
    return false;
  }
}
