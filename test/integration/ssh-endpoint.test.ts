// ssh:// endpoints against a real sshd on 127.0.0.1 (test/helpers/sshd.ts) with the docker
// CLI's `docker system dial-stdio` on the far side, whose engine is this machine's. Every
// test checks that no ssh process, no session on the far side and no private folder is left.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { connect } from "node:net";
import { join } from "node:path";
import { DockerClient } from "../../src/docker/client.ts";
import { createContainer, removeContainer, startContainer, waitContainer } from "../../src/docker/containers.ts";
import { resolveEndpoint } from "../../src/docker/endpoint.ts";
import { EngineUnreachableError } from "../../src/docker/errors.ts";
import { findImage, inspectImage, removeImage } from "../../src/docker/images.ts";
import { SshTunnel } from "../../src/docker/ssh/ssh-tunnel.ts";
import { parseSshUrl } from "../../src/docker/ssh/ssh-target.ts";
import { engineVersion } from "../../src/docker/system.ts";
import { managedLabels } from "../../src/core/labels.ts";
import { runContainer } from "../../src/workloads/run-container.ts";
import {
  BASE_IMAGE,
  BUN,
  CLI_TEST_ENV,
  REPO_ROOT,
  compiledCli,
  leakWatch,
  runCli,
  startCliJob,
  testClient,
  watchCheckContainers,
} from "../helpers/engine.ts";
import { type ClientSetup, type Sshd, settle, startSshd } from "../helpers/sshd.ts";

const local = testClient();
const DENO = `${REPO_ROOT}/node_modules/.bin/deno`;
const EDGE = `${REPO_ROOT}/test/fixtures/agents-edge`;
const BUILDS = `${REPO_ROOT}/test/fixtures/builds`;
const RUN = `${process.pid}-${Date.now().toString(36)}`;
let sshd: Sshd;
let watch: Awaited<ReturnType<typeof leakWatch>>;
/** Folders this file makes, removed at its end. */
const folders: string[] = [];
function folder(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755); // the version-check container's user reads agent folders
  folders.push(dir);
  return dir;
}
/** TMPDIR of every client and CLI run here: the ssh private folders must not stay in it. */
const tempRoot = folder("aicage-ssh-tmp-");

beforeAll(async () => {
  watch = await leakWatch(local);
  sshd = await startSshd();
});

afterAll(async () => {
  await sshd.stop();
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
  expect(await watch.leaked()).toEqual([]);
});

function sshClient(setup?: ClientSetup, server = sshd): DockerClient {
  const endpoint = resolveEndpoint({ host: server.url, env: {}, exists: () => false });
  return new DockerClient(endpoint, { ssh: { command: server.client(setup).command, tempRoot } });
}

/** Nothing of ours still runs (client ssh, sessions on the far side), no private folder stays. */
async function expectNothingLeft(server = sshd): Promise<void> {
  expect(await settle(() => server.leftovers())).toEqual([]);
  expect(readdirSync(tempRoot).filter((name) => name.startsWith("docker-ssh-"))).toEqual([]);
}

function cliEnv(setup?: ClientSetup, server = sshd): Record<string, string> {
  return { PATH: server.client(setup).path, TMPDIR: tempRoot, DOCKER_HOST: server.url };
}

async function spawnCli(argv: string[], env: Record<string, string>) {
  const proc = Bun.spawn(argv, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...CLI_TEST_ENV, ...env },
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { exitCode, stdout, stderr };
}

describe("the Engine client over ssh", () => {
  test("ping, API version and a JSON answer are the engine's on the far side", async () => {
    const client = sshClient();
    try {
      expect(client.endpoint).toMatchObject({ kind: "ssh", display: sshd.url, source: "host setting" });
      expect(await client.ping()).toBe(await local.ping());
      // The local socket gives the far engine to whoever opens it: only this user may.
      const folders = readdirSync(tempRoot).filter((name) => name.startsWith("docker-ssh-"));
      expect(folders).toHaveLength(1);
      expect(statSync(join(tempRoot, folders[0]!)).mode & 0o777).toBe(0o700);
      expect(await client.apiVersion()).toBe(await local.apiVersion());
      expect((await engineVersion(client)).Version).toBe((await engineVersion(local)).Version);
      expect((await inspectImage(client, BASE_IMAGE)).Id).toBe((await inspectImage(local, BASE_IMAGE)).Id);
      // Several connections at once ride on one ssh connection, each its own session.
      const versions = await Promise.all([1, 2, 3, 4].map(() => engineVersion(client)));
      expect(new Set(versions.map((v) => v.ApiVersion)).size).toBe(1);
    } finally {
      await client.close();
    }
    await expectNothingLeft();
  });

  test("a container's output streams while it runs (logs and wait held open over ssh)", async () => {
    const client = sshClient();
    const arrivals: Array<[number, string]> = [];
    const started = performance.now();
    try {
      const result = await runContainer(
        client,
        {
          Image: BASE_IMAGE,
          Cmd: ["bash", "-c", "for i in 1 2 3 4; do echo line$i; sleep 0.4; done; echo done >&2"],
          Labels: managedLabels(),
          HostConfig: { NetworkMode: "none" },
        },
        { onOutput: (_stream, data) => arrivals.push([performance.now() - started, new TextDecoder().decode(data)]) },
      );
      expect([result.exitCode, result.stdout, result.stderr]).toEqual([0, "line1\nline2\nline3\nline4\n", "done\n"]);
      // Streamed, not delivered at the end: the first line came well before the last.
      const first = arrivals.find(([, text]) => text.includes("line1"))![0];
      const last = arrivals.find(([, text]) => text.includes("line4"))![0];
      expect(last - first).toBeGreaterThan(900);
    } finally {
      await client.close();
    }
    await expectNothingLeft();
  });

  test("a hijacked connection (attach with Upgrade: tcp) passes both ways, half-close included", async () => {
    const tunnel = new SshTunnel(parseSshUrl(sshd.url), { command: sshd.client().command, tempRoot });
    const id = await createContainer(local, {
      Image: BASE_IMAGE,
      Cmd: ["cat"],
      OpenStdin: true,
      StdinOnce: true,
      AttachStdin: true,
      AttachStdout: true,
      Labels: managedLabels(),
      HostConfig: { NetworkMode: "none" },
    });
    try {
      const socket = connect(await tunnel.socketPath());
      const received: Buffer[] = [];
      const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
      const upgraded = new Promise<void>((resolve) =>
        socket.on("data", (chunk: Buffer) => {
          received.push(chunk);
          if (Buffer.concat(received).includes("\r\n\r\n")) resolve();
        }),
      );
      socket.write(
        `POST /v1.41/containers/${id}/attach?stream=1&stdin=1&stdout=1 HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`,
      );
      await upgraded;
      expect(Buffer.concat(received).toString("latin1")).toStartWith("HTTP/1.1 101 UPGRADED");
      const exit = waitContainer(local, id, "next-exit");
      await startContainer(local, id);
      socket.end("hello over ssh\n"); // our half-close ends cat's stdin on the far side
      expect(await exit).toBe(0);
      await closed;
      const all = Buffer.concat(received);
      const body = all.subarray(all.indexOf("\r\n\r\n") + 4);
      // One stdout frame: stream 1, length, payload.
      expect([body[0], body.readUInt32BE(4), body.subarray(8).toString()]).toEqual([1, 15, "hello over ssh\n"]);
    } finally {
      await tunnel.close();
      await removeContainer(local, id);
    }
    await expectNothingLeft();
  });

  test("a socket path in the address picks the engine on the far side", async () => {
    const named = new DockerClient(
      resolveEndpoint({ host: `${sshd.url}/var/run/docker.sock`, env: {}, exists: () => false }),
      {
        ssh: { command: sshd.client().command, tempRoot },
      },
    );
    const missing = new DockerClient(
      resolveEndpoint({ host: `${sshd.url}/run/no%20such/docker.sock`, env: {}, exists: () => false }),
      {
        ssh: { command: sshd.client().command, tempRoot },
      },
    );
    try {
      expect(await named.ping()).toBe(await local.ping());
      const error = await missing.ping().catch((e) => e);
      expect(error).toBeInstanceOf(EngineUnreachableError);
      expect(error.message).toContain(
        "no engine answers on 127.0.0.1 (failed to open the raw stream connection: dial unix /run/no such/docker.sock:",
      );
    } finally {
      await Promise.all([named.close(), missing.close()]);
    }
    await expectNothingLeft();
  });

  test("a refused login is an EngineUnreachableError with ssh's reason; close() leaves nothing", async () => {
    const client = sshClient({ key: "unknown" });
    const error = await client.ping().catch((e) => e);
    await client.close();
    expect(error).toBeInstanceOf(EngineUnreachableError);
    expect(error.message).toStartWith(
      `Docker engine unreachable at ${sshd.url} (host setting): ssh login as root to 127.0.0.1 refused`,
    );
    await expectNothingLeft();
  });

  test("a server that allows one session per connection still serves parallel requests", async () => {
    const strict = await startSshd({ config: ["MaxSessions 1"] });
    const client = sshClient({}, strict);
    try {
      await client.ping();
      const versions = await Promise.all([1, 2, 3].map(() => engineVersion(client)));
      expect(versions).toHaveLength(3);
    } finally {
      await client.close();
    }
    await expectNothingLeft(strict);
    await strict.stop();
  });
});

describe("aicage-util over ssh", () => {
  test("doctor shows the ssh endpoint and the far engine (bun src/cli.ts)", async () => {
    const { exitCode, stdout, stderr } = await runCli(["doctor"], { env: cliEnv() });
    expect([exitCode, stderr]).toEqual([0, ""]);
    expect(stdout).toContain(`endpoint             ${sshd.url} (DOCKER_HOST)`);
    expect(stdout).toMatch(/^engine +Docker Engine \S+, API 1\.\d+ \(using 1\.\d+\)$/m);
    await expectNothingLeft();
  });

  test("doctor --json through --host, with the compiled binary", async () => {
    const { exitCode, stdout } = await spawnCli([compiledCli(), "doctor", "--json", "--host", sshd.url], {
      ...cliEnv(),
      DOCKER_HOST: "",
    });
    expect(exitCode).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.endpoint).toEqual({ kind: "ssh", address: sshd.url, source: "--host" });
    expect(report.engine.reachable).toBe(true);
    await expectNothingLeft();
  });

  test("a docker context with an ssh endpoint, under Deno", async () => {
    const config = folder("aicage-docker-config-");
    const id = createHash("sha256").update("buildbox").digest("hex");
    mkdirSync(join(config, "contexts", "meta", id), { recursive: true });
    writeFileSync(
      join(config, "contexts", "meta", id, "meta.json"),
      JSON.stringify({ Name: "buildbox", Endpoints: { docker: { Host: sshd.url } } }),
    );
    writeFileSync(join(config, "config.json"), JSON.stringify({ currentContext: "buildbox" }));
    const env = { ...cliEnv(), DOCKER_HOST: "", DOCKER_CONFIG: config };
    const { exitCode, stdout, stderr } = await spawnCli([DENO, "run", "-A", "src/cli.ts", "doctor"], env);
    expect([exitCode, stderr]).toEqual([0, ""]);
    expect(stdout).toMatch(/^aicage-util +\S+ \(\S+\) on deno, /m);
    expect(stdout).toContain(`endpoint             ${sshd.url} (context buildbox (current context))`);
    expect(stdout).toMatch(/^engine +Docker Engine \S+, API/m);
    await expectNothingLeft();
  });

  test("a build streams its progress over ssh (--via api)", async () => {
    const { stderr } = await buildOverSsh("ssh-build", ["--via", "api"]);
    expect(stderr.match(/error/i)).toBeNull();
  }, 120_000);
});

describe("builds choose the way that works (issue 12)", () => {
  test("--via builder over ssh goes through the API, with one notice: the far engine cannot see the context", async () => {
    const { stderr } = await buildOverSsh("ssh-builder", []);
    expect(stderr.trim().split("\n")).toEqual([
      `[warn] the engine at ${sshd.url} cannot see this machine's files; building through the Engine API instead (--via api)`,
    ]);
  }, 120_000);
});

/** Builds the tiny fixture over ssh; it must go through the API and land on the engine. */
async function buildOverSsh(name: string, args: string[]) {
  const tag = `aicage-util-test/${name}:${RUN}`;
  const run = await runCli(
    [
      "build",
      `${BUILDS}/tiny`,
      "-t",
      tag,
      ...args,
      "--network",
      "none",
      "--build-arg",
      `FROM_IMAGE=${BASE_IMAGE}`,
      "--json",
    ],
    { env: cliEnv() },
  );
  expect([run.exitCode, run.stderr]).toEqual([0, expect.any(String)]);
  const result = JSON.parse(run.stdout);
  expect(result.via).toBe("api");
  expect((await inspectImage(local, tag)).Id).toBe(result.imageId);
  await removeImage(local, tag, { force: true });
  await expectNothingLeft();
  return run;
}

describe("ssh failures: one line naming cause and fix, exit 3", () => {
  const cases: Array<[string, ClientSetup, RegExp]> = [
    [
      "a key the server does not accept",
      { key: "unknown" },
      /ssh login as root to 127\.0\.0\.1 refused \(Permission denied \(publickey\)\); offer a key/,
    ],
    [
      "an unknown host key",
      { knownHosts: "empty" },
      /the host key of 127\.0\.0\.1 is not known, and batch mode cannot ask to accept it; connect once with `ssh -p \d+ root@127\.0\.0\.1`/,
    ],
    [
      "a changed host key",
      { knownHosts: "changed" },
      /the host key of 127\.0\.0\.1 differs from the one in known_hosts .*`ssh-keygen -R '\[127\.0\.0\.1\]:\d+'`/,
    ],
  ];
  for (const [name, setup, message] of cases) {
    test(name, async () => {
      const { exitCode, stderr } = await runCli(["doctor"], { env: cliEnv(setup) });
      expect(exitCode).toBe(3);
      expect(stderr.trim().split("\n")).toHaveLength(1);
      expect(stderr).toStartWith(`[error] Docker engine unreachable at ${sshd.url} (DOCKER_HOST): `);
      expect(stderr).toMatch(message);
      await expectNothingLeft();
    });
  }

  test("docker missing on the far side (under Deno too)", async () => {
    const noDocker = await startSshd({ env: { PATH: "/nonexistent" } });
    try {
      for (const argv of [
        [BUN, "src/cli.ts", "doctor"],
        [DENO, "run", "-A", "src/cli.ts", "doctor"],
      ]) {
        const { exitCode, stderr } = await spawnCli(argv, cliEnv({}, noDocker));
        expect(exitCode).toBe(3);
        expect(stderr.trim().split("\n")).toHaveLength(1);
        expect(stderr.trim()).toBe(
          `[error] Docker engine unreachable at ${noDocker.url} (DOCKER_HOST): the docker command was not found on 127.0.0.1; ` +
            "install the docker CLI there, on the PATH of non-interactive ssh sessions (it runs `docker system dial-stdio`).",
        );
        await expectNothingLeft(noDocker);
      }
    } finally {
      await noDocker.stop();
    }
  });

  test("no engine on the far side", async () => {
    const noEngine = await startSshd({ env: { DOCKER_HOST: "unix:///nonexistent/docker.sock" } });
    try {
      const { exitCode, stderr } = await runCli(["images", "ls"], { env: cliEnv({}, noEngine) });
      expect(exitCode).toBe(3);
      expect(stderr.trim().split("\n")).toHaveLength(1);
      expect(stderr).toContain(
        "no engine answers on 127.0.0.1 (failed to open the raw stream connection: dial unix /nonexistent/docker.sock: connect: no such file or directory); start Docker on 127.0.0.1",
      );
      await expectNothingLeft(noEngine);
    } finally {
      await noEngine.stop();
    }
  });

  test("connection refused", async () => {
    const { exitCode, stderr } = await runCli(["doctor", "--host", "ssh://root@127.0.0.1:1"], { env: cliEnv() });
    expect(exitCode).toBe(3);
    expect(stderr.trim()).toBe(
      "[error] Docker engine unreachable at ssh://root@127.0.0.1:1 (--host): 127.0.0.1 refused the ssh connection on port 1; " +
        "check the host and port of the endpoint, and that sshd runs there.",
    );
    const json = await runCli(["doctor", "--json", "--host", "ssh://root@127.0.0.1:1"], { env: cliEnv() });
    expect(json.exitCode).toBe(3);
    expect(JSON.parse(json.stdout).engine.error).toMatchObject({
      kind: "unreachable",
      fix: "check the host and port of the endpoint, and that sshd runs there",
    });
    await expectNothingLeft();
  });
});

describe("ssh addresses refused before ssh runs (issue 23): exit 2, one line, no password shown", () => {
  // An ssh first on the PATH that leaves a mark: a refused address must never reach it.
  const fakeBin = folder("aicage-fake-ssh-");
  const mark = join(fakeBin, "ssh-ran");
  writeFileSync(join(fakeBin, "ssh"), `#!/bin/sh\necho "$@" >> '${mark}'\nexit 255\n`, { mode: 0o755 });
  const cases: Array<[string, string]> = [
    ["ssh://h$(id)ost", "the host 'h$(id)ost' is neither a host name nor an IP address"],
    ["ssh://a;id;b@host", "the user name 'a;id;b' is not a login name"],
    ["ssh://me:s3cretpw@box", "'ssh://me:***@box' holds a password; use a key or an ssh agent instead"],
    ["ssh://box:0", "port 0 is not between 1 and 65535"],
    [`ssh://${"a".repeat(100_000)}`, "is neither a host name nor an IP address"],
  ];
  for (const [value, message] of cases) {
    test(`${value.slice(0, 50)} (--json too)`, async () => {
      for (const args of [
        ["images", "ls"],
        ["doctor", "--json"],
      ]) {
        const env = { TMPDIR: tempRoot, DOCKER_HOST: value, PATH: `${fakeBin}:${process.env.PATH}` };
        const run = await runCli(args, { env });
        expect(run.exitCode).toBe(2);
        expect(run.stderr.trim().split("\n")).toHaveLength(1);
        expect(run.stderr).toStartWith("[error] DOCKER_HOST: ");
        expect(run.stderr).toContain(message);
        expect(run.stderr.length).toBeLessThan(400);
        expect(`${run.stdout}${run.stderr}`).not.toContain("s3cretpw");
        if (args.includes("--json")) expect(JSON.parse(run.stdout).error).toMatchObject({ kind: "usage", exitCode: 2 });
      }
      expect(existsSync(mark)).toBe(false);
    });
  }
});

describe("Ctrl-C over ssh (SIGINT to the CLI's whole process group)", () => {
  for (const runtime of ["bun", "deno"] as const) {
    test(`mid version-check in a container (${runtime}): exit 130, the far container removed, nothing left`, async () => {
      // An agent folder of this test's own: the shared engine may run other sessions' checks.
      const agent = join(folder("aicage-ssh-agent-"), "hangs-in-image");
      cpSync(`${EDGE}/hangs-in-image`, agent, { recursive: true });
      const checks = await watchCheckContainers(local);
      const argv = runtime === "bun" ? [BUN, "src/cli.ts"] : [DENO, "run", "-A", "src/cli.ts"];
      const job = startCliJob([...argv, "version-check", "--timeout", "120", agent], cliEnv());
      expect(await checks.running()).toHaveLength(1);
      job.interrupt();
      expect(await job.exited).toBe(130);
      expect(await checks.left()).toEqual([]);
      await expectNothingLeft();
    }, 60_000);
  }

  test("during doctor, which starts no container: exit 130, nothing left", async () => {
    const job = startCliJob([BUN, "src/cli.ts", "doctor"], cliEnv());
    // Wait for the ssh connection to be up: a session on the far side.
    for (let i = 0; i < 100 && !sshd.leftovers().some((p) => p.includes("dial-stdio")); i++) await Bun.sleep(20);
    job.interrupt();
    expect(await job.exited).toBe(130);
    await expectNothingLeft();
  });

  test("mid build, while its progress streams: exit 130, nothing left", async () => {
    const tag = `aicage-util-test/ssh-slow:${RUN}`;
    const job = startCliJob(
      [
        BUN,
        "src/cli.ts",
        "build",
        `${BUILDS}/slow`,
        "-t",
        tag,
        "--via",
        "api",
        "--network",
        "none",
        "--no-cache",
        "--build-arg",
        `FROM_IMAGE=${BASE_IMAGE}`,
        "--build-arg",
        `RUN_ID=${RUN}`,
      ],
      cliEnv(),
    );
    for (let i = 0; i < 600 && !job.stderr().includes(`sleeping for ${RUN}`); i++) await Bun.sleep(100);
    expect(job.stderr()).toContain(`sleeping for ${RUN}`);
    job.interrupt();
    expect(await job.exited).toBe(130);
    expect(await findImage(local, tag)).toBeUndefined();
    await expectNothingLeft();
  }, 90_000);
});
