// The product as users get it: the compiled binary for this machine, run from a folder
// that is not this repository, and the same source under Deno.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";

import { join } from "node:path";
import { assetName, hostTarget } from "../../scripts/release.ts";
import { BUN, CLI_TEST_ENV, REPO_ROOT, leakWatch, tempDir } from "../helpers/engine.ts";

const EDGE = `${REPO_ROOT}/test/fixtures/agents-edge`;
const EXAMPLE = `${REPO_ROOT}/examples/agents/pinned-agent`;
const DENO = `${REPO_ROOT}/node_modules/.bin/deno`;
let outside = "";
let binary = "";
let watch: Awaited<ReturnType<typeof leakWatch>>;

function exec(argv: string[], cwd: string, env: Record<string, string> = {}) {
  const proc = Bun.spawnSync(argv, {
    cwd,
    env: { ...process.env, ...CLI_TEST_ENV, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  return { exitCode: proc.exitCode, stdout: proc.stdout.toString(), stderr: proc.stderr.toString() };
}

beforeAll(() => {
  watch = undefined as never;
  outside = tempDir("aicage-dist-");
  const target = hostTarget();
  if (!target) throw new Error(`no release target for ${process.platform}-${process.arch}`);
  const built = exec(
    [BUN, `${REPO_ROOT}/scripts/release.ts`, "--targets", "host", "--out", outside, "--version", "0.1.0-test"],
    REPO_ROOT,
  );
  if (built.exitCode !== 0) throw new Error(`release build failed: ${built.stderr}`);
  binary = join(outside, assetName(target));
}, 300_000);

beforeAll(async () => {
  watch = await leakWatch();
});

afterAll(async () => {
  expect(await watch.leaked()).toEqual([]);
});

describe("the compiled release binary, outside the repository", () => {
  test("--version names the release version and the git revision", () => {
    const run = exec([binary, "--version"], outside);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/^aicage-util 0\.1\.0-test \([0-9a-f]{7,}(-dirty)?\)\n$/);
  });

  test("doctor reports a reachable engine", () => {
    const run = exec([binary, "doctor", "--json"], outside);
    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.stdout).engine.reachable).toBe(true);
  });

  test("images ls lists both kinds for its own version", () => {
    const run = exec([binary, "images", "ls", "--json"], outside);
    expect(run.exitCode).toBe(0);
    const expected = JSON.parse(run.stdout).images.filter((r: any) => r.expected);
    expect(expected.map((r: any) => r.name)).toEqual([
      "ghcr.io/aicage/aicage-image-util:version-check-0.1.0-test",
      "ghcr.io/aicage/aicage-image-util:builder-0.1.0-test",
    ]);
  });

  test("a version check runs in the image (built for this version if needed) and falls back to the host", () => {
    const run = exec([binary, "version-check", "--json", EXAMPLE, `${EDGE}/fails-in-image`], outside);
    expect(run.exitCode).toBe(0);
    const results = JSON.parse(run.stdout).results;
    expect(results.map((r: any) => [r.agent, r.version, r.source])).toEqual([
      ["pinned-agent", "3.2.1", "image"],
      ["fails-in-image", "2.0.0", "host"],
    ]);
  }, 600_000);

  afterAll(() => {
    // The version check above built this version's image: remove it again.
    exec([binary, "images", "rm", "--json"], outside);
  });
});

describe("a release binary with image digests", () => {
  test("asks for its util images by the digests it was released with", () => {
    const dir = tempDir("aicage-digests-");
    const digests = { "version-check": `sha256:${"a".repeat(64)}`, builder: `sha256:${"b".repeat(64)}` };
    writeFileSync(join(dir, "digests.json"), JSON.stringify(digests));
    const built = exec(
      [
        BUN,
        `${REPO_ROOT}/scripts/release.ts`,
        "--targets",
        "host",
        "--out",
        dir,
        "--version",
        "0.1.0-test",
        "--digests-file",
        join(dir, "digests.json"),
      ],
      REPO_ROOT,
    );
    expect(built.exitCode).toBe(0);
    const run = exec([join(dir, assetName(hostTarget()!)), "images", "ls", "--json"], outside);
    const names = JSON.parse(run.stdout)
      .images.filter((r: any) => r.expected)
      .map((r: any) => r.name);
    expect(names).toEqual([
      `ghcr.io/aicage/aicage-image-util@${digests["version-check"]}`,
      `ghcr.io/aicage/aicage-image-util@${digests.builder}`,
    ]);
  }, 300_000);
});

describe("the source under Deno", () => {
  test("deno run -A src/cli.ts doctor reaches the engine over the unix socket", () => {
    const run = exec([DENO, "run", "-A", "src/cli.ts", "doctor", "--json"], REPO_ROOT);
    expect(run.exitCode).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.tool.runtime).toBe("deno");
    expect(report.engine.reachable).toBe(true);
  });

  test("a version check under Deno: image first, then host", () => {
    const run = exec(
      [DENO, "run", "-A", "src/cli.ts", "version-check", "--json", EXAMPLE, `${EDGE}/fails-in-image`, `${EDGE}/crlf`],
      REPO_ROOT,
    );
    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.stdout).results.map((r: any) => [r.version, r.source])).toEqual([
      ["3.2.1", "image"],
      ["2.0.0", "host"],
      ["6.0.2", "image"],
    ]);
  }, 600_000);

  test("under Deno an unreachable engine is exit 3 with the one-line error", () => {
    const run = exec([DENO, "run", "-A", "src/cli.ts", "doctor"], REPO_ROOT, {
      DOCKER_HOST: "unix:///tmp/aicage-deno-none.sock",
    });
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toContain(
      "Docker engine unreachable at /tmp/aicage-deno-none.sock (DOCKER_HOST): the socket does not exist.",
    );
  });
});
