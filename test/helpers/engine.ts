// The engine the integration tests talk to: the one scripts/test-engine.sh started.
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DockerClient } from "../../src/docker/client.ts";
import { listContainers } from "../../src/docker/containers.ts";
import { resolveEndpoint } from "../../src/docker/endpoint.ts";
import { MANAGED_LABEL } from "../../src/core/labels.ts";

export const BASE_IMAGE = process.env.AICAGE_TEST_BASE_IMAGE || "aicage-test-base:trixie";
export const TCP_HOST = process.env.AICAGE_TEST_TCP_HOST || "tcp://127.0.0.1:23750";
export const SOCKET = "/var/run/docker.sock";

export function testClient(host = `unix://${SOCKET}`): DockerClient {
  return new DockerClient(resolveEndpoint({ host, hostSource: "--host" }));
}

/** IDs of containers carrying the tool's label, running or not. */
export async function managedContainers(client = testClient()): Promise<string[]> {
  const list = await listContainers(client, { labels: { [MANAGED_LABEL]: "true" }, all: true });
  return list.map((c) => c.Id);
}

/**
 * Remembers the labelled containers that exist now; `leaked()` answers those created
 * since that are still there. (In CI nothing else runs; on a developer's machine a
 * container of another session must not fail the suite.)
 */
export async function leakWatch(client = testClient()) {
  const before = new Set(await managedContainers(client));
  return {
    leaked: async () => (await managedContainers(client)).filter((id) => !before.has(id)),
  };
}

const tempDirs: string[] = [];
process.on("exit", () => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A temporary folder removed when the test process ends; 0755 so a container user can read it. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  tempDirs.push(dir);
  return dir;
}

/**
 * Environment every CLI run in the tests gets: util images that must be built locally
 * are built on the Debian test base with host networking (no registry here), and state
 * goes to a throwaway folder.
 */
export const CLI_TEST_ENV: Record<string, string> = {
  NO_COLOR: "1",
  AICAGE_UTIL_BASE_IMAGE: BASE_IMAGE,
  AICAGE_UTIL_BUILD_NETWORK: "host",
  AICAGE_UTIL_STATE_DIR: tempDir("aicage-state-"),
};

export const REPO_ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
export const BUN = process.execPath;

let compiled: string | undefined;

/** The CLI compiled once per test process into a folder every user can read. */
export function compiledCli(): string {
  if (compiled) return compiled;
  const binary = join(tempDir("aicage-cli-"), "aicage-util");
  const build = Bun.spawnSync([BUN, "build", "--compile", `${REPO_ROOT}/src/cli.ts`, "--outfile", binary], { cwd: REPO_ROOT, stdout: "ignore", stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`compiling the CLI failed: ${build.stderr.toString()}`);
  compiled = binary;
  return binary;
}

/** Runs the CLI from source with Bun; answers exit code and both outputs. */
export async function runCli(args: string[], options: { env?: Record<string, string>; cwd?: string; user?: string } = {}) {
  // Another user may not be able to enter the checkout (CI clones anywhere): it runs a
  // compiled copy from a world-readable temp folder, from there.
  const argv = options.user
    ? ["setpriv", `--reuid=${options.user}`, "--regid=65534", "--clear-groups", compiledCli(), ...args]
    : [BUN, `${REPO_ROOT}/src/cli.ts`, ...args];
  const proc = Bun.spawn(argv, {
    cwd: options.cwd ?? (options.user ? tmpdir() : REPO_ROOT),
    env: { ...process.env, ...CLI_TEST_ENV, ...options.env },
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { exitCode, stdout, stderr };
}
