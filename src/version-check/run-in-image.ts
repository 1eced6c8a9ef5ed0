// Runs the version.sh scripts of many agents in ONE version-check container: each
// agent folder read-only under /agents/<n>, the scripts run with bash as the image's
// non-root user, at most `jobs` at once, each under its own timeout. The container has
// no capabilities, no-new-privileges, pid and memory limits, and never the Docker
// socket. One container for twenty agents costs about as much as for one: the
// benchmark (scripts/bench-version-check) measured it 5x faster than a container each.
import type { DockerClient } from "../docker/client.ts";
import { runContainer } from "../engine/run-container.ts";
import { PURPOSE_LABEL, managedLabels } from "../core/labels.ts";
import type { ScriptRun } from "./attempt.ts";

const AGENTS_MOUNT = "/agents";
const PIDS_PER_SLOT = 96; // node and npm start about a dozen threads; pids count threads
const MEMORY_PER_SLOT = 512 * 1024 * 1024;
const KILL_GRACE_SECONDS = 2;
const RESULT_PREFIX = "AICAGE-RESULT";

/**
 * The runner inside the container (a fixed text: the user's paths arrive as arguments).
 * Per script: cd to its folder, run it under `timeout`, keep the first CAP bytes of
 * stdout and stderr, and print one line at the end:
 *   AICAGE-RESULT <n> <exit code> <ms> <stdout truncated 0|1> <stderr truncated 0|1> <stdout base64> <stderr base64>
 * base64 keeps non-UTF-8 bytes intact through the engine's log driver. Records are
 * printed after all scripts ended, one at a time, so concurrent writes never interleave.
 */
const RUNNER = String.raw`
set -u
jobs=$1 limit=$2 cap=$3; shift 3
results=$(mktemp -d)
run_one() {
  local n=$1 script=$2 crlf=$3 start end rc
  start=$(date +%s%3N)
  (
    cd "$(dirname "$script")" || exit 126
    if [ "$crlf" = 1 ]; then
      exec timeout -k ${KILL_GRACE_SECONDS} "$limit" bash -c 'eval "$(sed "s/\r\$//" "$0")"' "$script"
    else
      exec timeout -k ${KILL_GRACE_SECONDS} "$limit" bash "$script"
    fi
  ) >"$results/$n.out" 2>"$results/$n.err" </dev/null
  rc=$?
  end=$(date +%s%3N)
  echo "$rc $((end - start))" >"$results/$n.rc"
}
count=0
while [ $# -gt 0 ]; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
  run_one "$count" "$1" "$2" &
  count=$((count + 1))
  shift 2
done
wait
for ((n = 0; n < count; n++)); do
  read -r rc ms <"$results/$n.rc" || { rc=125; ms=0; }
  out_trunc=0; err_trunc=0
  [ "$(stat -c %s "$results/$n.out")" -gt "$cap" ] && out_trunc=1
  [ "$(stat -c %s "$results/$n.err")" -gt "$cap" ] && err_trunc=1
  printf '${RESULT_PREFIX} %s %s %s %s %s %s %s\n' "$n" "$rc" "$ms" "$out_trunc" "$err_trunc" \
    "$(head -c "$cap" "$results/$n.out" | base64 -w0)" "$(head -c "$cap" "$results/$n.err" | base64 -w0)"
done
`;

export interface BatchScript {
  /** host folder mounted read-only */
  dir: string;
  /** the script's file name inside that folder */
  file: string;
  crlf: boolean;
}

export interface BatchOptions {
  image: string;
  env: string[];
  network?: string;
  jobs: number;
  timeoutMs: number;
  maxOutputBytes: number;
  signal?: AbortSignal;
}

/** Runs every script; answers one ScriptRun per script, in order. Throws if the container cannot run. */
export async function runBatchInImage(client: DockerClient, scripts: BatchScript[], options: BatchOptions): Promise<ScriptRun[]> {
  const slots = Math.max(1, Math.min(options.jobs, scripts.length));
  const limitSeconds = Math.max(1, Math.ceil(options.timeoutMs / 1000));
  const waves = Math.ceil(scripts.length / slots);
  const args = scripts.flatMap((script, n) => [`${AGENTS_MOUNT}/${n}/${script.file}`, script.crlf ? "1" : "0"]);
  const recordBytes = 2 * Math.ceil((options.maxOutputBytes * 4) / 3) + 256;

  const result = await runContainer(
    client,
    {
      Image: options.image,
      Cmd: ["bash", "-c", RUNNER, "aicage-version-check", String(slots), String(limitSeconds), String(options.maxOutputBytes), ...args],
      Entrypoint: null,
      Env: [...options.env, "AICAGE_VERSION_CHECK_PLACE=image"],
      WorkingDir: AGENTS_MOUNT,
      Labels: managedLabels({ [PURPOSE_LABEL]: "version-check" }),
      HostConfig: {
        Mounts: scripts.map((script, n) => ({ Type: "bind" as const, Source: script.dir, Target: `${AGENTS_MOUNT}/${n}`, ReadOnly: true })),
        NetworkMode: options.network,
        CapDrop: ["ALL"],
        SecurityOpt: ["no-new-privileges"],
        PidsLimit: PIDS_PER_SLOT * slots + 32,
        Memory: MEMORY_PER_SLOT * slots,
        Init: true, // reaps orphans and forwards signals to the scripts' processes
      },
    },
    {
      // Each wave may take the per-script limit plus the kill grace; the container a bit more.
      timeoutMs: waves * (limitSeconds + KILL_GRACE_SECONDS) * 1000 + 15_000,
      maxOutputBytes: scripts.length * recordBytes + 65_536,
      signal: options.signal,
    },
  );
  if (result.timedOut) throw new Error("the version-check container did not finish in time");
  const runs = parseRecords(result.stdout, scripts.length, limitSeconds);
  const missing = runs.findIndex((run) => run === undefined);
  if (missing >= 0) {
    const why = result.stderr.trim().split("\n").pop() || `container exit code ${result.exitCode}`;
    throw new Error(`the version-check container ended without results: ${why}`);
  }
  return runs as ScriptRun[];
}

function parseRecords(stdout: string, count: number, limitSeconds: number): Array<ScriptRun | undefined> {
  const runs = new Array<ScriptRun | undefined>(count);
  for (const line of stdout.split("\n")) {
    if (!line.startsWith(`${RESULT_PREFIX} `)) continue;
    const [, n, rc, ms, outTrunc, errTrunc, out = "", err = ""] = line.split(" ");
    const index = Number(n);
    if (!(index >= 0 && index < count)) continue;
    const exitCode = Number(rc);
    const durationMs = Number(ms);
    // timeout(1) answers 124 (137 after the KILL grace) when the limit struck.
    const timedOut = (exitCode === 124 || exitCode === 137) && durationMs >= limitSeconds * 1000 - 50;
    runs[index] = {
      exitCode: timedOut ? null : exitCode,
      timedOut,
      stdout: decodeBase64(out),
      stderr: decodeBase64(err),
      truncated: outTrunc === "1" || errTrunc === "1",
      durationMs,
    };
  }
  return runs;
}

function decodeBase64(text: string): string {
  return new TextDecoder("utf-8", { fatal: false }).decode(Buffer.from(text, "base64"));
}
