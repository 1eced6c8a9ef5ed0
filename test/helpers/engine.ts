// The engine the integration tests talk to: the one scripts/test-engine.sh started and
// named in AICAGE_TEST_ENGINE / AICAGE_TEST_SOCKET (default: the primary Docker 20.10 on
// /var/run/docker.sock). CLI runs of the tests reach it the way a user's would: the primary
// by the tool's own socket discovery, any other through DOCKER_HOST.
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DockerClient } from "../../src/docker/client.ts";
import { listContainers } from "../../src/docker/containers.ts";
import { resolveEndpoint } from "../../src/docker/endpoint.ts";
import { MANAGED_LABEL, PURPOSE_LABEL } from "../../src/core/labels.ts";
import { trackJob } from "./jobs.ts";
import { pendingTempDirs, tempDir } from "./temp.ts";

export { tempDir };

export const BASE_IMAGE = process.env.AICAGE_TEST_BASE_IMAGE || "aicage-test-base:trixie";
/** docker20 (the primary), docker26, podman4 or rootless: see scripts/engines/engine.sh. */
export const ENGINE = process.env.AICAGE_TEST_ENGINE || "docker20";
/** Podman 4 or 5: buildah builds, no buildx in the builder image, fully qualified tags. */
export const PODMAN = ENGINE.startsWith("podman");

/** Image tags as Docker shows them: Podman answers them fully qualified (docker.io/library/x, localhost/x). */
export function plainTags(tags: string[] | null | undefined): string[] {
  return (tags ?? []).map((tag) => tag.replace(/^(docker\.io\/(library\/)?|localhost\/)/, ""));
}

/** True for the primary engine, the one the tool finds by itself at /var/run/docker.sock. */
export const PRIMARY_ENGINE = ENGINE === "docker20";
if (!PRIMARY_ENGINE && !process.env.AICAGE_TEST_SOCKET) {
  throw new Error(
    `AICAGE_TEST_ENGINE=${ENGINE} needs AICAGE_TEST_SOCKET: run the tests with 'npm test' (scripts/test.sh)`,
  );
}
export const SOCKET = process.env.AICAGE_TEST_SOCKET || "/var/run/docker.sock";
/** The engine's loopback TCP address (another engine than the primary: a socat front). */
export const TCP_HOST = process.env.AICAGE_TEST_TCP_HOST || "tcp://127.0.0.1:23750";
/** How a CLI run finds the engine under test: "default socket" (the primary) or "DOCKER_HOST". */
export const SOCKET_SOURCE = PRIMARY_ENGINE ? "default socket" : "DOCKER_HOST";

export function testClient(host = `unix://${SOCKET}`): DockerClient {
  return new DockerClient(resolveEndpoint({ host, hostSource: "--host" }));
}

/**
 * Containers an interrupted earlier run left and scripts/test-engine.sh could not yet remove
 * (too young to be sure no other run owns them): not this run's leaks.
 */
const PREEXISTING = new Set(
  (process.env.AICAGE_TEST_PREEXISTING_CONTAINERS ?? "")
    .split(",")
    .filter(Boolean)
    .map((name) => `/${name}`),
);

async function managedNow(client: DockerClient) {
  const list = await listContainers(client, { labels: { [MANAGED_LABEL]: "true" }, all: true });
  return list.filter((c) => !c.Names.some((name) => PREEXISTING.has(name)));
}

/** IDs of containers carrying the tool's label, running or not. */
export async function managedContainers(client = testClient()): Promise<string[]> {
  return (await managedNow(client)).map((c) => c.Id);
}

/**
 * Names of the containers runContainer made that still exist: it names them aicage-util-…,
 * which other sessions' containers on a shared engine are not. A check container that ran to
 * its end is removed by the engine (AutoRemove) a moment after the command answered: such
 * containers are given up to 5 s to go; one left after that is a leak.
 */
export async function toolContainerNames(client = testClient()): Promise<string[]> {
  return settled(async () =>
    (await managedNow(client)).flatMap((c) => c.Names).filter((name) => name.startsWith("/aicage-util-")),
  );
}

/** The list, asked again for up to `ms` while it is not empty (containers the engine is removing). */
export async function settled(list: () => Promise<string[]>, ms = 5_000): Promise<string[]> {
  const deadline = performance.now() + ms;
  for (;;) {
    const now = await list();
    if (now.length === 0 || performance.now() > deadline) return now;
    await Bun.sleep(100);
  }
}

/**
 * IDs of untagged images carrying the tool's label. On Podman none are counted: buildah turns
 * each build label into a step of its own and keeps every step's image as its layer cache
 * (untagged, and labelled from the first label step on); `podman image prune` removes them.
 */
export async function untaggedManagedImages(client = testClient()): Promise<string[]> {
  if (PODMAN) return [];
  const filters = JSON.stringify({ dangling: ["true"], label: [`${MANAGED_LABEL}=true`] });
  const list = await client.request<Array<{ Id: string }>>("GET", "/images/json", { query: { filters } });
  return list.map((image) => image.Id);
}

/** Entries of the temporary folder now, but the test folders of tempDir() (removed after the tests). */
function tempEntries(): string[] {
  const registered = new Set(pendingTempDirs());
  return readdirSync(tmpdir())
    .map((name) => join(tmpdir(), name))
    .filter((path) => !registered.has(path));
}

/**
 * Remembers the labelled containers, the untagged labelled images and the entries of the
 * temporary folder that exist now; `leaked()` answers those made since that are still there,
 * one line each ("container …", "image …", "temp …"). (scripts/test.sh gives the run a
 * temporary folder of its own; in CI nothing else runs; on a developer's machine a container
 * of another session must not fail the suite.)
 */
export async function leakWatch(client = testClient()) {
  const containers = new Set(await managedContainers(client));
  const images = new Set(await untaggedManagedImages(client));
  const temps = new Set(tempEntries());
  return {
    leaked: async () => [
      // Check containers that ran to their end go a moment after the command (AutoRemove).
      ...(await settled(async () => (await managedContainers(client)).filter((id) => !containers.has(id)))).map(
        (id) => `container ${id}`,
      ),
      ...(await untaggedManagedImages(client)).filter((id) => !images.has(id)).map((id) => `image ${id}`),
      ...tempEntries()
        .filter((path) => !temps.has(path))
        .map((path) => `temp ${path}`),
    ],
  };
}

/**
 * Environment every CLI run in the tests gets: util images that must be built locally
 * are built on the Debian test base with host networking (no registry here), and state
 * goes to a throwaway folder.
 */
export const CLI_TEST_ENV: Record<string, string> = {
  // Plain output, whatever the shell running the tests asks for (FORCE_COLOR would win).
  NO_COLOR: "1",
  FORCE_COLOR: "",
  AICAGE_UTIL_BASE_IMAGE: BASE_IMAGE,
  AICAGE_UTIL_BUILD_NETWORK: "host",
  AICAGE_UTIL_STATE_DIR: tempDir("aicage-state-"),
  ...(PRIMARY_ENGINE ? {} : { DOCKER_HOST: `unix://${SOCKET}` }),
};

/** A string matched literally inside a RegExp. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export const REPO_ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");

/** `build` of a fixture of test/fixtures/builds on the test base, through the API, without network. */
export function fixtureBuild(fixture: string, tag: string): string[] {
  const context = `${REPO_ROOT}/test/fixtures/builds/${fixture}`;
  return ["build", context, "-t", tag, "--build-arg", `FROM_IMAGE=${BASE_IMAGE}`, "--via", "api", "--network", "none"];
}
export const BUN = process.execPath;

let compiled: string | undefined;

/** The CLI compiled once per test process into a folder every user can read. */
export function compiledCli(): string {
  if (compiled) return compiled;
  const binary = join(tempDir("aicage-cli-"), "aicage-util");
  const build = Bun.spawnSync([BUN, "build", "--compile", `${REPO_ROOT}/src/cli.ts`, "--outfile", binary], {
    cwd: REPO_ROOT,
    stdout: "ignore",
    stderr: "pipe",
  });
  if (build.exitCode !== 0) throw new Error(`compiling the CLI failed: ${build.stderr.toString()}`);
  compiled = binary;
  return binary;
}

/** Runs the CLI from source with Bun; answers exit code and both outputs. */
export async function runCli(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; user?: string; dropEnv?: (name: string) => boolean } = {},
) {
  // Another user may not be able to enter the checkout (CI clones anywhere): it runs a
  // compiled copy from a world-readable temp folder, from there.
  const argv = options.user
    ? ["setpriv", `--reuid=${options.user}`, "--regid=65534", "--clear-groups", compiledCli(), ...args]
    : [BUN, `${REPO_ROOT}/src/cli.ts`, ...args];
  const proc = Bun.spawn(argv, {
    cwd: options.cwd ?? (options.user ? tmpdir() : REPO_ROOT),
    env: Object.fromEntries(
      Object.entries({ ...process.env, ...CLI_TEST_ENV, ...options.env }).filter(([name]) => !options.dropEnv?.(name)),
    ),
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

/**
 * The CLI in a process group of its own, as a shell runs a foreground job: Ctrl-C at a
 * terminal sends SIGINT to the whole group, so `interrupt()` does the same.
 */
export function startCliJob(argv: string[], env: Record<string, string>) {
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: REPO_ROOT,
    env: { ...process.env, ...CLI_TEST_ENV, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  trackJob(child);
  let stderr = "";
  child.stdout!.resume();
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    pid: child.pid!,
    stderr: () => stderr,
    exited,
    interrupt: () => process.kill(-child.pid!, "SIGINT"),
    /** kill -9 of the CLI alone: what it started (ssh, in groups of their own) is not told. */
    kill: async () => {
      process.kill(child.pid!, "SIGKILL");
      await exited;
    },
  };
}

/**
 * The tool's version-check containers made from now on. Check containers get their files by
 * copy (no mount to tell them by) and the engine may run other sessions' checks: ours are those
 * that appear after this call.
 */
export async function watchCheckContainers(client = testClient()) {
  const list = async (all: boolean) => {
    const filters = JSON.stringify({
      label: [`${MANAGED_LABEL}=true`, `${PURPOSE_LABEL}=version-check`],
      name: ["aicage-util-"],
    });
    const found = await client.request<Array<{ Id: string }>>("GET", "/containers/json", { query: { all, filters } });
    return found.map((c) => c.Id);
  };
  const before = new Set(await list(true));
  const ours = async (all: boolean) => (await list(all)).filter((id) => !before.has(id));
  return {
    /** Ours that run, once one does (or after 30 s): then the CLI has had the create answer and registered the removal. */
    async running(): Promise<string[]> {
      let found: string[] = [];
      for (let i = 0; i < 300 && found.length === 0; i++) {
        await Bun.sleep(100);
        found = await ours(false);
      }
      return found;
    },
    /**
     * Ours still there, running or not, once none is (or after 3 s). Two removals race on an
     * interrupt (the run's own and the shutdown step's); the one answered 409 "already in
     * progress" counts as done, so the engine may need a moment.
     */
    async left(): Promise<string[]> {
      let found = await ours(true);
      for (let i = 0; i < 30 && found.length > 0; i++) {
        await Bun.sleep(100);
        found = await ours(true);
      }
      return found;
    },
  };
}
