// Measures aicage-util version-check against the docker CLI, in one run on one engine:
//   1. one check: `aicage-util version-check --only image DIR` vs
//      `docker run --rm -v DIR:/agent:ro IMAGE bash /agent/version.sh`
//   2. N agents: aicage-util (every script in one container, --jobs 8) vs a sequential
//      `docker run` loop (the baseline), vs a docker CLI `docker run` per agent 8 at a
//      time (the design aicage-util had before: a container per agent), vs
//      `docker run` batching the scripts by hand, and aicage-util with --jobs 1 and 4.
//   3. the cost of copying agent folders in (PUT archive, what aicage-util does) against
//      bind-mounting them (what it did before), through the Engine API: a container that runs
//      `true`, created, given the folders, started, waited for and removed; and the upload alone
//      of 20 small folders and of one folder at the copy limit.
// Each agent's script sleeps --latency-ms (a registry round trip) then prints a version.
// Prints medians and ratios against the named baseline; timings are noisy, ratios less so.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DockerClient } from "../../src/docker/client.ts";
import { resolveEndpoint } from "../../src/docker/endpoint.ts";
import { ensureUtilImage } from "../../src/util-images/ensure.ts";
import { createContainer, putArchive, removeContainer, startContainer, waitContainer } from "../../src/docker/containers.ts";
import { COPY_LIMIT_BYTES, scanAgentFolder } from "../../src/version-check/agent-folder.ts";
import { checkFilesArchive } from "../../src/version-check/check-files.ts";
import { mapWithLimit } from "../../src/lib/pool.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    agents: { type: "string", default: "20" },
    "latency-ms": { type: "string", default: "300" },
    "base-image": { type: "string", default: process.env.AICAGE_UTIL_BASE_IMAGE ?? "aicage-test-base:trixie" },
  },
});
const runs = Number(values.runs);
const agentCount = Number(values.agents);
const latency = (Number(values["latency-ms"]) / 1000).toFixed(3);

function sh(argv: string[], env: Record<string, string> = {}): number {
  const started = performance.now();
  const proc = Bun.spawnSync(argv, { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  const elapsed = performance.now() - started;
  if (proc.exitCode !== 0) throw new Error(`${argv.slice(0, 4).join(" ")} … failed (${proc.exitCode}): ${proc.stderr.toString().slice(-500)}`);
  return elapsed;
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function measure(label: string, fn: () => number | Promise<number>): Promise<number> {
  await fn(); // warm-up: page cache, image layers
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) samples.push(await fn());
  const value = median(samples);
  console.log(`  ${label.padEnd(58)} ${(value / 1000).toFixed(2)} s`);
  return value;
}

// The binary users run, compiled once for this benchmark.
const binaryDir = mkdtempSync(join(tmpdir(), "aicage-bench-"));
const binary = join(binaryDir, "aicage-util");
sh([process.execPath, "build", "--compile", join(ROOT, "src/cli.ts"), "--outfile", binary]);

const client = new DockerClient(resolveEndpoint());
const image = (await ensureUtilImage(client, "version-check", { baseImage: values["base-image"], network: "host" })).id;

const root = mkdtempSync(join(tmpdir(), "aicage-bench-agents-"));
chmodSync(root, 0o755);
const dirs = Array.from({ length: agentCount }, (_, i) => {
  const dir = join(root, `agent-${String(i).padStart(2, "0")}`);
  mkdirSync(dir, { mode: 0o755 });
  writeFileSync(join(dir, "version.sh"), `sleep ${latency}\necho 1.${i}.0\n`, { mode: 0o644 });
  return dir;
});
const env = { AICAGE_UTIL_STATE_DIR: mkdtempSync(join(tmpdir(), "aicage-bench-state-")) };
const dockerRun = (dir: string) => ["docker", "run", "--rm", "--network", "none", "-v", `${dir}:/agent:ro`, image, "bash", "/agent/version.sh"];
const ours = (jobs: number, list: string[]) => [binary, "version-check", "--only", "image", "--network", "none", "--jobs", String(jobs), ...list];

/** The docker CLI started once per agent, `limit` processes at a time. */
async function parallelDockerRuns(limit: number): Promise<number> {
  const started = performance.now();
  await mapWithLimit(dirs, limit, async (dir) => {
    const proc = Bun.spawn(dockerRun(dir), { stdout: "ignore", stderr: "pipe" });
    if ((await proc.exited) !== 0) throw new Error(`docker run failed: ${await new Response(proc.stderr).text()}`);
  });
  return performance.now() - started;
}

console.log(`aicage-util version-check benchmark: ${runs} runs each (median), scripts sleep ${latency}s`);
console.log("\n1. one check");
const oneDocker = await measure("baseline: docker run --rm -v DIR:/agent:ro IMAGE (docker CLI)", () => sh(dockerRun(dirs[0]!)));
const oneOurs = await measure("aicage-util version-check --only image DIR", () => sh(ours(1, [dirs[0]!]), env));

console.log(`\n2. ${agentCount} agents`);
const loop = await measure(`baseline: sequential docker run loop (${agentCount} containers)`, () =>
  dirs.reduce((sum, dir) => sum + sh(dockerRun(dir)), 0),
);
const batchArgs = ["docker", "run", "--rm", "--network", "none", ...dirs.flatMap((d, i) => ["-v", `${d}:/agents/${i}:ro`]), image, "bash", "-c",
  'for d in /agents/*; do bash "$d/version.sh" & done; wait'];
const batched = await measure("docker run, all scripts batched inside by hand", () => sh(batchArgs));
const perAgent = await measure("docker run per agent, 8 at a time (container per agent)", () => parallelDockerRuns(8));
const jobs4 = await measure("aicage-util, one container, --jobs 4", () => sh(ours(4, dirs), env));
const jobs8 = await measure("aicage-util, one container, --jobs 8", () => sh(ours(8, dirs), env));
const jobsAll = await measure(`aicage-util, one container, --jobs ${agentCount} (default 16)`, () => sh(ours(agentCount, dirs), env));

console.log(`\n3. copying ${agentCount} agent folders in vs bind-mounting them (Engine API, container runs \`true\`)`);
const labels = { "org.aicage.util.managed": "true", "org.aicage.util.purpose": "benchmark" };
async function containerRun(mounts: boolean, folders = dirs): Promise<number> {
  const started = performance.now();
  const id = await createContainer(client, {
    Image: image,
    Cmd: ["true"],
    Labels: labels,
    HostConfig: {
      NetworkMode: "none",
      Mounts: mounts ? folders.map((dir, n) => ({ Type: "bind" as const, Source: dir, Target: `/agents/${n}`, ReadOnly: true })) : undefined,
    },
  });
  try {
    if (!mounts) await putArchive(client, id, "/", checkFilesArchive(folders.map((dir) => scanAgentFolder(dir, "version.sh"))));
    const exit = waitContainer(client, id, "next-exit");
    await startContainer(client, id);
    await exit;
  } finally {
    await removeContainer(client, id);
  }
  return performance.now() - started;
}
async function uploadOnly(folders: string[]): Promise<number> {
  const id = await createContainer(client, { Image: image, Cmd: ["true"], Labels: labels, HostConfig: { NetworkMode: "none" } });
  try {
    const started = performance.now();
    await putArchive(client, id, "/", checkFilesArchive(folders.map((dir) => scanAgentFolder(dir, "version.sh"))));
    return performance.now() - started;
  } finally {
    await removeContainer(client, id);
  }
}
const bigDir = join(root, "at-the-limit");
mkdirSync(bigDir, { mode: 0o755 });
writeFileSync(join(bigDir, "version.sh"), "echo 1\n");
writeFileSync(join(bigDir, "data.bin"), new Uint8Array(COPY_LIMIT_BYTES - 64 * 1024).fill(7));
const bindRun = await measure(`create, ${agentCount} bind mounts, start, wait, remove`, () => containerRun(true));
const copyRun = await measure(`create, copy ${agentCount} folders in (one tar), start, wait, remove`, () => containerRun(false));
const uploadSmall = await measure(`the upload alone: ${agentCount} small folders`, () => uploadOnly(dirs));
const uploadBig = await measure(`the upload alone: one folder of ${(COPY_LIMIT_BYTES / 1024 / 1024).toFixed(0)} MiB (the copy limit)`, () => uploadOnly([bigDir]));

const ratio = (a: number, b: number) => (a / b).toFixed(2);
console.log("\nratios (lower is faster)");
console.log(`  one check:   aicage-util / docker run                    = ${ratio(oneOurs, oneDocker)}`);
console.log(`  ${agentCount} agents:   aicage-util / sequential docker run loop    = ${ratio(jobsAll, loop)}`);
console.log(`  ${agentCount} agents:   aicage-util / docker run per agent, 8 at once = ${ratio(jobsAll, perAgent)}`);
console.log(`  ${agentCount} agents:   aicage-util / hand-batched docker run      = ${ratio(jobsAll, batched)}`);
console.log(`  ${agentCount} agents:   aicage-util / one check by aicage-util     = ${ratio(jobsAll, oneOurs)}`);
console.log(`  ${agentCount} agents:   --jobs 4 : --jobs 8 : --jobs ${agentCount}                = ${ratio(jobs4, jobsAll)} : ${ratio(jobs8, jobsAll)} : 1`);
console.log(`  copy in / bind mount, whole container run                  = ${ratio(copyRun, bindRun)} (+${((copyRun - bindRun) / 1000).toFixed(2)} s)`);
console.log(`  upload: ${agentCount} small folders ${(uploadSmall / 1000).toFixed(2)} s, ${(COPY_LIMIT_BYTES / 1024 / 1024).toFixed(0)} MiB folder ${(uploadBig / 1000).toFixed(2)} s`);

for (const dir of [binaryDir, root, env.AICAGE_UTIL_STATE_DIR]) rmSync(dir, { recursive: true, force: true });
