// What every benchmark shares: the release binary (compiled when the sources are newer), pairs
// run interleaved (A B A B …, so a busy moment of the machine hits both sides alike), the median
// and spread of each side, and each ratio printed against its goal with PASS or FAIL.
//
//   bun scripts/bench/lib.ts binary     prints the path of a fresh release binary of this machine
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { type ParseArgsConfig, parseArgs } from "node:util";

export const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");

type Options = NonNullable<ParseArgsConfig["options"]>;
type Values<O extends Options> = ReturnType<typeof parseArgs<{ options: O }>>["values"];

/**
 * A benchmark's command line: `--help` prints the opening comment of its file (`file`:
 * import.meta.path), a wrong option is one line and exit 2, never a stack trace.
 */
export function benchArgs<O extends Options>(file: string, options: O): Values<O> {
  const name = `bench-${basename(file, ".ts")}`;
  let parsed: { values: unknown };
  try {
    parsed = parseArgs({ options: { ...options, help: { type: "boolean", short: "h" } } });
  } catch (error) {
    console.error(`${name}: ${(error as Error).message} (--help lists the options)`);
    process.exit(2);
  }
  if ((parsed.values as Record<string, unknown>).help) {
    const lines = readFileSync(file, "utf8").split("\n");
    const header = lines.slice(
      0,
      lines.findIndex((line) => !line.startsWith("//")),
    );
    console.log(header.map((line) => line.replace(/^\/\/ ?/, "")).join("\n"));
    process.exit(0);
  }
  return parsed.values as Values<O>;
}

/** Newest modification time under `path` (a file or a folder, recursively), in ms. */
function newest(path: string): number {
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  let latest = stats.mtimeMs;
  for (const name of readdirSync(path)) latest = Math.max(latest, newest(join(path, name)));
  return latest;
}

/**
 * The release binary of this machine's target (`bun scripts/release.ts --targets host`), as
 * users run it: dist/release's or dist/bench's when nothing it is built from changed since,
 * else compiled into dist/bench first (a second or two).
 */
export async function releaseBinary(log: (line: string) => void = (l) => console.error(l)): Promise<string> {
  const { assetName, hostTarget } = await import("../release.ts");
  const target = hostTarget();
  if (!target) throw new Error(`no release target for this machine (${process.platform}-${process.arch})`);
  const asset = assetName(target);
  const sources = Math.max(
    ...["src", "images", "package.json", "scripts/release.ts"].map((p) => newest(join(ROOT, p))),
  );
  for (const dir of ["dist/release", "dist/bench"]) {
    const file = join(ROOT, dir, asset);
    if (existsSync(file) && statSync(file).mtimeMs > sources) return file;
  }
  log(`compiling ${asset} into dist/bench (the sources are newer than any release binary)`);
  const proc = Bun.spawnSync(
    [process.execPath, join(ROOT, "scripts/release.ts"), "--targets", "host", "--out", join(ROOT, "dist/bench")],
    {
      cwd: ROOT,
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  if (proc.exitCode !== 0)
    throw new Error(
      `compiling the release binary failed: ${proc.stderr.toString().trim() || proc.stdout.toString().trim()}`,
    );
  return join(ROOT, "dist/bench", asset);
}

export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
  q1: number;
  q3: number;
}

function quantile(sorted: number[], q: number): number {
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  const high = Math.ceil(at);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (at - low);
}

export function summary(samples: number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    median: quantile(sorted, 0.5),
    min: sorted[0]!,
    max: sorted.at(-1)!,
    q1: quantile(sorted, 0.25),
    q3: quantile(sorted, 0.75),
  };
}

/** "812 ms (IQR 790–830, min–max 770–905, n=5)" with values in ms, or seconds when `unit` is "s". */
export function describe(s: Summary, unit: "ms" | "s" = "ms"): string {
  const f = (ms: number) => (unit === "s" ? (ms / 1000).toFixed(2) : ms < 20 ? ms.toFixed(1) : ms.toFixed(0));
  return `${f(s.median)} ${unit} (IQR ${f(s.q1)}–${f(s.q3)}, min–max ${f(s.min)}–${f(s.max)}, n=${s.n})`;
}

export type Sample = () => number | Promise<number>;

/**
 * Runs every side once per round, `rounds` times, in turn (A B C A B C …; the order of each
 * round rotates so no side always goes first), after `warmup` rounds that are not counted.
 * Answers the samples of each side, in ms.
 */
export async function interleaved(
  sides: Record<string, Sample>,
  rounds: number,
  warmup = 1,
  progress?: (round: number) => void,
): Promise<Record<string, number[]>> {
  const names = Object.keys(sides);
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = -warmup; round < rounds; round++) {
    if (round >= 0) progress?.(round + 1);
    const turn = ((round % names.length) + names.length) % names.length;
    const order = [...names.slice(turn), ...names.slice(0, turn)];
    for (const name of order) {
      const ms = await sides[name]!();
      if (round >= 0) samples[name]!.push(ms);
    }
  }
  return samples;
}

/**
 * The ratio of two medians checked against a goal: "≤" (lower is better) or "≥". Also gives
 * the spread of the ratio over the rounds (each round's pair, as they ran next to each other).
 * Answers whether the goal is met.
 */
export function verdict(label: string, a: number[], b: number[], goal: { op: "<=" | ">="; value: number }): boolean {
  const ratio = summary(a).median / summary(b).median;
  const pairs = summary(a.map((x, i) => x / b[i]!));
  const pass = goal.op === "<=" ? ratio <= goal.value : ratio >= goal.value;
  console.log(
    `  ${label.padEnd(56)} ${ratio.toFixed(2)}  (pairs: ${pairs.min.toFixed(2)}–${pairs.max.toFixed(2)})  goal ${goal.op === "<=" ? "≤" : "≥"} ${goal.value}  ${pass ? "PASS" : "FAIL"}`,
  );
  return pass;
}

/** Runs argv to its end; answers the wall time in ms, throwing with the tail of stderr on failure. */
export function timed(argv: string[], env: Record<string, string | undefined> = {}): number {
  const started = performance.now();
  const proc = Bun.spawnSync(argv, {
    env: { ...process.env, ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const ms = performance.now() - started;
  if (proc.exitCode !== 0)
    throw new Error(`${argv.slice(0, 4).join(" ")} … exited ${proc.exitCode}: ${proc.stderr.toString().slice(-500)}`);
  return ms;
}

export function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith("..") ? path : rel;
}

if (import.meta.main) {
  const [command] = Bun.argv.slice(2);
  if (command === "binary") console.log(await releaseBinary());
  else {
    console.error("usage: bun scripts/bench/lib.ts binary");
    process.exit(2);
  }
}
