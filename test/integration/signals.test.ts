// Ctrl-C and SIGTERM from the first millisecond: `build` and `version-check` end with 130 or
// 143 whenever the signal comes, and leave no container, no host process, no image and no
// temporary file behind. Also the way a shell starts background jobs (SIGINT ignored until
// the program installs its own handler): the handler must be in place before the tool first
// talks to the engine.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findImage } from "../../src/docker/images.ts";
import {
  BASE_IMAGE,
  BUN,
  CLI_TEST_ENV,
  REPO_ROOT,
  leakWatch,
  tempDir,
  testClient,
  toolContainerNames,
} from "../helpers/engine.ts";
import { startEngineProxy } from "../helpers/engine-proxy.ts";

const client = testClient();
const RUN = `${process.pid}-${Date.now().toString(36)}`;
const DELAYS_MS = [0, 5, 10, 20, 50];
const SIGNALS = [
  ["SIGINT", 130],
  ["SIGTERM", 143],
] as const;
let watch: Awaited<ReturnType<typeof leakWatch>>;

let toolContainersBefore = new Set<string>();

beforeAll(async () => {
  watch = await leakWatch(client);
  toolContainersBefore = new Set(await toolContainerNames(client));
});

afterAll(async () => {
  expect(await watch.leaked()).toEqual([]);
});

/**
 * Containers of this run, running or not: those that mount one of its folders (a build's
 * builder container) and the tool's own (named aicage-util-…: check containers get their
 * folders copied in, not mounted) made since the file started. A container of another
 * session on a shared engine never counts.
 */
async function leakedContainers(): Promise<string[]> {
  const list = await client.request<Array<{ Id: string; Mounts?: Array<{ Source?: string }> }>>(
    "GET",
    "/containers/json",
    {
      query: { all: true },
    },
  );
  const mounting = list.filter((c) => c.Mounts?.some((m) => m.Source?.includes(RUN))).map((c) => c.Id);
  const named = (await toolContainerNames(client)).filter((name) => !toolContainersBefore.has(name));
  return [...mounting, ...named];
}

/** The tiny build fixture, copied to a folder whose path names this run. */
function tinyContext(): string {
  const dir = tempDir(`aicage-signal-${RUN}-`);
  cpSync(join(REPO_ROOT, "test", "fixtures", "builds", "tiny"), dir, { recursive: true });
  return dir;
}

/** An agent whose script takes a while and carries a unique word in its path, to find its processes. */
function slowAgent(word: string): string {
  const dir = join(tempDir(`aicage-signal-${RUN}-`), `agent-${word}`);
  mkdirSync(dir, { mode: 0o755 });
  writeFileSync(join(dir, "version.sh"), "sleep 3\necho 1.0.0\n", { mode: 0o644 });
  return dir;
}

/** Processes whose command line mentions `word` (a script of ours still running on the host). */
function processesWith(word: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
      if (cmdline.includes(word)) found.push(`${pid}: ${cmdline}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

interface Spawned {
  proc: ReturnType<typeof Bun.spawn>;
  tmp: string;
  started: number;
}

/**
 * Starts the CLI from source with a private TMPDIR. `sigintIgnored` starts it the way a
 * shell starts a background job: SIGINT ignored until the program installs a handler.
 */
function spawnCli(args: string[], options: { sigintIgnored?: boolean; env?: Record<string, string> } = {}): Spawned {
  const tmp = tempDir("aicage-signal-tmp-");
  const cli = [BUN, join(REPO_ROOT, "src", "cli.ts"), ...args];
  const argv = options.sigintIgnored ? ["bash", "-c", `trap '' INT; exec "$@"`, "bash", ...cli] : cli;
  const started = performance.now();
  const proc = Bun.spawn(argv, {
    env: { ...process.env, ...CLI_TEST_ENV, TMPDIR: tmp, ...options.env },
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  return { proc, tmp, started };
}

async function finish(spawned: Spawned) {
  const [exitCode, stdout, stderr] = await Promise.all([
    spawned.proc.exited,
    new Response(spawned.proc.stdout as ReadableStream).text(),
    new Response(spawned.proc.stderr as ReadableStream).text(),
  ]);
  return { exitCode, stdout, stderr, leftInTmp: readdirSync(spawned.tmp) };
}

/** Whether /proc says the process catches SIGINT (bit 2 of SigCgt): its handler is installed. */
function catchesSigint(pid: number): boolean {
  try {
    const mask = /SigCgt:\s*([0-9a-f]+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return mask !== undefined && (BigInt(`0x${mask}`) & 2n) !== 0n;
  } catch {
    return false;
  }
}

describe("a signal at any moment after start", () => {
  for (const [signal, code] of SIGNALS) {
    for (const delay of DELAYS_MS) {
      test(`build, ${signal} at ${delay} ms: exit ${code}, no image, no container, no temp file`, async () => {
        const image = `aicage-util-test/signal-build:${RUN}-${signal.toLowerCase()}-${delay}`;
        const spawned = spawnCli([
          "build",
          tinyContext(),
          "-t",
          image,
          "--network",
          "none",
          "--build-arg",
          `FROM_IMAGE=${BASE_IMAGE}`,
          "--no-cache",
        ]);
        await Bun.sleep(delay);
        spawned.proc.kill(signal);
        const result = await finish(spawned);
        expect({ exitCode: result.exitCode, leftInTmp: result.leftInTmp }).toEqual({ exitCode: code, leftInTmp: [] });
        expect(await findImage(client, image)).toBeUndefined();
        expect(await leakedContainers()).toEqual([]);
      });

      test(`version-check, ${signal} at ${delay} ms: exit ${code}, no container, no host process, no temp file`, async () => {
        const word = `sig${RUN}${signal}${delay}`.replace(/[^a-zA-Z0-9]/g, "");
        const spawned = spawnCli(["version-check", slowAgent(word), "--network", "none"]);
        await Bun.sleep(delay);
        spawned.proc.kill(signal);
        const result = await finish(spawned);
        expect({ exitCode: result.exitCode, leftInTmp: result.leftInTmp }).toEqual({ exitCode: code, leftInTmp: [] });
        expect(processesWith(word)).toEqual([]);
        expect(await leakedContainers()).toEqual([]);
      });
    }
  }
});

describe("SIGINT ignored at start (a shell's background job)", () => {
  for (const [command, after] of [
    ["build", 0],
    ["version-check", 0],
    ["build", 150],
    ["version-check", 150],
  ] as const) {
    test(`${command}: the handler is installed before the first engine request; Ctrl-C ${after} ms later ends it with 130`, async () => {
      const proxy = await startEngineProxy();
      try {
        const word = `bg${RUN}${command}${after}`.replace(/[^a-zA-Z0-9]/g, "");
        const image = `aicage-util-test/signal-bg:${RUN}-${command}-${after}`;
        const args =
          command === "build"
            ? ["build", tinyContext(), "-t", image, "--network", "none", "--build-arg", `FROM_IMAGE=${BASE_IMAGE}`]
            : ["version-check", slowAgent(word), "--network", "none"];
        const spawned = spawnCli(args, { sigintIgnored: true, env: { DOCKER_HOST: proxy.host } });
        // Polls /proc every millisecond for the handler, notes whether the engine was asked first.
        let engineFirst = false;
        const deadline = performance.now() + 10_000;
        while (!catchesSigint(spawned.proc.pid) && performance.now() < deadline) {
          if (proxy.firstConnectionAt() !== undefined) engineFirst = true;
          await Bun.sleep(1);
        }
        await Bun.sleep(after);
        spawned.proc.kill("SIGINT");
        const result = await finish(spawned);
        expect({ engineFirst, exitCode: result.exitCode, leftInTmp: result.leftInTmp }).toEqual({
          engineFirst: false,
          exitCode: 130,
          leftInTmp: [],
        });
        expect(processesWith(word)).toEqual([]);
        if (command === "build") expect(await findImage(client, image)).toBeUndefined();
        expect(await leakedContainers()).toEqual([]);
        // A create request still on its way when the process ended would show up a little later.
        await Bun.sleep(1500);
        expect(await leakedContainers()).toEqual([]);
      } finally {
        proxy.stop();
      }
    });
  }
});
