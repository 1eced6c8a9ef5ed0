// Measures aicage-util version-check against the docker CLI, in one run on one engine:
//   1. one check: `aicage-util version-check --only image DIR` vs
//      `docker run --rm -v DIR:/agent:ro IMAGE bash /agent/version.sh`
//   2. N agents: aicage-util (every script in one container, --jobs 8) vs a sequential
//      `docker run` loop (the baseline), vs a docker CLI `docker run` per agent 8 at a
//      time (the design aicage-util had before: a container per agent), vs
//      `docker run` batching the scripts by hand, and aicage-util with --jobs 1 and 4.
// Each agent's script sleeps --latency-ms (a registry round trip) then prints a version.
// Prints medians and ratios against the named baseline; timings are noisy, ratios less so.
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DockerClient } from "../../src/docker/client.ts";
import { resolveEndpoint } from "../../src/docker/endpoint.ts";
import { ensureUtilImage } from "../../src/util-images/ensure.ts";
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
const binary = join(mkdtempSync(join(tmpdir(), "aicage-bench-")), "aicage-util");
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

const ratio = (a: number, b: number) => (a / b).toFixed(2);
console.log("\nratios (lower is faster)");
console.log(`  one check:   aicage-util / docker run                    = ${ratio(oneOurs, oneDocker)}`);
console.log(`  ${agentCount} agents:   aicage-util / sequential docker run loop    = ${ratio(jobsAll, loop)}`);
console.log(`  ${agentCount} agents:   aicage-util / docker run per agent, 8 at once = ${ratio(jobsAll, perAgent)}`);
console.log(`  ${agentCount} agents:   aicage-util / hand-batched docker run      = ${ratio(jobsAll, batched)}`);
console.log(`  ${agentCount} agents:   aicage-util / one check by aicage-util     = ${ratio(jobsAll, oneOurs)}`);
console.log(`  ${agentCount} agents:   --jobs 4 : --jobs 8 : --jobs ${agentCount}                = ${ratio(jobs4, jobsAll)} : ${ratio(jobs8, jobsAll)} : 1`);
