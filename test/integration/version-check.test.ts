import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findImage } from "../../src/docker/images.ts";
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

async function check(args: string[], env: Record<string, string> = {}, dropEnv?: (name: string) => boolean) {
  const run = await runCli(["version-check", "--json", "--network", "host", ...args], {
    env: { AICAGE_TEST_UPSTREAM: upstream.url, ...env },
    dropEnv,
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

describe("what changed since the last check (issue 20)", () => {
  /** An agent whose answer is the content of version.txt in its folder. */
  function movingAgent(root: string, name: string, version: string): string {
    const dir = writeAgent(root, name, 'cat "$(dirname "$0")/version.txt"\n');
    writeFileSync(join(dir, "version.txt"), `${version}\n`);
    return dir;
  }
  const summary = (results: any[]) => results.map((r) => [r.agent, r.version, r.previousVersion, r.changed]);

  test("--agents DIR in the image: 1.0.0 then 1.1.0 is changed, --exit-code 100; unchanged runs exit 0", async () => {
    const root = agentsDir();
    const moving = movingAgent(root, "moving", "1.0.0");
    writeAgent(root, "steady", "echo 2.0.0\n");
    const env = { AICAGE_UTIL_STATE_DIR: tempDir("aicage-state-") };
    const args = ["--agents", root, "--exit-code"];
    const first = await check(args, env);
    expect(first.exitCode).toBe(0);
    expect(summary(first.results)).toEqual([
      ["moving", "1.0.0", null, false],
      ["steady", "2.0.0", null, false],
    ]);
    expect(first.results.every((r) => r.source === "image")).toBe(true);
    writeFileSync(join(moving, "version.txt"), "1.1.0\n");
    const second = await check(args, env);
    expect(second.exitCode).toBe(100);
    expect(second.stderr).toBe("");
    expect(summary(second.results)).toEqual([
      ["moving", "1.1.0", "1.0.0", true],
      ["steady", "2.0.0", "2.0.0", false],
    ]);
    const third = await check(args, env);
    expect(third.exitCode).toBe(0);
    expect(summary(third.results)).toEqual([
      ["moving", "1.1.0", "1.1.0", false],
      ["steady", "2.0.0", "2.0.0", false],
    ]);
    // The table marks a change; without --exit-code a change is no failure.
    writeFileSync(join(moving, "version.txt"), "1.2.0\n");
    const marked = await runCli(["version-check", "--network", "host", "--agents", root], { env });
    expect(marked.exitCode).toBe(0);
    expect(marked.stdout).toMatch(/^moving +1\.2\.0 \(was 1\.1\.0\) +image /m);
    expect(marked.stdout).toMatch(/^steady +2\.0\.0 +image /m);
  });

  test("--only host: a stale answer is never changed and never overwrites the record; a failure's exit 1 wins over 100", async () => {
    const root = agentsDir();
    const dir = writeAgent(
      root,
      "flaky",
      'if [ -f "$(dirname "$0")/offline" ]; then echo offline >&2; exit 6; fi\ncat "$(dirname "$0")/version.txt"\n',
    );
    writeFileSync(join(dir, "version.txt"), "1.0.0\n");
    const other = movingAgent(root, "other", "3.0.0");
    const env = { AICAGE_UTIL_STATE_DIR: tempDir("aicage-state-") };
    const args = ["--only", "host", "--exit-code", dir, other];
    expect((await check(args, env)).exitCode).toBe(0);
    writeFileSync(join(dir, "offline"), "");
    const stale = await check(args, env);
    expect(stale.exitCode).toBe(0);
    expect(stale.results[0]).toMatchObject({
      source: "cache",
      stale: true,
      version: "1.0.0",
      previousVersion: "1.0.0",
      changed: false,
    });
    // A change elsewhere, and a failure: the failure's code wins.
    writeFileSync(join(other, "version.txt"), "3.1.0\n");
    const failed = await check([...args.slice(0, 3), "--no-cache-fallback", dir, other], env);
    expect(failed.exitCode).toBe(1);
    expect(summary(failed.results)).toEqual([
      ["flaky", null, "1.0.0", false],
      ["other", "3.1.0", "3.0.0", true],
    ]);
    // Back online with a new version: compared with the last real answer, not the stale one.
    rmSync(join(dir, "offline"));
    writeFileSync(join(dir, "version.txt"), "1.1.0\n");
    const back = await check(args, env);
    expect(back.exitCode).toBe(100);
    expect(summary(back.results)).toEqual([
      ["flaky", "1.1.0", "1.0.0", true],
      ["other", "3.1.0", "3.1.0", false],
    ]);
  });

  test("--compare: a version both places agree on is recorded and compared; a difference exits 1", async () => {
    const root = agentsDir();
    const dir = movingAgent(root, "both", "1.0.0");
    const env = { AICAGE_UTIL_STATE_DIR: tempDir("aicage-state-") };
    const first = await check(["--compare", "--exit-code", dir], env);
    expect(first.exitCode).toBe(0);
    expect(first.results[0]).toMatchObject({ version: "1.0.0", previousVersion: null, changed: false });
    writeFileSync(join(dir, "version.txt"), "1.1.0\n");
    const second = await check(["--compare", "--exit-code", dir], env);
    expect(second.exitCode).toBe(100);
    expect(second.results[0]).toMatchObject({ version: "1.1.0", previousVersion: "1.0.0", changed: true });
    const differs = await check(["--compare", "--exit-code", dir, `${EDGE}/fails-in-image`], env);
    expect(differs.exitCode).toBe(1);
    expect(differs.results[0]).toMatchObject({ previousVersion: "1.1.0", changed: false });
  });
});

/** aicage's goose check, against the loopback API (GITHUB_API_URL) rather than api.github.com. */
const GOOSE_STYLE = `#!/usr/bin/env bash
set -euo pipefail
curl_args=(-fsSL --retry 1 --retry-all-errors --retry-delay 1 --max-time 20 -H "Accept: application/vnd.github+json")
if [[ -n "\${GITHUB_TOKEN:-}" ]]; then
  curl_args+=(-H "Authorization: Bearer \${GITHUB_TOKEN}")
fi
url="\${GITHUB_API_URL:-https://api.github.com}/repos/fixture/agent/releases/latest"
echo "Fetching release from $url" >&2
curl "\${curl_args[@]}" "$url" | jq -r '.name | ltrimstr("v")'
`;

describe("GitHub tokens and rate limits (issue 20)", () => {
  const TOKEN = "ghp_issue20_never_shown_0123456789abcdef";
  const noTokens = (name: string) => name === "GITHUB_TOKEN" || name === "GH_TOKEN";
  let goose: string;
  let apiEnv: Record<string, string>;
  const limitedRequests = () => upstream.requests.filter((r) => r.path.startsWith("/github-limited/"));

  beforeAll(() => {
    goose = writeAgent(agentsDir(), "goose", GOOSE_STYLE);
    apiEnv = { GITHUB_API_URL: `${upstream.url}/github-limited` };
  });

  test("the host's GITHUB_TOKEN reaches the image attempt without --env, and no output or record holds it", async () => {
    const state = tempDir("aicage-state-");
    const before = limitedRequests().length;
    const run = await check(["--only", "image", "--env", "GITHUB_API_URL", goose], {
      ...apiEnv,
      GITHUB_TOKEN: TOKEN,
      AICAGE_UTIL_STATE_DIR: state,
    });
    expect(run.exitCode).toBe(0);
    expect(run.results[0]).toMatchObject({ ok: true, source: "image", version: UPSTREAM_VERSIONS.github });
    expect(
      limitedRequests()
        .slice(before)
        .map((r) => r.authorization),
    ).toEqual([`Bearer ${TOKEN}`]);
    const verbose = await runCli(
      ["version-check", "--verbose", "--progress", "plain", "--network", "host", "--env", "GITHUB_API_URL", goose],
      { env: { ...apiEnv, GITHUB_TOKEN: TOKEN, AICAGE_UTIL_STATE_DIR: state } },
    );
    expect(verbose.exitCode).toBe(0);
    expect(verbose.stderr).toContain("GITHUB_TOKEN");
    const records = readdirSync(join(state, "version-checks")).map((f) =>
      readFileSync(join(state, "version-checks", f), "utf8"),
    );
    for (const text of [run.stdout, run.stderr, verbose.stdout, verbose.stderr, ...records])
      expect(text).not.toContain(TOKEN);
  });

  test("GH_TOKEN reaches it too; --no-github-token and AICAGE_UTIL_GITHUB_TOKEN=0 keep both home", async () => {
    const dir = writeAgent(agentsDir(), "token-lengths", 'echo "gh=${#GITHUB_TOKEN} gh2=${#GH_TOKEN}"\n');
    const env = { GITHUB_TOKEN: TOKEN, GH_TOKEN: "gho_second_token" };
    const on = await check(["--only", "image", dir], env);
    expect(on.results[0].version).toBe(`gh=${TOKEN.length} gh2=16`);
    for (const [flags, extra] of [
      [["--no-github-token"], {}],
      [[], { AICAGE_UTIL_GITHUB_TOKEN: "0" }],
    ] as const) {
      const off = await check(["--only", "image", ...flags, dir], {
        ...env,
        ...extra,
        AICAGE_UTIL_STATE_DIR: tempDir("aicage-state-"),
      });
      expect(off.results[0].version).toBe("gh=0 gh2=0");
    }
    // --env still names one when the default is off.
    const named = await check(["--only", "image", "--no-github-token", "--env", "GH_TOKEN", dir], env);
    expect(named.results[0].version).toBe("gh=0 gh2=16");
  });

  test("a limited answer without a token is named as GitHub's rate limit with its fix, in the image and on the host", async () => {
    const args = ["--no-cache-fallback", "--env", "GITHUB_API_URL", goose];
    const run = await check(args, { ...apiEnv, AICAGE_UTIL_STATE_DIR: tempDir("aicage-state-") }, noTokens);
    expect(run.exitCode).toBe(1);
    expect(run.results[0]).toMatchObject({ ok: false, source: null });
    expect(run.results[0].attempts.map((a: any) => [a.source, a.exitCode])).toEqual([
      ["image", 22],
      ["host", 22],
    ]);
    for (const attempt of run.results[0].attempts)
      expect(attempt.error).toEndWith("(GitHub API rate limit reached: set GITHUB_TOKEN)");
    expect(run.stderr.trim().split("\n").at(-1)).toBe(
      "[error] 1 of 1 version check failed; GitHub API rate limit reached: set GITHUB_TOKEN",
    );
    const table = await runCli(["version-check", "--network", "host", ...args], {
      env: { ...apiEnv, AICAGE_TEST_UPSTREAM: upstream.url },
      dropEnv: noTokens,
    });
    expect(table.stdout).toMatch(/^goose +- +- +\S+ +host: exit 22: GitHub API rate limit reached: set GITHUB_TOKEN$/m);
  });

  test("switched off, the image attempt is limited and says how to forward the token; the host, with it, answers", async () => {
    const run = await check(["--no-github-token", "--env", "GITHUB_API_URL", goose], {
      ...apiEnv,
      GITHUB_TOKEN: TOKEN,
      AICAGE_UTIL_STATE_DIR: tempDir("aicage-state-"),
    });
    expect(run.exitCode).toBe(0);
    expect(run.results[0]).toMatchObject({ ok: true, source: "host", version: UPSTREAM_VERSIONS.github });
    expect(run.results[0].attempts[0].error).toEndWith(
      "(GitHub API rate limit reached: forward the host's token (drop --no-github-token))",
    );
    expect(run.stdout + run.stderr).not.toContain(TOKEN);
  });
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
