// An engine that does not work, and settings that cannot name one (issue 11, items 5, 15, 16):
// a hung engine that answers /_ping and nothing else, one that answers nothing, something
// that is not an engine at all (a web page, an answer cut short, bytes that are not HTTP),
// and DOCKER_HOST / --host values that are not addresses. Every command ends, with one line
// that names the endpoint and the way out: exit 3 for the engine, 2 for a bad value.
// The broken engines are small fakes on temporary unix sockets (the issue allows exactly
// these); one case puts a proxy in front of the real engine and freezes it mid-run;
// everything else here needs no engine.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DockerClient } from "../../src/docker/client.ts";
import { resolveEndpoint } from "../../src/docker/endpoint.ts";
import { DockerStreamError, EngineTimeoutError } from "../../src/docker/errors.ts";
import { pullImage } from "../../src/docker/images.ts";
import {
  CLI_TEST_ENV,
  REPO_ROOT,
  runCli,
  settled,
  tempDir,
  testClient,
  toolContainerNames,
} from "../helpers/engine.ts";
import { startEngineProxy } from "../helpers/engine-proxy.ts";
import { type FakeEngine, type FakeEngineKind, startFakeEngine } from "../helpers/fake-engine.ts";

const TINY = join(REPO_ROOT, "test", "fixtures", "builds", "tiny");
/** Engine calls get 2 s here, so each case takes seconds, not the default 30 s. */
const SHORT = { AICAGE_UTIL_ENGINE_TIMEOUT: "2" };
let fake: FakeEngine | undefined;

afterEach(() => {
  fake?.stop();
  fake = undefined;
});

function start(kind: FakeEngineKind): FakeEngine {
  fake = startFakeEngine(kind);
  return fake;
}

async function timed(args: string[], env: Record<string, string>) {
  const started = performance.now();
  const result = await runCli(args, { env });
  return { ...result, seconds: (performance.now() - started) / 1000, lines: result.stderr.trim().split("\n") };
}

function agent(): string {
  const dir = join(tempDir("aicage-engine-failures-"), "agent");
  mkdirSync(dir, { mode: 0o755 });
  writeFileSync(join(dir, "version.sh"), "echo 4.5.6\n", { mode: 0o644 });
  return dir;
}

const fix = "Start Docker, or point at a running engine with --host or DOCKER_HOST.";

describe("a hung engine: answers /_ping, nothing else", () => {
  const hung = (socket: string, request: string) =>
    `Docker engine unreachable at ${socket} (DOCKER_HOST): no answer within 2s to ${request}; the engine may be hung (restart it). ${fix}`;

  test("doctor: the report, then one line naming the endpoint and the call; exit 3", async () => {
    const engine = start("wedged");
    const run = await timed(["doctor"], { ...SHORT, DOCKER_HOST: engine.host });
    expect(run.exitCode).toBe(3);
    expect(run.seconds).toBeLessThan(10);
    expect(run.stdout).toContain(`endpoint        ${engine.socketPath} (DOCKER_HOST)`);
    expect(run.lines).toEqual([`[error] ${hung(engine.socketPath, "GET /v1.41/version")}`]);
  });

  test("doctor --json: the error in the report, kind unreachable; exit 3", async () => {
    const engine = start("wedged");
    const run = await timed(["doctor", "--json"], { ...SHORT, DOCKER_HOST: engine.host });
    expect(run.exitCode).toBe(3);
    expect(JSON.parse(run.stdout).engine.error).toEqual({
      kind: "unreachable",
      message: expect.stringContaining("no answer within 2s"),
      fix: null,
    });
  });

  test("images ls: exit 3, one line", async () => {
    const engine = start("wedged");
    const run = await timed(["images", "ls"], { ...SHORT, DOCKER_HOST: engine.host });
    expect(run.exitCode).toBe(3);
    expect(run.seconds).toBeLessThan(10);
    expect(run.lines).toEqual([
      `[error] ${hung(engine.socketPath, "GET /v1.41/images/ghcr.io/aicage/aicage-image-util:version-check-0.1.0/json")}`,
    ]);
  });

  for (const timeout of [[], ["--timeout", "1"]]) {
    test(`version-check ${timeout.join(" ")}: the image attempt gives up, the host answers; exit 0 with one warning`, async () => {
      const engine = start("wedged");
      const run = await timed(["version-check", agent(), "--json", ...timeout], { ...SHORT, DOCKER_HOST: engine.host });
      expect(run.exitCode).toBe(0);
      expect(run.seconds).toBeLessThan(12);
      expect(JSON.parse(run.stdout).results[0]).toMatchObject({ ok: true, version: "4.5.6", source: "host" });
      expect(run.lines).toHaveLength(1);
      expect(run.lines[0]).toStartWith(
        `[warn] Docker engine unreachable at ${engine.socketPath} (DOCKER_HOST): no answer within 2s to GET /v1.41/images/`,
      );
      expect(run.lines[0]).toEndWith("; version checks run on the host instead");
    });

    test(`version-check --only image ${timeout.join(" ")}: exit 3, one line`, async () => {
      const engine = start("wedged");
      const run = await timed(["version-check", agent(), "--only", "image", ...timeout], {
        ...SHORT,
        DOCKER_HOST: engine.host,
      });
      expect(run.exitCode).toBe(3);
      expect(run.lines).toEqual([`[error] ${hung(engine.socketPath, "GET /v1.41/version")}`]);
    });
  }

  test("build --via builder: exit 3 before anything is built, one line", async () => {
    const engine = start("wedged");
    const run = await timed(["build", TINY, "-t", "aicage-util-test/hung:1"], { ...SHORT, DOCKER_HOST: engine.host });
    expect(run.exitCode).toBe(3);
    expect(run.lines).toEqual([
      // The engine's identity comes first: buildx in the builder image works only on Docker.
      `[error] ${hung(engine.socketPath, "GET /v1.41/version")}`,
    ]);
  });

  test("build --via api: exit 3, and the log ends with the failure", async () => {
    const engine = start("wedged");
    const log = join(tempDir("aicage-hung-log-"), "build.log");
    const run = await timed(["build", TINY, "-t", "aicage-util-test/hung:1", "--via", "api", "--log-file", log], {
      ...SHORT,
      DOCKER_HOST: engine.host,
    });
    expect(run.exitCode).toBe(3);
    expect(run.lines).toEqual([`[info] build log: ${log}`, `[error] ${hung(engine.socketPath, "POST /v1.41/build")}`]);
    expect(readFileSync(log, "utf8").trim().split("\n").at(-1)).toStartWith("# failed: Docker engine unreachable at");
  });

  test("the default deadline is 30 s per call", async () => {
    const engine = start("wedged");
    const run = await timed(["images", "ls"], { DOCKER_HOST: engine.host });
    expect(run.exitCode).toBe(3);
    expect(run.seconds).toBeGreaterThan(29);
    expect(run.seconds).toBeLessThan(40);
    expect(run.stderr).toContain("no answer within 30s to GET /v1.41/images/");
  }, 60_000);
});

describe("a stream that stops moving", () => {
  test("a pull whose progress goes quiet ends with the idle deadline, naming the call", async () => {
    const engine = start("stalls");
    const client = new DockerClient(resolveEndpoint({ host: engine.host, hostSource: "--host" }));
    const seen: string[] = [];
    const started = performance.now();
    const error = await pullImage(client, "aicage-util-test/never:1", {
      idleTimeoutMs: 500,
      onProgress: (m) => seen.push(m.status!),
    }).catch((e) => e);
    expect(performance.now() - started).toBeLessThan(3000);
    expect(seen).toEqual(["Pulling from library/x"]);
    expect(error).toBeInstanceOf(EngineTimeoutError);
    expect(error.message).toBe(
      `Docker engine unreachable at ${engine.socketPath} (--host): the answer stopped moving within 0.5s to POST /v1.41/images/create; the engine may be hung (restart it).`,
    );
  });

  test("a stream without an idle deadline (a container's logs) may stay quiet; its caller's signal ends it", async () => {
    const engine = start("stalls");
    const client = new DockerClient(resolveEndpoint({ host: engine.host, hostSource: "--host" }), {
      requestTimeoutMs: 300,
    });
    const controller = new AbortController();
    const body = await client.stream("GET", "/containers/x/logs", { signal: controller.signal });
    const reader = body.getReader();
    expect((await reader.read()).done).toBe(false);
    // Longer than the client's deadline: the head came, the body may be silent.
    const quiet = await Promise.race([reader.read().then(() => "moved"), Bun.sleep(800).then(() => "quiet")]);
    expect(quiet).toBe("quiet");
    controller.abort(new Error("stop"));
    await expect(reader.read()).rejects.toBeDefined();
  });
});

describe("the real engine hangs while a check container runs", () => {
  // The script waits in the image only; once the container started, the engine answers nothing
  // more (no log bytes, no exit). The run ends after the container's own deadline (a wave of one
  // script: 3 s + the kill grace + 15 s) and one call's deadline (2 s here), naming the endpoint.
  // Both cases run at once, each through a proxy of its own: they wait the same 20 s.
  const cases = [
    { only: ["--only", "image"], exitCode: 3, level: "error", ending: fix },
    { only: [], exitCode: 0, level: "warn", ending: "; version checks run on the host instead" },
  ];

  async function hangMidRun({ only, exitCode, level, ending }: (typeof cases)[number]) {
    const proxy = await startEngineProxy();
    const names: string[] = [];
    // Frozen a second after the tool asked for the logs: the start and the logs have had their
    // answers by then (on a loaded machine a start may take longer than a fixed delay after its
    // request), and the script, cut at 3 s by its own timeout, has not ended yet.
    proxy.onRequest = (request) => {
      const name = /^\/v[\d.]+\/containers\/create\?name=(aicage-util-[0-9a-f]+)/.exec(request.target)?.[1];
      if (name) names.push(name);
      if (request.method === "GET" && /\/containers\/[^/]+\/logs/.test(request.target))
        setTimeout(() => proxy.freeze(), 1000);
    };
    const dir = join(tempDir("aicage-engine-hangs-"), "agent");
    mkdirSync(dir, { mode: 0o755 });
    writeFileSync(
      join(dir, "version.sh"),
      'if [ "$AICAGE_VERSION_CHECK_PLACE" = image ]; then sleep 30; fi\necho 1.0\n',
      { mode: 0o644 },
    );
    try {
      const run = await timed(["version-check", dir, "--json", "--timeout", "3", ...only], {
        ...SHORT,
        DOCKER_HOST: proxy.host,
      });
      expect(run.exitCode).toBe(exitCode);
      expect(run.lines).toHaveLength(1);
      expect(run.lines[0]).toStartWith(
        `[${level}] Docker engine unreachable at ${proxy.socketPath} (DOCKER_HOST): no answer within 2s to POST /containers/`,
      );
      expect(run.lines[0]).toMatch(/\/containers\/[0-9a-f]{12}\/kill; the engine may be hung \(restart it\)/);
      expect(run.lines[0]).toEndWith(ending);
      if (exitCode === 0)
        expect(JSON.parse(run.stdout).results[0]).toMatchObject({ ok: true, version: "1.0", source: "host" });
      else expect(JSON.parse(run.stdout)).toMatchObject({ error: { exitCode: 3 } });
      expect(run.seconds).toBeLessThan(35);
      expect(names).toHaveLength(1);
    } finally {
      proxy.stop();
    }
    // The engine itself never hung: the container ran to its end and removed itself.
    expect(
      await settled(
        async () => (await toolContainerNames(testClient())).filter((name) => name === `/${names[0]}`),
        30_000,
      ),
    ).toEqual([]);
  }

  test("version-check --timeout 3: with --only image exit 3, one line naming the endpoint; image, then host: one warning line, the host answers, exit 0", async () => {
    await Promise.all(cases.map(hangMidRun));
  }, 90_000);
});

describe("an answer that never ends (issue 23): cut at 16 MiB, not read into memory", () => {
  test("a progress stream whose line never ends: the pull fails once the line passes 16 MiB", async () => {
    const engine = start("endless");
    // The API version given: negotiating would end at the endless GET /version.
    const client = new DockerClient(resolveEndpoint({ host: engine.host, hostSource: "--host" }), {
      apiVersion: "1.41",
    });
    const started = performance.now();
    const error = await pullImage(client, "aicage-util-test/never:1", { idleTimeoutMs: 5_000 }).catch((e) => e);
    expect(error).toBeInstanceOf(DockerStreamError);
    expect(error.message).toBe(
      "pull aicage-util-test/never:1 failed: the engine sent a progress line longer than 16 MiB",
    );
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  /** The CLI run, with the most memory it held (bytes). */
  async function measured(args: string[], env: Record<string, string>) {
    const proc = Bun.spawn([process.execPath, join(REPO_ROOT, "src", "cli.ts"), ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...CLI_TEST_ENV, ...env },
      stdout: "pipe",
      stderr: "pipe",
      stdin: "ignore",
    });
    const started = performance.now();
    const [stdout, stderr, exitCode] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    const seconds = (performance.now() - started) / 1000;
    return { exitCode, stdout, seconds, lines: stderr.trim().split("\n"), maxRss: proc.resourceUsage()!.maxRSS };
  }
  const tooLarge = (socket: string) =>
    `Docker engine unreachable at ${socket} (DOCKER_HOST): the answer to GET /version is larger than 16 MiB, more than a Docker engine sends`;
  // The deadline (2 s here) would end the read too, after gigabytes: the memory shows which ended it.
  const MAX_RSS = 256 * 1024 * 1024;

  test("doctor: the report, then one line naming the call and the cap; exit 3, memory bounded", async () => {
    const engine = start("endless");
    const run = await measured(["doctor"], { ...SHORT, DOCKER_HOST: engine.host });
    expect(run.lines).toEqual([`[error] ${tooLarge(engine.socketPath)}. ${fix}`]);
    expect(run.exitCode).toBe(3);
    expect(run.seconds).toBeLessThan(10);
    expect(run.maxRss).toBeLessThan(MAX_RSS);
  });

  test("version-check --only image: exit 3, one line; without --only: the host answers after one warning", async () => {
    const engine = start("endless");
    const only = await measured(["version-check", agent(), "--only", "image"], { ...SHORT, DOCKER_HOST: engine.host });
    expect(only.lines).toEqual([`[error] ${tooLarge(engine.socketPath)}. ${fix}`]);
    expect(only.exitCode).toBe(3);
    expect(only.maxRss).toBeLessThan(MAX_RSS);
    const either = await measured(["version-check", agent(), "--json"], { ...SHORT, DOCKER_HOST: engine.host });
    expect(either.lines).toEqual([`[warn] ${tooLarge(engine.socketPath)}; version checks run on the host instead`]);
    expect(either.exitCode).toBe(0);
    expect(JSON.parse(either.stdout).results[0]).toMatchObject({ ok: true, version: "4.5.6", source: "host" });
    expect(either.maxRss).toBeLessThan(MAX_RSS);
  });
});

describe("an answer whose body comes a byte at a time and never ends", () => {
  test("the call's deadline covers its body, not only its head: images ls ends after 2 s, exit 3, one line", async () => {
    const engine = start("trickle");
    const run = await timed(["images", "ls"], { ...SHORT, DOCKER_HOST: engine.host });
    expect(run.exitCode).toBe(3);
    expect(run.seconds).toBeLessThan(8);
    expect(run.lines).toEqual([
      `[error] Docker engine unreachable at ${engine.socketPath} (DOCKER_HOST): no answer within 2s to GET /v1.41/images/ghcr.io/aicage/aicage-image-util:version-check-0.1.0/json; the engine may be hung (restart it). ${fix}`,
    ]);
  });
});

describe("AICAGE_UTIL_DEBUG=1", () => {
  test("adds the stack trace after the one line, each of its lines made safe; without it, the line alone", async () => {
    const args = ["images", "ls"];
    const env = { DOCKER_HOST: "unix:///nonexistent/engine.sock" };
    const plain = await timed(args, env);
    const debug = await timed(args, { ...env, AICAGE_UTIL_DEBUG: "1" });
    expect([plain.exitCode, debug.exitCode]).toEqual([3, 3]);
    expect(plain.lines).toHaveLength(1);
    expect(debug.lines[0]).toBe(plain.lines[0]!);
    expect(debug.lines[1]).toStartWith("EngineUnreachableError: Docker engine unreachable at /nonexistent/engine.sock");
    expect(debug.lines.slice(2).length).toBeGreaterThan(0);
    for (const line of debug.lines.slice(2)) expect(line).toMatch(/^ +at /);
  });
});

describe("nothing answers at all, not even /_ping", () => {
  test("the ping's own deadline (5 s at most): exit 3, one line", async () => {
    const engine = start("silent");
    const run = await timed(["images", "ls"], { DOCKER_HOST: engine.host });
    expect(run.exitCode).toBe(3);
    expect(run.seconds).toBeLessThan(9);
    expect(run.lines).toEqual([
      `[error] Docker engine unreachable at ${engine.socketPath} (DOCKER_HOST): no answer within 5s to GET /_ping; the engine may be hung (restart it). ${fix}`,
    ]);
  });
});

describe("something other than an engine on the socket", () => {
  const cases: Array<[FakeEngineKind, string]> = [
    ["html", "what answers there is not a Docker engine (an HTML page to GET /version)"],
    ["garbage", "what answers there is not a Docker engine (an answer that is not HTTP to GET /_ping)"],
    [
      "cut",
      "the connection closed in the middle of the answer to GET /v1.41/images/ghcr.io/aicage/aicage-image-util:version-check-0.1.0/json",
    ],
  ];
  for (const [kind, reason] of cases) {
    for (const json of [false, true]) {
      test(`${kind}${json ? " --json" : ""}: images ls exits 3 with one line naming the endpoint and the fix`, async () => {
        const engine = start(kind);
        const run = await timed(["images", "ls", ...(json ? ["--json"] : [])], { ...SHORT, DOCKER_HOST: engine.host });
        const message = `Docker engine unreachable at ${engine.socketPath} (DOCKER_HOST): ${reason}. ${fix}`;
        expect(run.exitCode).toBe(3);
        expect(run.lines).toEqual([`[error] ${message}`]);
        if (json)
          expect(JSON.parse(run.stdout)).toEqual({
            schemaVersion: 1,
            error: { kind: "engine-unreachable", exitCode: 3, message },
          });
        else expect(run.stdout).toBe("");
      });
    }
  }

  test("html: doctor reports it and exits 3", async () => {
    const engine = start("html");
    const run = await timed(["doctor"], { DOCKER_HOST: engine.host });
    expect(run.exitCode).toBe(3);
    expect(run.stdout).toContain("not usable: Docker engine unreachable at");
    expect(run.lines).toEqual([
      `[error] Docker engine unreachable at ${engine.socketPath} (DOCKER_HOST): what answers there is not a Docker engine (an HTML page to GET /version). ${fix}`,
    ]);
  });
});

describe("the same source under Deno", () => {
  test("hung, an HTML page, cut short, not HTTP, endless: the same one line, exit 3", async () => {
    const reasons: Record<string, string> = {
      wedged:
        "no answer within 2s to GET /v1.41/images/ghcr.io/aicage/aicage-image-util:version-check-0.1.0/json; the engine may be hung (restart it)",
      html: "what answers there is not a Docker engine (an HTML page to GET /version)",
      cut: "the connection closed in the middle of the answer to GET /v1.41/images/ghcr.io/aicage/aicage-image-util:version-check-0.1.0/json",
      garbage: "what answers there is not a Docker engine (an answer that is not HTTP to GET /_ping)",
      endless: "the answer to GET /version is larger than 16 MiB, more than a Docker engine sends",
    };
    for (const [kind, reason] of Object.entries(reasons)) {
      const engine = start(kind as FakeEngineKind);
      const proc = Bun.spawn(
        [
          join(REPO_ROOT, "node_modules", ".bin", "deno"),
          "run",
          "-A",
          join(REPO_ROOT, "src", "cli.ts"),
          "images",
          "ls",
        ],
        {
          env: { ...process.env, ...CLI_TEST_ENV, ...SHORT, DOCKER_HOST: engine.host },
          stdout: "pipe",
          stderr: "pipe",
        },
      );
      const [exitCode, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
      expect({ kind, exitCode, stderr }).toEqual({
        kind,
        exitCode: 3,
        stderr: `[error] Docker engine unreachable at ${engine.socketPath} (DOCKER_HOST): ${reason}. ${fix}\n`,
      });
      engine.stop();
      fake = undefined;
    }
  }, 60_000);
});

describe("DOCKER_HOST and --host values that cannot be an address: exit 2, one line, the value shown safely", () => {
  const cases: Array<[string, string]> = [
    [
      "tcp://127.0.0.1:99999",
      "invalid Docker host 'tcp://127.0.0.1:99999': port 99999 is not between 1 and 65535; use tcp://HOST:PORT",
    ],
    [
      "tcp://127.0.0.1:0",
      "invalid Docker host 'tcp://127.0.0.1:0': port 0 is not between 1 and 65535; use tcp://HOST:PORT",
    ],
    [
      "tcp://256.1.1.1:2375",
      "invalid Docker host 'tcp://256.1.1.1:2375': 256.1.1.1 is not an IPv4 address; use tcp://HOST:PORT",
    ],
    ["tcp://1.2.3:2375", "invalid Docker host 'tcp://1.2.3:2375': 1.2.3 is not an IPv4 address; use tcp://HOST:PORT"],
    [
      "tcp://bad_host!:2375",
      "invalid Docker host 'tcp://bad_host!:2375': 'bad_host!' is not a host name; use tcp://HOST:PORT",
    ],
    [
      "tcp://127.0.0.1:2375\nexport X=1",
      "the Docker host 'tcp://127.0.0.1:2375\\nexport X=1' holds a control character; remove it",
    ],
    [
      "unix:///var/run/docker.sock\r\u001b[2J",
      "the Docker host 'unix:///var/run/docker.sock\\r\\x1b[2J' holds a control character; remove it",
    ],
  ];
  for (const [value, message] of cases) {
    for (const via of ["DOCKER_HOST", "--host"] as const) {
      test(`${JSON.stringify(value)} in ${via}`, async () => {
        const args = via === "--host" ? ["images", "ls", "--host", value, "--json"] : ["images", "ls", "--json"];
        const run = await runCli(args, { env: via === "DOCKER_HOST" ? { DOCKER_HOST: value } : {} });
        expect(run.exitCode).toBe(2);
        expect(run.stderr).toBe(`[error] ${via}: ${message}\n`);
        expect(JSON.parse(run.stdout).error).toEqual({ kind: "usage", exitCode: 2, message: `${via}: ${message}` });
      });
    }
  }

  test("an IPv6 literal and a host name are addresses: they are tried (exit 3, nothing listens)", async () => {
    for (const value of ["tcp://[::1]:9", "tcp://localhost:9"]) {
      const run = await runCli(["images", "ls"], { env: { DOCKER_HOST: value } });
      expect({ value, exitCode: run.exitCode }).toEqual({ value, exitCode: 3 });
    }
  });

  test("AICAGE_UTIL_ENGINE_TIMEOUT takes whole seconds", async () => {
    const run = await runCli(["images", "ls"], { env: { AICAGE_UTIL_ENGINE_TIMEOUT: "9999999999\u001b]0;x\u0007" } });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toBe(
      "[error] AICAGE_UTIL_ENGINE_TIMEOUT takes whole seconds from 1 to 86400, not '9999999999\\x1b]0;x\\x07'\n",
    );
  });
});

describe("--json always means JSON on stdout (item 14)", () => {
  const cases: Array<[string[], string]> = [
    [["images", "frob", "--json"], "unknown command 'frob' for 'aicage-util images'; see 'aicage-util images --help'"],
    [["images", "--json"], "missing command: aicage-util images ls|pull|build|rm; see 'aicage-util images --help'"],
    [
      ["--json"],
      "missing command: aicage-util build|doctor|images|version-check|upgrade|completion; see 'aicage-util --help'",
    ],
    [["frob", "--json"], "unknown command 'frob' for 'aicage-util'; see 'aicage-util --help'"],
    [
      ["images", "ls", "--frob", "--json"],
      "unknown option --frob for 'aicage-util images ls'; see 'aicage-util images ls --help'",
    ],
    [["build", "--via", "docker", "--json"], "--via takes builder or api, not 'docker'"],
    [["version-check", "--only", "nowhere", "--json"], "--only takes image or host, not 'nowhere'"],
  ];
  for (const [args, message] of cases) {
    test(`${args.join(" ")}: the error object, exit 2, no colour anywhere`, async () => {
      // Colours would come with a terminal or FORCE_COLOR: no NO_COLOR here, FORCE_COLOR set.
      const { NO_COLOR: _, ...env } = { ...process.env, ...CLI_TEST_ENV };
      const proc = Bun.spawn([process.execPath, join(REPO_ROOT, "src", "cli.ts"), ...args], {
        env: { ...env, FORCE_COLOR: "1" },
        stdout: "pipe",
        stderr: "pipe",
      });
      const [exitCode, stdout, stderr] = await Promise.all([
        proc.exited,
        new Response(proc.stdout).text(),
        new Response(proc.stderr).text(),
      ]);
      expect(exitCode).toBe(2);
      expect(JSON.parse(stdout)).toEqual({ schemaVersion: 1, error: { kind: "usage", exitCode: 2, message } });
      expect(stdout).not.toContain("\u001b");
      expect(stderr.trim().split("\n")).toHaveLength(1);
      expect(stderr).toContain(message);
    });
  }

  test("without --json, an unknown subcommand is one line too; a bare group still shows its usage", async () => {
    const unknown = await runCli(["images", "frob"]);
    expect([unknown.exitCode, unknown.stdout, unknown.stderr]).toEqual([
      2,
      "",
      "[error] unknown command 'frob' for 'aicage-util images'; see 'aicage-util images --help'\n",
    ]);
    const bare = await runCli(["images"]);
    expect(bare.exitCode).toBe(2);
    expect(bare.stdout).toContain("Usage: aicage-util images COMMAND");
  });
});
