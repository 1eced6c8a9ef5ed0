// What a run killed with SIGKILL left (issue 23, item 6): it had no moment to remove its check
// or builder container, the host set-up's image of its build, or its ssh tunnel's folder. The
// next run removes exactly those, says so in one line, and leaves a live run's things alone
// (a run going on at the same time, on the same engine).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createContainer, listContainers, removeContainer } from "../../src/docker/containers.ts";
import { findImage, listImages } from "../../src/docker/images.ts";
import {
  MANAGED_LABEL,
  OWNER_MACHINE_LABEL,
  OWNER_PID_LABEL,
  managedLabels,
  ownerLabels,
} from "../../src/core/labels.ts";
import {
  BASE_IMAGE,
  BUN,
  REPO_ROOT,
  runCli,
  settled,
  tempDir,
  testClient,
  startCliJob,
  watchCheckContainers,
} from "../helpers/engine.ts";
import { startEngineProxy } from "../helpers/engine-proxy.ts";
import { type Sshd, settle, startSshd } from "../helpers/sshd.ts";
import { engineSuite } from "../helpers/suite.ts";

const client = testClient();
const RUN = `${process.pid}-${Date.now().toString(36)}`;
const suite = engineSuite(["version-check", "builder"], client);
const SLOW = `${REPO_ROOT}/test/fixtures/builds/slow`;
const TINY = `${REPO_ROOT}/test/fixtures/builds/tiny`;
const HOST_SETUP_REPOSITORY = "aicage-util-host-setup";

/** A CLI run in a process group of its own (as a shell's job), to be killed or interrupted. */
function startCli(args: string[], env: Record<string, string> = {}) {
  const job = startCliJob([BUN, `${REPO_ROOT}/src/cli.ts`, ...args], env);
  return {
    ...job,
    /** Ctrl-C at a terminal (the whole group); answers the exit code. */
    interrupt: async () => {
      job.interrupt();
      return job.exited;
    },
  };
}

/** An agent that hangs in the check container; the run is killed or interrupted meanwhile. */
function hangingAgent(): string {
  const agent = join(tempDir(`aicage-killed-agent-${RUN}-`), "hangs");
  mkdirSync(agent, { mode: 0o755 });
  writeFileSync(join(agent, "version.sh"), "sleep 300\n", { mode: 0o644 });
  return agent;
}

/** An agent that answers at once. */
function quickAgent(): string {
  const agent = join(tempDir(`aicage-quick-agent-${RUN}-`), "quick");
  mkdirSync(agent, { mode: 0o755 });
  writeFileSync(join(agent, "version.sh"), "echo 1.2.3\n", { mode: 0o644 });
  return agent;
}

/** The lines of a run's stderr that speak of killed runs' leftovers. */
function leftoverLines(stderr: string): string[] {
  return stderr.split("\n").filter((line) => line.includes("killed run"));
}

async function containerExists(id: string): Promise<boolean> {
  const list = await listContainers(client, { labels: { [MANAGED_LABEL]: "true" }, all: true });
  return list.some((c) => c.Id === id);
}

/** Containers, running or not, that mount a folder whose path holds `marker` (a builder's context). */
/** The containers the CLI process `pid` made (its owner label; Podman lists no bind-mount sources to tell them by). */
async function containersOwnedBy(pid: number): Promise<string[]> {
  const filters = JSON.stringify({ label: [`${OWNER_PID_LABEL}=${pid}`] });
  const list = await client.request<Array<{ Id: string }>>("GET", "/containers/json", {
    query: { all: true, filters },
  });
  return list.map((c) => c.Id);
}

/** The host set-up images of the build run by process `pid` (tagged aicage-util-host-setup:PID-…). */
/** A tag as written: Podman names a local image localhost/NAME, or docker.io/library/NAME when built through its Docker API. */
const shortTag = (tag: string) => tag.replace(/^(localhost|docker\.io\/library)\//, "");

async function hostSetupImagesOf(pid: number): Promise<string[]> {
  const images = await listImages(client, { labels: { [MANAGED_LABEL]: "true" } });
  return images
    .flatMap((image) => image.RepoTags ?? [])
    .map(shortTag)
    .filter((tag) => tag.startsWith(`${HOST_SETUP_REPOSITORY}:${pid}-`));
}

/** A check that hangs in its container, started and running: the live run that must survive. */
async function liveCheck(env: Record<string, string> = {}) {
  const checks = await watchCheckContainers(client);
  const job = startCli(
    ["version-check", "--only", "image", "--network", "none", "--timeout", "120", hangingAgent()],
    env,
  );
  const running = await checks.running();
  expect(running).toHaveLength(1);
  return { job, container: running[0]!, checks };
}

/** `build` of the slow fixture (its RUN sleeps 30 s), started; resolves once the step sleeps. */
async function slowBuild(via: "api" | "builder", tag: string, runId: string, env: Record<string, string> = {}) {
  const context = tempDir(`aicage-killed-build-${runId}-`);
  cpSync(SLOW, context, { recursive: true });
  suite.madeImages.push(tag);
  const args = ["build", context, "-t", tag, "--via", via, "--network", "none", "--no-cache"];
  args.push("--build-arg", `FROM_IMAGE=${BASE_IMAGE}`, "--build-arg", `RUN_ID=${runId}`);
  const job = startCli(args, env);
  for (let i = 0; i < 600 && !job.stderr().includes(`sleeping for ${runId}`); i++) await Bun.sleep(100);
  expect(job.stderr()).toContain(`sleeping for ${runId}`);
  return { job, context };
}

describe("what a killed run left, the next run removes", () => {
  test("kill -9 mid-check: the next version-check removes its check container, and says so once; a live check's container stays", async () => {
    // The live run first: it sweeps as it starts, and would take the killed run's leftovers.
    const live = await liveCheck();
    const checks = await watchCheckContainers(client);
    const killed = startCli([
      "version-check",
      "--only",
      "image",
      "--network",
      "none",
      "--timeout",
      "600",
      hangingAgent(),
    ]);
    const [left] = await checks.running();
    expect(left).toBeDefined();
    await killed.kill();
    expect(await containerExists(left!)).toBe(true);

    const next = await runCli(["version-check", "--only", "image", "--network", "none", quickAgent()]);
    expect(next.exitCode).toBe(0);
    expect(next.stdout).toContain("1.2.3");
    expect(leftoverLines(next.stderr)).toEqual([expect.stringMatching(/removed 1 container left by killed runs$/)]);
    expect(await settled(async () => ((await containerExists(left!)) ? [left!] : []))).toEqual([]);
    expect(await containerExists(live.container)).toBe(true);

    expect(await live.job.interrupt()).toBe(130);
    expect(await live.checks.left()).toEqual([]);
  }, 120_000);

  test("kill -9 mid-build via builder: doctor removes its builder container and its host set-up image, and --json names them; a live build goes on", async () => {
    const live = await slowBuild("builder", `aicage-util-test/live-builder:${RUN}`, `live-builder-${RUN}`);
    const [liveBuilder] = await containersOwnedBy(live.job.pid);
    expect(liveBuilder).toBeDefined();
    const tag = `aicage-util-test/killed-builder:${RUN}`;
    const killed = await slowBuild("builder", tag, `killed-builder-${RUN}`);
    const [builder] = await containersOwnedBy(killed.job.pid);
    expect(builder).toBeDefined();
    const setupImages = await hostSetupImagesOf(killed.job.pid);
    await killed.job.kill();
    expect(await containerExists(builder!)).toBe(true);

    const doctor = await runCli(["doctor", "--json"]);
    expect(doctor.exitCode).toBe(0);
    const { leftovers } = JSON.parse(doctor.stdout);
    expect(leftovers.containers.map((c: { id: string }) => c.id)).toEqual([builder]);
    expect(leftovers.images.map((i: { tag: string }) => shortTag(i.tag))).toEqual(setupImages);
    expect(leftovers.tempFolders).toEqual([]);
    expect(await settled(async () => ((await containerExists(builder!)) ? [builder!] : []))).toEqual([]);
    expect(await hostSetupImagesOf(killed.job.pid)).toEqual([]);
    // Its buildx went with the container: the image never comes.
    await Bun.sleep(2_000);
    expect(await findImage(client, tag)).toBeUndefined();
    expect(await containerExists(liveBuilder!)).toBe(true);
    expect((await hostSetupImagesOf(live.job.pid)).length).toBeGreaterThan(0);

    // In words, the same once more: nothing is left now.
    const again = await runCli(["doctor"]);
    expect(again.stdout).not.toContain("killed run");
    expect(await live.job.interrupt()).toBe(130);
    expect(await containersOwnedBy(live.job.pid)).toEqual([]);
  }, 180_000);

  test("kill -9 mid-build through the API: the next build removes the host set-up image it left, and says so once; a live build's stays", async () => {
    const live = await slowBuild("api", `aicage-util-test/live-api:${RUN}`, `live-api-${RUN}`);
    const killed = await slowBuild("api", `aicage-util-test/killed-api:${RUN}`, `killed-api-${RUN}`);
    const setupImages = await hostSetupImagesOf(killed.job.pid);
    expect(setupImages).toHaveLength(1);
    await killed.job.kill();
    expect(await hostSetupImagesOf(killed.job.pid)).toEqual(setupImages);

    const tag = `aicage-util-test/after-killed:${RUN}`;
    suite.madeImages.push(tag);
    const args = ["build", TINY, "-t", tag, "--via", "api", "--network", "none"];
    const next = await runCli([...args, "--build-arg", `FROM_IMAGE=${BASE_IMAGE}`]);
    expect(next.exitCode).toBe(0);
    expect(leftoverLines(next.stderr)).toEqual([expect.stringMatching(/removed 1 image left by killed runs$/)]);
    expect(await hostSetupImagesOf(killed.job.pid)).toEqual([]);
    expect(await hostSetupImagesOf(live.job.pid)).toHaveLength(1);
    expect(await live.job.interrupt()).toBe(130);
    expect(await hostSetupImagesOf(live.job.pid)).toEqual([]);
  }, 180_000);
});

describe("another machine's containers on a shared engine", () => {
  test("stay, whatever their pid, until six hours past their own deadline", async () => {
    const made: string[] = [];
    const make = async (name: string, deadline: Date) => {
      const labels = {
        ...managedLabels(ownerLabels(deadline)),
        // Another machine's process, of a pid that on this one is long gone (or never was).
        [OWNER_MACHINE_LABEL]: "another-boot-id/pid:[4026531836]",
        [OWNER_PID_LABEL]: "999999",
      };
      const id = await createContainer(client, { Image: BASE_IMAGE, Cmd: ["true"], Labels: labels }, name);
      made.push(id);
      return id;
    };
    try {
      const hour = 3_600_000;
      const recent = await make(`x-aicage-other-machine-${RUN}-1`, new Date(Date.now() - 5 * hour));
      const old = await make(`x-aicage-other-machine-${RUN}-2`, new Date(Date.now() - 7 * hour));
      const doctor = await runCli(["doctor", "--json"]);
      expect(doctor.exitCode).toBe(0);
      expect(JSON.parse(doctor.stdout).leftovers.containers.map((c: { id: string }) => c.id)).toEqual([old]);
      expect(await containerExists(recent)).toBe(true);
      expect(await containerExists(old)).toBe(false);
    } finally {
      for (const id of made) await removeContainer(client, id);
    }
  });
});

describe("over ssh", () => {
  let sshd: Sshd;
  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(async () => {
    await sshd.stop();
  });

  test("kill -9 mid-check: the next run removes the check container and the tunnel's folder, says so once; a live run's stay", async () => {
    const tempRoot = tempDir("aicage-kssh-");
    const env = { PATH: sshd.client().path, TMPDIR: tempRoot, DOCKER_HOST: sshd.url };
    const tunnels = () => readdirSync(tempRoot).filter((name) => name.startsWith("docker-ssh-"));
    const live = await liveCheck(env);
    const liveTunnels = tunnels();
    expect(liveTunnels).toHaveLength(1);
    const checks = await watchCheckContainers(client);
    const killed = startCli(
      ["version-check", "--only", "image", "--network", "none", "--timeout", "600", hangingAgent()],
      env,
    );
    const [left] = await checks.running();
    expect(left).toBeDefined();
    await killed.kill();
    const leftTunnels = tunnels().filter((name) => !liveTunnels.includes(name));
    expect(leftTunnels).toHaveLength(1);
    expect(await containerExists(left!)).toBe(true);

    const next = await runCli(["version-check", "--only", "image", "--network", "none", quickAgent()], { env });
    expect(next.exitCode).toBe(0);
    expect(leftoverLines(next.stderr)).toEqual([
      expect.stringMatching(/removed 1 container and 1 temporary folder left by killed runs$/),
    ]);
    expect(existsSync(join(tempRoot, leftTunnels[0]!))).toBe(false);
    expect(await settled(async () => ((await containerExists(left!)) ? [left!] : []))).toEqual([]);
    expect(tunnels()).toEqual(liveTunnels);
    expect(await containerExists(live.container)).toBe(true);

    expect(await live.job.interrupt()).toBe(130);
    expect(await live.checks.left()).toEqual([]);
    expect(tunnels()).toEqual([]);
    // The killed run's ssh ended with it (its pipes closed): no process of it stays.
    expect(await settle(() => sshd.leftovers())).toEqual([]);
  }, 120_000);
});

describe("an engine that does not answer the sweep's list calls", () => {
  test("version-check and doctor answer anyway, a moment later at most, with no word of leftovers", async () => {
    const agent = quickAgent();
    const check = ["version-check", "--only", "image", "--network", "none", "--cache-ttl", "0", agent];
    const timed = async (args: string[], env: Record<string, string>) => {
      const started = performance.now();
      const run = await runCli(args, { env });
      return { ...run, seconds: (performance.now() - started) / 1000 };
    };
    const proxy = await startEngineProxy();
    const listing = (r: { method: string; target: string }) => r.method === "GET" && r.target.includes("owner-pid");
    try {
      const usual = await timed(check, { DOCKER_HOST: proxy.host });
      expect(usual.exitCode).toBe(0);
      proxy.hold = listing;
      const held = await timed(check, { DOCKER_HOST: proxy.host });
      expect(held.exitCode).toBe(0);
      expect(held.stdout).toContain("1.2.3");
      expect(leftoverLines(held.stderr)).toEqual([]);
      // The list calls were made, and held: their 2 s deadline is all they cost.
      expect(proxy.requests.filter(listing).length).toBeGreaterThanOrEqual(4);
      expect(held.seconds).toBeLessThan(usual.seconds + 2.5);

      const doctor = await timed(["doctor", "--json"], { DOCKER_HOST: proxy.host });
      expect(doctor.exitCode).toBe(0);
      expect(JSON.parse(doctor.stdout).leftovers).toEqual({ containers: [], images: [], tempFolders: [] });
      expect(doctor.seconds).toBeLessThan(4);
    } finally {
      proxy.stop();
    }
  }, 60_000);
});
