// Start-up of the release binary next to the docker CLI (Go): `aicage-util --version` and
// `docker --version`, run as interleaved pairs; medians, spread, and the ratio against the goal
// of issue 14 (≤ 0.5×). Also times `aicage-util --help` (loads the command tree) for reference.
//
//   scripts/bench-startup [--runs N] [--bin PATH]
import { benchArgs, describe, interleaved, releaseBinary, shown, summary, timed, verdict } from "./lib.ts";

const values = benchArgs(import.meta.path, { runs: { type: "string", default: "30" }, bin: { type: "string" } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive number, not ${values.runs}`);
const bin = values.bin ?? (await releaseBinary());
const docker = Bun.which("docker");
if (!docker) throw new Error("the docker CLI is needed to compare with");

const samples = await interleaved(
  {
    ours: () => timed([bin, "--version"]),
    docker: () => timed([docker, "--version"]),
    help: () => timed([bin, "--help"]),
  },
  runs,
  3,
);
console.log(`start-up, ${runs} interleaved rounds (${shown(bin)}), wall time from Bun.spawnSync:`);
console.log(`  aicage-util --version   ${describe(summary(samples.ours!))}`);
console.log(`  docker --version        ${describe(summary(samples.docker!))}`);
console.log(`  aicage-util --help      ${describe(summary(samples.help!))}  (loads every command)`);
console.log("ratios (lower is faster):");
const ok = verdict("aicage-util --version / docker --version", samples.ours!, samples.docker!, {
  op: "<=",
  value: 0.5,
});
process.exit(ok ? 0 : 1);
