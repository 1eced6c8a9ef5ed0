import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findImage, removeImage } from "../../src/docker/images.ts";
import {
  BASE_IMAGE,
  BUN,
  CLI_TEST_ENV,
  REPO_ROOT,
  managedContainers,
  runCli,
  tempDir,
  testClient,
} from "../helpers/engine.ts";
import { engineSuite } from "../helpers/suite.ts";
import { UPSTREAM_VERSIONS, type Upstream, startUpstream } from "../helpers/upstream-server.ts";

const client = testClient();
const AGENTS = `${REPO_ROOT}/test/fixtures/agents`;
const EDGE = `${REPO_ROOT}/test/fixtures/agents-edge`;
let upstream: Upstream;
// The image the checks use: built once here if missing, reused after.
const suite = engineSuite(["version-check"], client);

/** A PATH with the basics but no npm, node, python, jq: a host that lacks the toolchain. */
function bareHostPath(): string {
  const dir = tempDir("aicage-bare-bin-");
  for (const tool of ["bash", "sh", "sed", "head", "tr", "cat", "grep", "env", "sleep", "seq", "uname", "curl"]) {
    const found = Bun.which(tool);
    if (found) symlinkSync(found, join(dir, tool));
  }
  return dir;
}

/** A temporary folder for agent folders, removed when the tests end. */
function agentsDir(): string {
  return tempDir("aicage-agents-");
}

function writeAgent(root: string, name: string, body: string): string {
  mkdirSync(join(root, name), { recursive: true, mode: 0o755 });
  writeFileSync(join(root, name, "version.sh"), body, { mode: 0o644 });
  return join(root, name);
}

async function check(args: string[], env: Record<string, string> = {}) {
  const run = await runCli(["version-check", "--json", "--network", "host", ...args], {
    env: { AICAGE_TEST_UPSTREAM: upstream.url, ...env },
  });
  let parsed: any;
  try {
    parsed = JSON.parse(run.stdout);
  } catch {
    throw new Error(`no JSON on stdout (exit ${run.exitCode}): ${run.stdout}\n${run.stderr}`);
  }
  return { ...run, results: parsed.results as any[], json: parsed };
}

beforeAll(() => {
  upstream = startUpstream();
});

afterAll(() => upstream.stop());

describe("version-check in the image", () => {
  test("real-looking scripts (npm view, pip index, GitHub API + jq, installer, plain file) answer from the image", async () => {
    const { exitCode, results, stderr } = await check(["--agents", AGENTS, "--env", "AICAGE_TEST_UPSTREAM"]);
    expect(stderr).toBe("");
    expect(exitCode).toBe(0);
    expect(results.map((r) => [r.agent, r.version, r.source, r.ok])).toEqual([
      ["github-agent", UPSTREAM_VERSIONS.github, "image", true],
      ["installer-agent", UPSTREAM_VERSIONS.installer, "image", true],
      ["npm-agent", UPSTREAM_VERSIONS.npm, "image", true],
      ["pip-agent", UPSTREAM_VERSIONS.pip, "image", true],
      ["plain-agent", UPSTREAM_VERSIONS.plain, "image", true],
    ]);
    for (const r of results) {
      expect(r.script).toBe(`${AGENTS}/${r.agent}/version.sh`);
      expect(r.attempts).toHaveLength(1);
      expect(r.attempts[0]).toMatchObject({ source: "image", ok: true, exitCode: 0, timedOut: false, error: null });
    }
  });

  test("an agent needing npm works in the image when the host has no npm", async () => {
    const env = { PATH: bareHostPath() };
    const hostOnly = await check(["--only", "host", "--no-cache-fallback", `${AGENTS}/npm-agent`], env);
    expect(hostOnly.exitCode).toBe(1);
    expect(hostOnly.results[0].attempts[0].error).toContain("npm: command not found");
    const imageFirst = await check(["--env", "AICAGE_TEST_UPSTREAM", `${AGENTS}/npm-agent`], env);
    expect(imageFirst.exitCode).toBe(0);
    expect(imageFirst.results[0]).toMatchObject({ version: UPSTREAM_VERSIONS.npm, source: "image" });
  });

  test("--env forwards a token by name; its value is never printed", async () => {
    const token = "ghp_fixture_secret_0123456789";
    const before = upstream.requests.length;
    const run = await check(["--env", "AICAGE_TEST_UPSTREAM", "--env", "GITHUB_TOKEN", `${AGENTS}/github-agent`], {
      GITHUB_TOKEN: token,
    });
    expect(run.results[0]).toMatchObject({ ok: true, source: "image" });
    const seen = upstream.requests.slice(before).filter((r) => r.path.includes("/releases/latest"));
    expect(seen.map((r) => r.authorization)).toEqual([`Bearer ${token}`]);
    expect(run.stdout + run.stderr).not.toContain(token);
  });

  test("proxy variables reach the container (either case) without --env", async () => {
    const root = agentsDir();
    const dir = writeAgent(root, "proxy-echo", 'echo "${HTTPS_PROXY:-none}|${no_proxy:-none}|${UNRELATED:-none}"\n');
    const env = { HTTPS_PROXY: "http://proxy.internal:3128", no_proxy: "localhost,.corp", UNRELATED: "secret" };
    const { results } = await check(["--only", "image", dir], env);
    expect(results[0]).toMatchObject({ source: "image", version: "http://proxy.internal:3128|localhost,.corp|none" });
  });

  test("stderr noise with a good stdout; multi-line output gives the first non-empty line", async () => {
    const { results } = await check([`${EDGE}/noisy-stderr`, `${EDGE}/multi-line`]);
    expect(results.map((r) => [r.version, r.source])).toEqual([
      ["5.0.1", "image"],
      ["3.1.4", "image"],
    ]);
  });

  test("megabytes of output are capped and flagged, the version still read", async () => {
    const { results } = await check([`${EDGE}/huge-output`]);
    expect(results[0]).toMatchObject({ ok: true, version: "7.7.7", source: "image" });
    expect(results[0].attempts[0].outputTruncated).toBe(true);
  });

  test("CRLF scripts and non-UTF-8 output give the same answer in the image and on the host", async () => {
    const { exitCode, results } = await check(["--compare", `${EDGE}/crlf`, `${EDGE}/non-utf8`]);
    expect(exitCode).toBe(1);
    expect(results[0].compare).toEqual({ image: "6.0.2", host: "6.0.2", match: true });
    // Bytes that are not UTF-8 are no version, in either place, for the same reason.
    expect(results[1].compare).toEqual({ image: null, host: null, match: false });
    expect(results[1].attempts.map((a: any) => a.error)).toEqual([
      'output refused: its first line is not UTF-8 text: "v1.2\uFFFD\uFFFD"',
      'output refused: its first line is not UTF-8 text: "v1.2\uFFFD\uFFFD"',
    ]);
  });
});

describe("falling back to the host", () => {
  test("fails in the image, works on the host: source host, both attempts reported", async () => {
    const { exitCode, results } = await check([`${EDGE}/fails-in-image`]);
    expect(exitCode).toBe(0);
    expect(results[0]).toMatchObject({ ok: true, version: "2.0.0", source: "host" });
    expect(results[0].attempts.map((a: any) => [a.source, a.ok, a.exitCode])).toEqual([
      ["image", false, 3],
      ["host", true, 0],
    ]);
    expect(results[0].attempts[0].error).toBe("exit code 3: upstream unreachable from the container");
  });

  test("a script that hangs in the image times out, its container is removed, the host answers", async () => {
    const started = performance.now();
    const { results } = await check(["--timeout", "3", `${EDGE}/hangs-in-image`]);
    expect(results[0]).toMatchObject({ ok: true, version: "9.9.9", source: "host" });
    expect(results[0].attempts[0]).toMatchObject({
      source: "image",
      ok: false,
      timedOut: true,
      exitCode: null,
      error: "timed out after 3s",
    });
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(await suite.leaked()).toEqual([]);
  });

  test("no output and a non-zero exit are failures in both places: exit 1, reasons kept", async () => {
    const { exitCode, results } = await check(["--no-cache-fallback", `${EDGE}/no-output`, `${EDGE}/exit-nonzero`]);
    expect(exitCode).toBe(1);
    expect(results.map((r) => [r.ok, r.source, r.version])).toEqual([
      [false, null, null],
      [false, null, null],
    ]);
    expect(results[0].attempts.map((a: any) => a.error)).toEqual([
      "no output: no release found",
      "no output: no release found",
    ]);
    expect(results[1].attempts.map((a: any) => a.error)).toEqual([
      "exit code 4: registry answered 503",
      "exit code 4: registry answered 503",
    ]);
  });

  test("engine unreachable: every agent from the host, one warning line", async () => {
    const { exitCode, results, stderr } = await check(
      [`${EDGE}/multi-line`, `${EDGE}/fails-in-image`, `${EDGE}/crlf`],
      {
        DOCKER_HOST: "unix:///tmp/aicage-no-engine.sock",
      },
    );
    expect(exitCode).toBe(0);
    expect(results.map((r) => [r.version, r.source])).toEqual([
      ["3.1.4", "host"],
      ["2.0.0", "host"],
      ["6.0.2", "host"],
    ]);
    const lines = stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toStartWith("[warn] Docker engine unreachable at /tmp/aicage-no-engine.sock (DOCKER_HOST)");
    expect(lines[0]).toEndWith("version checks run on the host instead");
  });

  test("--only image without an engine cannot go on: exit 3, one line", async () => {
    const run = await runCli(["version-check", "--only", "image", `${EDGE}/multi-line`], {
      env: { DOCKER_HOST: "unix:///tmp/aicage-no-engine.sock" },
    });
    expect(run.exitCode).toBe(3);
    expect(run.stdout).toBe("");
    expect(run.stderr.trim().split("\n")).toEqual([
      "[error] Docker engine unreachable at /tmp/aicage-no-engine.sock (DOCKER_HOST): the socket does not exist. " +
        "Start Docker, or point at a running engine with --host or DOCKER_HOST.",
    ]);
  });

  test("the order is reversible by flag and by environment", async () => {
    const byEnv = await check([`${EDGE}/fails-in-image`], { AICAGE_VERSION_CHECK_ORDER: "host,image" });
    expect(byEnv.results[0].attempts.map((a: any) => a.source)).toEqual(["host"]);
    const byFlag = await check(["--order", "host,image", "--env", "AICAGE_TEST_UPSTREAM", `${AGENTS}/npm-agent`], {
      PATH: bareHostPath(),
    });
    expect(byFlag.results[0].attempts.map((a: any) => [a.source, a.ok])).toEqual([
      ["host", false],
      ["image", true],
    ]);
    expect(byFlag.results[0].source).toBe("image");
  });

  test("--compare reports where image and host differ, exit 1", async () => {
    const { exitCode, results } = await check(["--compare", `${EDGE}/fails-in-image`, `${EDGE}/multi-line`]);
    expect(exitCode).toBe(1);
    expect(results[0].compare).toEqual({ image: null, host: "2.0.0", match: false });
    expect(results[1].compare).toEqual({ image: "3.1.4", host: "3.1.4", match: true });
  });
});

describe("many agents", () => {
  test("twenty agents at once: input order, right results, nothing left behind", async () => {
    const root = agentsDir();
    const names = Array.from({ length: 20 }, (_, i) => `agent-${String(20 - i).padStart(2, "0")}`);
    for (const [i, name] of names.entries()) writeAgent(root, name, `sleep 0.$((RANDOM % 9))\necho 1.${i}.0\n`);
    const paths = names.map((name) => join(root, name));
    const { exitCode, results } = await check(["--jobs", "8", ...paths]);
    expect(exitCode).toBe(0);
    expect(results.map((r) => r.agent)).toEqual(names);
    expect(results.map((r) => r.version)).toEqual(names.map((_, i) => `1.${i}.0`));
    expect(results.every((r) => r.source === "image")).toBe(true);
    expect(await suite.leaked()).toEqual([]);
  });
});

describe("records", () => {
  test("--cache-ttl answers from a fresh record of an unchanged script without running it", async () => {
    const root = agentsDir();
    const dir = writeAgent(root, "cached", "echo 1.0.0\n");
    const env = { AICAGE_UTIL_STATE_DIR: tempDir("aicage-state-") };
    expect((await check(["--only", "host", dir], env)).results[0].source).toBe("host");
    writeFileSync(join(dir, "marker"), "");
    const cached = await check(["--only", "host", "--cache-ttl", "3600", dir], env);
    expect(cached.results[0]).toMatchObject({ source: "cache", version: "1.0.0", stale: false, attempts: [] });
    writeFileSync(join(dir, "version.sh"), "echo 1.1.0\n");
    const changed = await check(["--only", "host", "--cache-ttl", "3600", dir], env);
    expect(changed.results[0]).toMatchObject({ source: "host", version: "1.1.0" });
  });

  test("when every attempt fails the last recorded version is answered as stale, exit 0 with a warning", async () => {
    const root = agentsDir();
    const dir = writeAgent(
      root,
      "flaky",
      'if [ -f "$(dirname "$0")/offline" ]; then echo offline >&2; exit 6; fi\necho 4.2.0\n',
    );
    const env = { AICAGE_UTIL_STATE_DIR: tempDir("aicage-state-") };
    expect((await check(["--only", "host", dir], env)).results[0].version).toBe("4.2.0");
    writeFileSync(join(dir, "offline"), "");
    const stale = await check(["--only", "host", dir], env);
    expect(stale.exitCode).toBe(0);
    expect(stale.results[0]).toMatchObject({ ok: true, source: "cache", stale: true, version: "4.2.0" });
    expect(stale.stderr).toContain("[warn] flaky: every attempt failed; answering the version recorded at");
    const strict = await check(["--only", "host", "--no-cache-fallback", dir], env);
    expect(strict.exitCode).toBe(1);
    expect(strict.results[0]).toMatchObject({ ok: false, source: null });
  });
});

describe("the util image itself", () => {
  test("missing and not pullable: it is built locally from the embedded Dockerfile, then used", async () => {
    const repository = `aicage-util-test/fresh-${process.pid}`;
    try {
      const run = await check(["--repository", repository, `${EDGE}/multi-line`]);
      expect(run.results[0]).toMatchObject({ ok: true, source: "image", version: "3.1.4" });
      expect(run.stderr).toContain(`could not pull ${repository}:version-check-`);
      expect(run.stderr).toContain("building it locally from the embedded Dockerfile");
    } finally {
      const images = await client.request<Array<{ Id: string; RepoTags: string[] | null }>>("GET", "/images/json");
      for (const image of images) {
        // Podman answers tags fully qualified (docker.io/aicage-util-test/…).
        for (const tag of image.RepoTags ?? [])
          if (tag.replace(/^docker\.io\//, "").startsWith(repository)) await removeImage(client, tag);
      }
    }
  }, 600_000);
});

describe("usage and interruption", () => {
  test("bad paths are reported together before anything runs, exit 2", async () => {
    const run = await runCli([
      "version-check",
      "/nonexistent/agent",
      `${REPO_ROOT}/test`,
      "--agents",
      "/nonexistent/dir",
    ]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr.trim()).toBe(
      "[error] bad agent paths: /nonexistent/agent: no such file or folder; " +
        `${REPO_ROOT}/test: folder has no version.sh; --agents /nonexistent/dir: not a folder`,
    );
  });

  test("an unreadable script is a usage error; an unwritable state dir only a warning", async () => {
    const root = agentsDir();
    const dir = writeAgent(root, "locked", "echo 1.0.0\n");
    chmodSync(join(dir, "version.sh"), 0o000);
    const locked = await runCli(["version-check", "--only", "host", dir], { user: "nobody", env: { HOME: "/tmp" } });
    expect(locked.exitCode).toBe(2);
    expect(locked.stderr.trim()).toBe(
      `[error] bad agent path: ${dir}/version.sh: not readable (check its permissions)`,
    );

    chmodSync(join(dir, "version.sh"), 0o644);
    const unwritable = await runCli(["version-check", "--only", "host", dir], {
      user: "nobody",
      env: { HOME: "/tmp", AICAGE_UTIL_STATE_DIR: "/root/aicage-state" },
    });
    expect(unwritable.exitCode).toBe(0);
    expect(unwritable.stdout).toMatch(/^locked +1\.0\.0 +host /m);
    expect(unwritable.stderr).toContain("[warn] locked: could not record the version (EACCES");
  });

  test("bad flag values are usage errors, exit 2", async () => {
    for (const [args, message] of [
      [["--order", "image,cloud"], "--order must be image,host or host,image"],
      [["--timeout", "soon"], "--timeout takes a whole number from 1 to 86400, not 'soon'"],
      [["--env", "NOT-A-NAME"], "--env takes a variable name"],
      [["--only", "moon"], "--only takes image or host"],
    ] as const) {
      const run = await runCli(["version-check", ...args, `${EDGE}/multi-line`]);
      expect(run.exitCode).toBe(2);
      expect(run.stderr).toContain(message);
    }
  });

  test("Ctrl-C while a check runs in a container: exit 130 and the container is removed", async () => {
    const before = new Set(await managedContainers(client));
    const proc = Bun.spawn(
      [BUN, `${REPO_ROOT}/src/cli.ts`, "version-check", "--timeout", "120", `${EDGE}/hangs-in-image`],
      {
        env: { ...process.env, ...CLI_TEST_ENV },
        stdout: "pipe",
        stderr: "pipe",
      },
    );
    let started: string[] = [];
    for (let i = 0; i < 100 && started.length === 0; i++) {
      await Bun.sleep(100);
      started = (await managedContainers(client)).filter((id) => !before.has(id));
    }
    expect(started).toHaveLength(1);
    proc.kill("SIGINT");
    expect(await proc.exited).toBe(130);
    expect((await managedContainers(client)).filter((id) => !before.has(id))).toEqual([]);
    expect(await findImage(client, BASE_IMAGE)).toBeDefined();
  });
});
