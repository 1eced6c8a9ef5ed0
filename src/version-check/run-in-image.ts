// Runs the version.sh scripts of many agents in ONE version-check container, each as a user
// of its own so that no script can read, change or stop another's work:
// - the agent folders are copied in through the Engine API before the container starts
//   (check-files.ts), never bind-mounted: an engine on another machine gets them too, and a
//   script can change neither the user's files nor its own copy;
// - the runner (runner.sh, a bash file embedded as text: its values come from here as
//   arguments, RUNNER_SETTINGS) starts as root with only SETUID, SETGID and SETPCAP, and
//   starts each script through setpriv as uid/gid AGENT_ID_BASE+n with no capabilities at all
//   (bounding set empty), in its own HOME and TMPDIR (tmpfs mounts of its own, size-limited),
//   under its own process and memory limits, with a deadline kept by a root process it cannot
//   signal; what it started is killed when it ends;
// - no agent can write to the root file system: /tmp and /var/tmp are size-limited tmpfs
//   mounts, cleared of each agent's files when it ends (see runner.sh);
// - each script's output goes to files the runner opened in a root-only folder before it
//   dropped its privileges; the results travel on the container's stdout, which no script
//   can write to: a start line when a script starts, its framed record as soon as it has
//   ended, written by the runner's main shell alone (records never interleave);
// - no-new-privileges, container-wide pid and memory limits above the agents' own, and never
//   the Docker socket;
// - every record that arrived is kept, whatever happens to the container or the engine later.
// One container for twenty agents costs about as much as for one (scripts/bench-version-check).
import type { DockerClient } from "../docker/client.ts";
import { isPodman } from "../workloads/engine-kind.ts";
import { type RunContainerResult, type RunPhases, runContainer } from "../workloads/run-container.ts";
import { PURPOSE_LABEL, managedLabels } from "../core/labels.ts";
import { createLineSplitter } from "../lib/lines.ts";
import { neutralise } from "../lib/safe-text.ts";
import type { AgentFolder } from "./agent-folder.ts";
import type { ScriptRun } from "./attempt.ts";
import {
  AGENT_ID_BASE,
  CHECK_ROOT,
  type SharedFile,
  VARIABLES_ROOT,
  type VariableFile,
  checkFilesArchive,
} from "./check-files.ts";
import { CA_VARIABLES, PREPARE_SCRIPT } from "./registry-forward.ts";
import RUNNER from "./runner.sh" with { type: "text" };

/** The runner, as the container gets it (`bash -c RUNNER`): the bytes of runner.sh. */
export { RUNNER };

const MIB = 1024 * 1024;
/** Processes (threads count) of one agent's user: node and npm start about a dozen threads. */
const PIDS_PER_AGENT = 96;
/** Memory one process of an agent may take (data and private mappings; node reserves more address space than it uses). */
const MEMORY_PER_PROCESS = 512 * MIB;
/** The OOM killer's choice when the container runs out of memory: an agent's process, never the runner. */
const AGENT_OOM_SCORE_ADJ = 900;
/** Each agent's HOME and TMPDIR: a tmpfs each (memory, counted in the container's limit). */
const AGENT_TMPFS_BYTES = 128 * MIB;
/** /tmp, shared by the agents running at once (for each) and /var/tmp. */
const SHARED_TMP_PER_SLOT_BYTES = 64 * MIB;
const VAR_TMP_BYTES = 16 * MIB;
const KILL_GRACE_SECONDS = 2;
const RESULT_PREFIX = "AICAGE-RESULT";
const STARTED_PREFIX = "AICAGE-STARTED";
/**
 * Characters of a record the runner's shell reads itself (bash's `read -n` reads a byte per
 * system call: a few ms for this many, about what starting cat costs); a longer one is printed by cat.
 */
const RECORD_READ_CHARS = 4096;
/** The longest a timer can wait (2^31-1 ms); longer ones fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * npm retries a registry it cannot reach for about 70 s without a word (back-off from 10 s to
 * 60 s): a check would cost its whole timeout and say nothing. Short retries end it in seconds,
 * with npm's own error on stderr for the failure hint. (The user's npm config may still override.)
 */
const NPM_RETRY_ENV = ["NPM_CONFIG_FETCH_RETRY_MINTIMEOUT=1000", "NPM_CONFIG_FETCH_RETRY_MAXTIMEOUT=2000"];

/**
 * Capabilities the runner keeps: change to an agent's user (SETUID, SETGID), empty its bounding
 * set (SETPCAP), hand it its tmpfs folders (CHOWN) and signal its processes at its deadline
 * (KILL). With SETUID it could do the last two already; no agent keeps any.
 */
const RUNNER_CAPABILITIES = ["CHOWN", "SETUID", "SETGID", "SETPCAP", "KILL"];

/**
 * What the runner (runner.sh) reads before the scripts, in its order: the facts whose home is
 * this file, check-files.ts and registry-forward.ts, so the shell file holds none of them.
 */
export const RUNNER_SETTINGS = {
  root: CHECK_ROOT,
  id_base: AGENT_ID_BASE,
  started_prefix: STARTED_PREFIX,
  result_prefix: RESULT_PREFIX,
  read_chars: RECORD_READ_CHARS,
  grace: KILL_GRACE_SECONDS,
  prepare: PREPARE_SCRIPT,
  ca_variables: CA_VARIABLES.join(" "),
  variables: VARIABLES_ROOT,
  nproc: PIDS_PER_AGENT,
  data_kib: MEMORY_PER_PROCESS / 1024,
  oom_score_adj: AGENT_OOM_SCORE_ADJ,
} as const;

/**
 * The runner's arguments after its name: its settings, then this run's (the names of the
 * variables it exports into each script's environment: names only, never a value), then each
 * script's file and CRLF flag.
 */
export function runnerArguments(
  slots: number,
  limitSeconds: number,
  cap: number,
  variableNames: string[],
  scripts: Array<Pick<BatchScript, "file" | "crlf">>,
): string[] {
  return [
    ...Object.values(RUNNER_SETTINGS).map(String),
    String(slots),
    String(limitSeconds),
    String(cap),
    variableNames.join(" "),
    ...scripts.flatMap((script) => [script.file, script.crlf ? "1" : "0"]),
  ];
}

export interface BatchScript {
  /** the agent folder, scanned: what is copied into the container */
  folder: AgentFolder;
  /** the script's file name inside that folder */
  file: string;
  crlf: boolean;
}

/** What a batch tells as it runs: each script's start and end as they happen, then where the time went. */
export type BatchEvent =
  /** script `index` (its place in `scripts`) has started in the container */
  | { kind: "started"; index: number }
  /** script `index` has ended, with what it did; once per script */
  | { kind: "finished"; index: number; run: ScriptRun }
  /** where the container's time went (create, copy, start, run, exit), once it has ended */
  | { kind: "phases"; phases: RunPhases };

export interface BatchOptions {
  image: string;
  /** NAME=value for the container's configuration: nothing secret (`docker inspect` shows it) */
  env: string[];
  /**
   * Host variables each script gets in its own environment (tokens, proxies, --env): carried as
   * root-only files the runner exports per script, never in the container's configuration.
   */
  variables?: VariableFile[];
  network?: string;
  jobs: number;
  timeoutMs: number;
  maxOutputBytes: number;
  signal?: AbortSignal;
  /** files every agent may read (the host's registry set-up) */
  shared?: SharedFile[];
  report?: (event: BatchEvent) => void;
}

/**
 * Bytes a results tmpfs of one agent holds, both streams together: far more than the cap, so
 * that a script writing megabytes goes on as it would on the host (only the first cap+1 bytes
 * of each are read), while one writing without end fails to write there and nowhere else.
 */
const RESULTS_TMPFS_BYTES = 64 * MIB;
const resultsTmpfsBytes = (cap: number) => Math.max(RESULTS_TMPFS_BYTES, 2 * (cap + 1) + MIB);

const kib = (bytes: number) => `${Math.ceil(bytes / 1024)}k`;

/**
 * The container's tmpfs mounts: per agent its HOME, TMPDIR (its own, size-limited) and its
 * results folder (root's: an output flood fills only its own); /tmp and /var/tmp for all.
 */
function checkTmpfs(count: number, slots: number, cap: number, ownerOption: boolean): Record<string, string> {
  const mounts: Record<string, string> = {
    "/tmp": `size=${kib(SHARED_TMP_PER_SLOT_BYTES * slots)},mode=1777,nosuid,nodev`,
    "/var/tmp": `size=${kib(VAR_TMP_BYTES)},mode=1777,nosuid,nodev`,
  };
  for (let n = 0; n < count; n++) {
    // The agent's from the start where the engine knows tmpfs' uid= option (Docker); else
    // root's until the runner hands them over (Podman 4 refuses the option; a chown each).
    const id = AGENT_ID_BASE + n;
    const owner = ownerOption ? `,uid=${id},gid=${id}` : "";
    const own = `size=${kib(AGENT_TMPFS_BYTES)},mode=0700${owner},nosuid,nodev`;
    mounts[`${CHECK_ROOT}/home/${n}`] = own;
    mounts[`${CHECK_ROOT}/tmp/${n}`] = own;
    mounts[`${CHECK_ROOT}/results/${n}`] = `size=${kib(resultsTmpfsBytes(cap))},mode=0700,nosuid,nodev,noexec`;
  }
  return mounts;
}

/**
 * The container's memory: per slot, an agent's processes and its full tmpfs mounts; then the
 * shared /tmp, /var/tmp and /dev/shm. One agent's hog is killed first (its OOM score).
 */
function checkMemoryBytes(slots: number, cap: number): number {
  const perSlot = MEMORY_PER_PROCESS + 2 * AGENT_TMPFS_BYTES + resultsTmpfsBytes(cap);
  return slots * (perSlot + SHARED_TMP_PER_SLOT_BYTES) + VAR_TMP_BYTES + 64 * MIB;
}

/** The container that runs a batch: what it is allowed, and what it is not. */
function checkContainerSpec(scripts: BatchScript[], options: BatchOptions, podman: boolean) {
  const slots = Math.max(1, Math.min(options.jobs, scripts.length));
  const limitSeconds = Math.max(1, Math.ceil(options.timeoutMs / 1000));
  return {
    Image: options.image,
    Cmd: [
      "bash",
      "-c",
      RUNNER,
      "aicage-version-check",
      ...runnerArguments(
        slots,
        limitSeconds,
        options.maxOutputBytes,
        (options.variables ?? []).map((v) => v.name),
        scripts,
      ),
    ],
    // The image's own init (tini) reaps orphans and forwards signals: an engine's init binary
    // (HostConfig.Init) may be missing (Podman without catatonit answers HTTP 500).
    Entrypoint: ["/usr/bin/tini", "--"],
    // The runner is root only to hand each script a user of its own; it keeps five capabilities.
    User: "0:0",
    Env: [...NPM_RETRY_ENV, ...options.env, "AICAGE_VERSION_CHECK_PLACE=image"],
    WorkingDir: "/",
    Labels: managedLabels({ [PURPOSE_LABEL]: "version-check" }),
    HostConfig: {
      NetworkMode: options.network,
      CapDrop: ["ALL"],
      CapAdd: RUNNER_CAPABILITIES,
      SecurityOpt: ["no-new-privileges"],
      PidsLimit: PIDS_PER_AGENT * slots + 32,
      Memory: checkMemoryBytes(slots, options.maxOutputBytes),
      Tmpfs: checkTmpfs(scripts.length, slots, options.maxOutputBytes, !podman),
    },
  };
}

/**
 * What a batch answered: one run per script, in order, where its record arrived; and why the
 * others have none (the container ran out of time or ended early, the engine stopped answering).
 */
export interface BatchOutcome {
  runs: Array<ScriptRun | undefined>;
  missing?: Error;
}

/**
 * Runs every script. Each record is kept as it arrives, whatever happens to the container or
 * the engine afterwards. Throws only when no record arrived and the container could not run
 * (or the run was interrupted).
 */
export async function runBatchInImage(
  client: DockerClient,
  scripts: BatchScript[],
  options: BatchOptions,
): Promise<BatchOutcome> {
  const slots = Math.max(1, Math.min(options.jobs, scripts.length));
  const limitSeconds = Math.max(1, Math.ceil(options.timeoutMs / 1000));
  const waves = Math.ceil(scripts.length / slots);
  const recordBytes = 2 * 4 * Math.ceil((options.maxOutputBytes + 1) / 3) + 256;
  const containerSeconds = waves * (limitSeconds + KILL_GRACE_SECONDS) + 15;

  // Each script's start and end as the runner reports them: for a live display, and the
  // records themselves, kept as they come.
  const lines = createLineSplitter();
  const started = new Set<number>();
  const runs = new Array<ScriptRun | undefined>(scripts.length);
  const follow = (line: string) => {
    if (line.startsWith(`${STARTED_PREFIX} `)) {
      const digits = line.slice(STARTED_PREFIX.length + 1);
      const index = Number(digits);
      if (!/^\d+$/.test(digits) || index >= scripts.length || started.has(index)) return;
      started.add(index);
      options.report?.({ kind: "started", index });
    } else {
      const record = parseRecord(line, scripts.length, limitSeconds, options.maxOutputBytes);
      // The first record of a script counts; the runner prints exactly one.
      if (!record || runs[record.index]) return;
      runs[record.index] = record.run;
      options.report?.({ kind: "finished", index: record.index, run: record.run });
    }
  };

  let result: RunContainerResult;
  try {
    const spec = checkContainerSpec(scripts, options, await isPodman(client));
    result = await runContainer(client, spec, {
      copyIn: [
        {
          path: "/",
          archive: () =>
            checkFilesArchive(
              scripts.map((s) => s.folder),
              options.shared ?? [],
              options.variables ?? [],
            ),
        },
      ],
      // Each wave may take the per-script limit plus the kill grace; the container a bit more.
      timeoutMs: Math.min(MAX_TIMER_MS, containerSeconds * 1000),
      // Each script's record and its start line, and room for the runner's own words.
      maxOutputBytes: scripts.length * (recordBytes + 32) + 65_536,
      signal: options.signal,
      onOutput: (stream, data) => {
        if (stream === "stdout") for (const line of lines.push(data)) follow(line);
      },
      // The engine removes the finished container (as `docker run --rm`); the results do not
      // wait for it. One that did not run to its end is removed before this returns.
      autoRemove: true,
    });
  } catch (error) {
    options.signal?.throwIfAborted();
    if (!runs.some(Boolean)) throw error;
    return { runs, missing: error as Error };
  }
  options.report?.({ kind: "phases", phases: result.phases });
  for (const line of lines.end()) follow(line);
  if (!runs.includes(undefined)) return { runs };
  // includes, unlike indexOf, sees the holes a script without a record leaves.
  if (result.timedOut)
    return { runs, missing: new Error(`the version-check container ran out of time (${containerSeconds}s)`) };
  const why = neutralise(result.stderr.trim().split("\n").pop() || `container exit code ${result.exitCode}`);
  return { runs, missing: new Error(`the version-check container ended without this agent's result: ${why}`) };
}

/** One line of the runner's output read as a result record; undefined for any other line. */
function parseRecord(
  line: string,
  count: number,
  limitSeconds: number,
  cap: number,
): { index: number; run: ScriptRun } | undefined {
  if (!line.startsWith(`${RESULT_PREFIX} `)) return undefined;
  const [, n, rc, ms, out = "", err = ""] = line.split(" ");
  const index = Number(n);
  if (!(Number.isInteger(index) && index >= 0 && index < count)) return undefined;
  const exitCode = Number(rc);
  const durationMs = Number(ms);
  // timeout(1) answers 124 (137 after the KILL grace) when the limit struck.
  const stdoutBytes = Buffer.from(out, "base64");
  const stderrBytes = Buffer.from(err, "base64");
  const timedOut = (exitCode === 124 || exitCode === 137) && durationMs >= limitSeconds * 1000 - 50;
  const run: ScriptRun = {
    exitCode: timedOut ? null : exitCode,
    timedOut,
    stdout: text(stdoutBytes.subarray(0, cap)),
    stderr: text(stderrBytes.subarray(0, cap)),
    stdoutTruncated: stdoutBytes.length > cap,
    truncated: stdoutBytes.length > cap || stderrBytes.length > cap,
    durationMs,
  };
  return { index, run };
}

function text(bytes: Uint8Array): string {
  return new TextDecoder("utf-8", { fatal: false }).decode(bytes);
}
