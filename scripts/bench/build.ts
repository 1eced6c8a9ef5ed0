// Context throughput of the release binary's `build --via api` next to the docker CLI's classic
// build (`DOCKER_BUILDKIT=0 docker build`), on the same context in the same run, interleaved,
// and the peak RSS of aicage-util while it streams that context.
// Goals (issue 14): throughput ≥ 1.3× the classic build's, peak RSS ≤ 150 MiB.
//
//   scripts/bench-build [--runs N] [--size-mib N] [--bin PATH] [--base-image IMAGE] [--keep-cache]
//
// The context (default 1024 MiB) is one eighth small files of 16 KiB, the rest one large file.
// The Dockerfile only sets a label: both builders still take in the whole context, while no
// layer is written, so the time measured is the context's trip from disk into the engine.
// aicage-util hashes the context for its labels; the first build of a context reads each file
// for that too, later ones only files that changed (src/local-build/context/digest-cache.ts).
// Three sides take turns: aicage-util as it runs on a context it built before (the digests of
// unchanged files remembered), aicage-util on a context it never saw (the remembered digests
// removed first: every file is read twice), and the classic build. One uncounted round warms
// up the page cache and the engine. Images, the build cache records of the uploads (unless
// --keep-cache) and every temporary file are removed at the end, on Ctrl-C too.
import { randomFillSync } from "node:crypto";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { benchArgs, describe, interleaved, releaseBinary, shown, summary } from "./lib.ts";

const values = benchArgs(import.meta.path, {
  runs: { type: "string", default: "3" },
  "size-mib": { type: "string", default: "1024" },
  bin: { type: "string" },
  "base-image": { type: "string", default: process.env.AICAGE_TEST_BASE_IMAGE ?? "aicage-test-base:trixie" },
  "keep-cache": { type: "boolean", default: false },
});
const runs = Number(values.runs);
const sizeMib = Number(values["size-mib"]);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive number, not ${values.runs}`);
if (!Number.isInteger(sizeMib) || sizeMib < 8)
  throw new Error(`--size-mib must be a number of at least 8, not ${values["size-mib"]}`);
const RSS_GOAL_MIB = 150;
const THROUGHPUT_GOAL = 1.3;
const SMALL_KIB = 16;

function sh(argv: string[], env: Record<string, string | undefined> = process.env): { ms: number; stdout: string } {
  const started = performance.now();
  const proc = Bun.spawnSync(argv, { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const ms = performance.now() - started;
  if (proc.exitCode !== 0)
    throw new Error(`${argv.slice(0, 5).join(" ")} … exited ${proc.exitCode}: ${proc.stderr.toString().slice(-800)}`);
  return { ms, stdout: proc.stdout.toString() };
}
const quiet = (argv: string[]) => Bun.spawnSync(argv, { stdout: "ignore", stderr: "ignore" });

sh(["docker", "image", "inspect", values["base-image"]!]);
const binary = values.bin ?? (await releaseBinary());
const runId = `${process.pid}-${Date.now()}`;
const tagApi = `aicage-util-bench/build:api-${runId}`;
const tagClassic = `aicage-util-bench/build:classic-${runId}`;
const tmp = mkdtempSync(join(tmpdir(), "aicage-bench-build-"));
const ctx = join(tmp, "context");
const state = join(tmp, "state");
const cacheIds = () =>
  sh(["docker", "system", "df", "-v", "--format", "{{range .BuildCache}}{{.ID}} {{end}}"])
    .stdout.split(/\s+/)
    .filter(Boolean);
const cacheBefore = new Set(cacheIds());

let cleaned = false;
function cleanup(): void {
  if (cleaned) return;
  cleaned = true;
  quiet(["docker", "image", "rm", "-f", tagApi, tagClassic]);
  if (!values["keep-cache"]) {
    // BuildKit keeps each uploaded context as a build cache record: drop those this run added.
    for (const id of cacheIds().filter((id) => !cacheBefore.has(id)))
      quiet(["docker", "builder", "prune", "-f", "--filter", `id=${id}`]);
  }
  rmSync(tmp, { recursive: true, force: true });
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    cleanup();
    process.exit(130);
  });
}

try {
  const smallFiles = Math.floor((sizeMib * 1024) / 8 / SMALL_KIB);
  const largeMib = sizeMib - (smallFiles * SMALL_KIB) / 1024;
  console.error(
    `bench-build: writing a ${sizeMib} MiB context (${smallFiles} files of ${SMALL_KIB} KiB, one of ${largeMib} MiB) in ${ctx}`,
  );
  const data = randomFillSync(Buffer.alloc(SMALL_KIB * 1024));
  for (let i = 0; i < smallFiles; i++) {
    const sub = join(ctx, "small", String(i % 64).padStart(2, "0"));
    if (i < 64) mkdirSync(sub, { recursive: true });
    data.writeUInt32LE(i, 0); // no two files alike
    writeFileSync(join(sub, `f${i}.bin`), data);
  }
  const large = openSync(join(ctx, "large.bin"), "w");
  const chunk = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < largeMib; i++) writeSync(large, randomFillSync(chunk));
  closeSync(large);
  writeFileSync(join(ctx, "Dockerfile"), `FROM ${values["base-image"]}\nLABEL org.aicage.util.bench-run="${runId}"\n`);
  const bytes = Number(sh(["du", "-sb", ctx]).stdout.split("\t")[0]);
  // On disk and read once: neither side pays for the other's writeback, both start from the page cache.
  sh(["sync"]);
  readFileSync(join(ctx, "large.bin"));
  // The digests aicage-util remembers age past the 2 s in which a change cannot be told apart.
  await Bun.sleep(2_100);

  const rss: number[] = [];
  const api = (fresh = false) => {
    if (fresh) rmSync(join(state, "context-digests"), { recursive: true, force: true });
    const timeFile = join(tmp, "time.txt");
    const { ms } = sh(
      [
        "/usr/bin/time",
        "-v",
        "-o",
        timeFile,
        binary,
        "build",
        ctx,
        "-t",
        tagApi,
        "--via",
        "api",
        "--no-cache",
        "--log-file",
        join(tmp, "api.log"),
      ],
      {
        ...process.env,
        AICAGE_UTIL_STATE_DIR: state,
      },
    );
    rss.push(
      Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(readFileSync(timeFile, "utf8"))?.[1] ?? 0) / 1024,
    );
    // Removed after each run: the next one would leave this image untagged behind.
    quiet(["docker", "image", "rm", "-f", tagApi]);
    sh(["sync"]);
    return ms;
  };
  const classic = () => {
    const { ms } = sh(["docker", "build", "-q", "--no-cache", "-t", tagClassic, ctx], {
      ...process.env,
      DOCKER_BUILDKIT: "0",
    });
    quiet(["docker", "image", "rm", "-f", tagClassic]);
    sh(["sync"]);
    return ms;
  };

  const samples = await interleaved({ api: () => api(), first: () => api(true), classic }, runs, 1, (round) =>
    console.error(`bench-build: round ${round}/${runs}`),
  );
  const mib = bytes / 1048576;
  const rate = (ms: number) => mib / (ms / 1000);
  console.log(`build context: ${mib.toFixed(0)} MiB, ${runs} interleaved rounds (${shown(binary)})`);
  console.log(
    `  aicage-util build --via api           ${describe(summary(samples.api!), "s")}  ${rate(summary(samples.api!).median).toFixed(0)} MiB/s`,
  );
  console.log(
    `  DOCKER_BUILDKIT=0 docker build        ${describe(summary(samples.classic!), "s")}  ${rate(summary(samples.classic!).median).toFixed(0)} MiB/s`,
  );
  console.log(
    `  aicage-util, a context it never saw   ${describe(summary(samples.first!), "s")}  ${rate(summary(samples.first!).median).toFixed(0)} MiB/s`,
  );
  const ratio = summary(samples.classic!).median / summary(samples.api!).median;
  const pairs = summary(samples.classic!.map((c, i) => c / samples.api![i]!));
  const firstRatio = summary(samples.classic!).median / summary(samples.first!).median;
  const peak = Math.max(...rss);
  const throughputOk = ratio >= THROUGHPUT_GOAL;
  const rssOk = peak <= RSS_GOAL_MIB;
  console.log("ratios:");
  console.log(
    `  throughput aicage-util / docker classic build            ${ratio.toFixed(2)}  (pairs: ${pairs.min.toFixed(2)}–${pairs.max.toFixed(2)})  goal ≥ ${THROUGHPUT_GOAL}  ${throughputOk ? "PASS" : "FAIL"}`,
  );
  console.log(
    `  the same, a context it never saw (every file read twice)  ${firstRatio.toFixed(2)}  (not a goal: the first build of a context)`,
  );
  console.log(
    `  peak RSS of aicage-util                                 ${peak.toFixed(0)} MiB (runs: ${rss.map((r) => r.toFixed(0)).join(" ")})  goal ≤ ${RSS_GOAL_MIB} MiB  ${rssOk ? "PASS" : "FAIL"}`,
  );
  cleanup();
  process.exit(throughputOk && rssOk ? 0 : 1);
} catch (error) {
  cleanup();
  throw error;
}
