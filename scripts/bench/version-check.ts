// Measures the release binary's version-check against the docker CLI, in one run on one
// engine, every side interleaved round by round (A B C D, then B C D A, …):
//   one     aicage-util version-check --only image DIR
//   docker  docker run --rm -v DIR:/agent:ro IMAGE bash /agent/version.sh
//   twenty  aicage-util version-check --only image --jobs N DIR1 … DIRN (one container)
//   loop    N sequential `docker run` (the baseline for N agents)
// Goals (issue 14): one/docker ≤ 0.9, twenty/loop ≤ 0.1, twenty/one ≤ 1.2. Each script sleeps
// --latency-ms (a registry round trip), then prints a version. Every aicage-util run is made
// with --verbose: the per-phase breakdown of the image attempt (engine ping, image lookup,
// create, copy, start, run, exit) is printed as medians. --baseline-bin adds another binary
// (an earlier release) as two more sides, one agent and N agents, so before and now meet the
// same machine in the same run. --extras adds the copy-in against bind-mount comparison of the
// container alone. Exit code 0 when every goal is met.
//
//   scripts/bench-version-check [--runs N] [--agents N] [--latency-ms MS] [--bin PATH]
//                               [--baseline-bin PATH] [--extras]
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DockerClient } from "../../src/docker/client.ts";
import { resolveEndpoint } from "../../src/docker/endpoint.ts";
import { MANAGED_LABEL, PURPOSE_LABEL } from "../../src/core/labels.ts";
import { ensureUtilImage } from "../../src/util-images/ensure.ts";
import {
  createContainer,
  putArchive,
  removeContainer,
  startContainer,
  waitContainer,
} from "../../src/docker/containers.ts";
import { scanAgentFolder } from "../../src/version-check/agent-folder.ts";
import { checkFilesArchive } from "../../src/version-check/check-files.ts";
import { benchArgs, describe, interleaved, releaseBinary, shown, summary, verdict } from "./lib.ts";

const values = benchArgs(import.meta.path, {
  runs: { type: "string", default: "5" },
  agents: { type: "string", default: "20" },
  "latency-ms": { type: "string", default: "300" },
  bin: { type: "string" },
  "baseline-bin": { type: "string" },
  extras: { type: "boolean", default: false },
  "base-image": { type: "string", default: process.env.AICAGE_UTIL_BASE_IMAGE ?? "aicage-test-base:trixie" },
});
const runs = Number(values.runs);
const agentCount = Number(values.agents);
const latency = (Number(values["latency-ms"]) / 1000).toFixed(3);
const binary = values.bin ?? (await releaseBinary());

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
const state = mkdtempSync(join(tmpdir(), "aicage-bench-state-"));
const env = { ...process.env, AICAGE_UTIL_STATE_DIR: state };
const dockerRun = (dir: string) => [
  "docker",
  "run",
  "--rm",
  "--network",
  "none",
  "-v",
  `${dir}:/agent:ro`,
  image,
  "bash",
  "/agent/version.sh",
];
const ours = (list: string[], bin = binary) => [
  bin,
  "version-check",
  "--only",
  "image",
  "--network",
  "none",
  "--jobs",
  String(list.length),
  "--verbose",
  ...list,
];

/** Phases of the image attempt, per side, from the --verbose line. */
const phases: Record<string, Record<string, number[]>> = { one: {}, twenty: {} };
function run(argv: string[], side?: "one" | "twenty"): number {
  const started = performance.now();
  const proc = Bun.spawnSync(argv, { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const ms = performance.now() - started;
  const stderr = proc.stderr.toString();
  if (proc.exitCode !== 0)
    throw new Error(`${argv.slice(0, 4).join(" ")} … exited ${proc.exitCode}: ${stderr.slice(-500)}`);
  const line = side && /image attempt: (.*)/.exec(stderr)?.[1];
  if (side && line) {
    for (const [, phase, value] of line.matchAll(/(\w+) (\d+) ms/g)) {
      const bySide = phases[side]!;
      bySide[phase!] ??= [];
      bySide[phase!]!.push(Number(value));
    }
  }
  return ms;
}

console.log(
  `aicage-util version-check benchmark (${shown(binary)}): ${runs} interleaved rounds, scripts sleep ${latency}s, ${agentCount} agents`,
);
const samples = await interleaved(
  {
    one: () => run(ours([dirs[0]!]), "one"),
    docker: () => run(dockerRun(dirs[0]!)),
    twenty: () => run(ours(dirs), "twenty"),
    loop: () => dirs.reduce((sum, dir) => sum + run(dockerRun(dir)), 0),
    ...(values["baseline-bin"]
      ? {
          baseOne: () => run(ours([dirs[0]!], values["baseline-bin"])),
          baseTwenty: () => run(ours(dirs, values["baseline-bin"])),
        }
      : {}),
  },
  runs,
  1,
  (round) => console.error(`  round ${round}/${runs}`),
);
console.log(`  aicage-util, one agent                      ${describe(summary(samples.one!))}`);
console.log(`  docker run --rm -v DIR:/agent:ro IMAGE      ${describe(summary(samples.docker!))}`);
console.log(`  aicage-util, ${agentCount} agents in one container     ${describe(summary(samples.twenty!), "s")}`);
console.log(`  sequential docker run loop, ${agentCount} agents       ${describe(summary(samples.loop!), "s")}`);
if (samples.baseOne) {
  console.log(`  baseline ${shown(values["baseline-bin"]!)}, one agent   ${describe(summary(samples.baseOne))}`);
  console.log(
    `  baseline, ${agentCount} agents                          ${describe(summary(samples.baseTwenty!), "s")}`,
  );
}
for (const side of ["one", "twenty"] as const) {
  const text = Object.entries(phases[side]!)
    .map(([phase, ms]) => `${phase} ${summary(ms).median.toFixed(0)}`)
    .join(", ");
  console.log(
    `  phases of the image attempt, ${side === "one" ? "one agent" : `${agentCount} agents`} (median ms): ${text}`,
  );
}
console.log("ratios (lower is faster):");
const results = [
  verdict("one check / docker run", samples.one!, samples.docker!, { op: "<=", value: 0.9 }),
  verdict(`${agentCount} checks / sequential docker run loop`, samples.twenty!, samples.loop!, {
    op: "<=",
    value: 0.1,
  }),
  verdict(`${agentCount} checks / one check`, samples.twenty!, samples.one!, { op: "<=", value: 1.2 }),
];
if (samples.baseOne) {
  console.log("the baseline binary, same rounds (its ratios are not this build's verdict):");
  verdict("baseline: one check / docker run", samples.baseOne, samples.docker!, { op: "<=", value: 0.9 });
  verdict(`baseline: ${agentCount} checks / sequential docker run loop`, samples.baseTwenty!, samples.loop!, {
    op: "<=",
    value: 0.1,
  });
  verdict(`baseline: ${agentCount} checks / one check`, samples.baseTwenty!, samples.baseOne, { op: "<=", value: 1.2 });
  verdict("this build / baseline, one check", samples.one!, samples.baseOne, { op: "<=", value: 1 });
  verdict(`this build / baseline, ${agentCount} checks`, samples.twenty!, samples.baseTwenty!, { op: "<=", value: 1 });
}

if (values.extras) {
  // The cost of copying agent folders in (what aicage-util does) against bind-mounting them,
  // through the Engine API: a container that runs `true`, created, given the folders, started,
  // waited for and removed.
  const labels = { [MANAGED_LABEL]: "true", [PURPOSE_LABEL]: "benchmark" };
  const containerRun = async (mounts: boolean) => {
    const started = performance.now();
    const id = await createContainer(client, {
      Image: image,
      Cmd: ["true"],
      Labels: labels,
      HostConfig: {
        NetworkMode: "none",
        Mounts: mounts
          ? dirs.map((dir, n) => ({ Type: "bind" as const, Source: dir, Target: `/agents/${n}`, ReadOnly: true }))
          : undefined,
      },
    });
    try {
      if (!mounts)
        await putArchive(client, id, "/", checkFilesArchive(dirs.map((dir) => scanAgentFolder(dir, "version.sh"))));
      const exit = waitContainer(client, id, "next-exit");
      await startContainer(client, id);
      await exit;
    } finally {
      await removeContainer(client, id);
    }
    return performance.now() - started;
  };
  const extra = await interleaved({ bind: () => containerRun(true), copy: () => containerRun(false) }, runs);
  console.log(`extras: a container running \`true\` with ${agentCount} agent folders`);
  console.log(`  bind-mounted   ${describe(summary(extra.bind!))}`);
  console.log(`  copied in      ${describe(summary(extra.copy!))}`);
}

for (const dir of [root, state]) rmSync(dir, { recursive: true, force: true });
process.exit(results.every(Boolean) ? 0 : 1);
