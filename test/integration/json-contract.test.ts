// The JSON contract: every --json output validates against its schema in schemas/, taken
// from real CLI runs against the real engine (upgrade's output is checked in
// upgrade.test.ts, against real release binaries). Every command with --json has a schema.
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describeCommand, type CommandSpec } from "../../src/cli/command-tree.ts";
import { root } from "../../src/commands/root/command.ts";
import { BASE_IMAGE, fixtureBuild, runCli, tempDir, testClient } from "../helpers/engine.ts";
import { schemaNames, validateJson } from "../helpers/json-schema.ts";
import { engineSuite } from "../helpers/suite.ts";

const client = testClient();
const RUN = `${process.pid}-${Date.now().toString(36)}`;
// The images its builds make are removed after; nothing may be left (containers, images, files).
const made = engineSuite([], client).madeImages;

/** Runs a command with --json; answers its exit code and the parsed object on stdout. */
async function json(args: string[], env: Record<string, string> = {}) {
  const { exitCode, stdout, stderr } = await runCli([...args, "--json"], { env });
  let value: any;
  try {
    value = JSON.parse(stdout);
  } catch {
    throw new Error(`${args.join(" ")} --json printed no JSON (exit ${exitCode}):\n${stdout}\n${stderr}`);
  }
  return { exitCode, value, stderr };
}

function agent(body: string): string {
  const dir = join(tempDir("aicage-contract-"), "contract-agent");
  mkdirSync(dir, { mode: 0o755 });
  writeFileSync(join(dir, "version.sh"), body, { mode: 0o644 });
  return dir;
}

describe("schemas", () => {
  test("every command that takes --json has a schema, and every schema belongs to one (or is the error object, or a progress event)", async () => {
    const tree = await describeCommand(root, ["aicage-util"]);
    const withJson: string[] = [];
    const walk = (node: CommandSpec) => {
      if (node.flags.some((f) => f.name === "json")) withJson.push(node.path.slice(1).join("-"));
      node.subcommands.forEach(walk);
    };
    walk(tree);
    // progress-event: the lines of --progress json before its last (json-progress.test.ts);
    // version: `--version --json`, an option of the root and no command.
    expect(schemaNames()).toEqual([...withJson, "error", "progress-event", "version"].sort());
  });

  test("--version --json (and -v, the flags in any order): the version as an object, exit 0", async () => {
    for (const args of [
      ["--version", "--json"],
      ["--json", "-v"],
    ]) {
      const run = await runCli(args);
      expect([run.exitCode, run.stderr]).toEqual([0, ""]);
      const value = JSON.parse(run.stdout);
      validateJson("version", value);
      expect(value).toEqual({ schemaVersion: 1, name: "aicage-util", version: expect.any(String), revision: "dev" });
      expect((await runCli(["--version"])).stdout).toBe(`aicage-util ${value.version} (${value.revision})\n`);
    }
  });

  test("the schemas refuse what the contract does not allow", () => {
    const error = { schemaVersion: 1, error: { kind: "usage", exitCode: 2, message: "bad flag" } };
    validateJson("error", error);
    expect(() => validateJson("error", { ...error, schemaVersion: 2 })).toThrow("schemaVersion");
    expect(() => validateJson("error", { error: error.error })).toThrow("schemaVersion");
    expect(() => validateJson("error", { ...error, extra: true })).toThrow("additional");
    expect(() => validateJson("error", { ...error, error: { ...error.error, kind: "oops" } })).toThrow("kind");
    // A failed build's fields: the step may be unknown, the others have their types.
    const build = {
      ...error.error,
      kind: "failed",
      exitCode: 1,
      step: null,
      logFile: "/b.log",
      lastLines: ["#3 ERROR: x"],
    };
    validateJson("error", { ...error, error: build });
    expect(() => validateJson("error", { ...error, error: { ...build, lastLines: "#3 ERROR: x" } })).toThrow(
      "lastLines",
    );
    expect(() => validateJson("error", { ...error, error: { ...build, logFile: null } })).toThrow("logFile");
    expect(() => validateJson("error", { ...error, error: { ...build, step: 3 } })).toThrow("step");
  });
});

describe("real outputs", () => {
  test("doctor: an engine that answers, and one that does not (exit 3, still the report)", async () => {
    const up = await json(["doctor"]);
    expect(up.exitCode).toBe(0);
    validateJson("doctor", up.value);
    expect(up.value.images.length).toBeGreaterThan(0);
    const down = await json(["doctor", "--host", "unix:///nonexistent/docker.sock"]);
    expect(down.exitCode).toBe(3);
    validateJson("doctor", down.value);
    expect(down.value.engine.error.kind).toBe("unreachable");
  });

  test("images build, ls, rm; pull that cannot reach its registry", async () => {
    const tag = `aicage-util-test/contract-vc:${RUN}`;
    made.push(tag);
    const env = { AICAGE_UTIL_BASE_IMAGE: BASE_IMAGE };
    const built = await json(
      ["images", "build", "version-check", "--version-check-image", tag, "--network", "host"],
      env,
    );
    expect(built.exitCode).toBe(0);
    validateJson("images-build", built.value);

    const listed = await json(["images", "ls", "--version-check-image", tag]);
    expect(listed.exitCode).toBe(0);
    validateJson("images-ls", listed.value);
    expect(listed.value.images.some((i: { name: string; present: boolean }) => i.name === tag && i.present)).toBe(true);

    // Nothing answers on port 1: the pull fails at once, and the output says so per kind.
    const pulled = await json(["images", "pull", "builder", "--repository", "127.0.0.1:1/nothing"]);
    expect(pulled.exitCode).toBe(1);
    validateJson("images-pull", pulled.value);
    expect(pulled.value.images[0].ok).toBe(false);

    const removed = await json(["images", "rm", "version-check", "--version-check-image", tag]);
    expect(removed.exitCode).toBe(0);
    validateJson("images-rm", removed.value);
    expect(removed.value.removed).toContain(tag);
  }, 600_000);

  test("version-check: in the image, on the host, a failure, --compare", async () => {
    const good = agent("echo 4.5.6\n");
    const bad = agent("echo 'no route to host' >&2\nexit 7\n");
    const image = await json(["version-check", good, "--only", "image"]);
    expect(image.exitCode).toBe(0);
    validateJson("version-check", image.value);
    expect(image.value.results[0]).toMatchObject({ version: "4.5.6", source: "image" });
    const failed = await json(["version-check", bad, "--only", "host", "--no-cache-fallback"]);
    expect(failed.exitCode).toBe(1);
    validateJson("version-check", failed.value);
    expect(failed.value.results[0]).toMatchObject({ ok: false, source: null });
    const compared = await json(["version-check", good, "--compare"]);
    expect(compared.exitCode).toBe(0);
    validateJson("version-check", compared.value);
    expect(compared.value.results[0].compare).toEqual({ image: "4.5.6", host: "4.5.6", match: true });
  }, 300_000);

  test("build: built, skipped by --if-changed (logFile null), and a failure as the error object", async () => {
    const tag = `aicage-util-test/contract-build:${RUN}`;
    made.push(tag);
    const args = fixtureBuild("tiny", tag);
    const built = await json(args);
    expect(built.exitCode).toBe(0);
    validateJson("build", built.value);
    const skipped = await json([...args, "--if-changed"]);
    expect(skipped.value).toMatchObject({ skipped: true, logFile: null });
    validateJson("build", skipped.value);

    const failTag = `aicage-util-test/contract-fail:${RUN}`;
    const failed = await json(fixtureBuild("failing", failTag));
    expect(failed.exitCode).toBe(1);
    validateJson("error", failed.value);
    expect(failed.value.error.kind).toBe("failed");
    // A failed build's own fields are there, not only allowed.
    expect(failed.value.error).toEqual({
      kind: "failed",
      exitCode: 1,
      message: expect.stringContaining("about to fail"),
      step: expect.stringMatching(/^\[3\/\d+\] RUN /),
      logFile: expect.stringMatching(/\.log$/),
      lastLines: expect.arrayContaining([expect.stringContaining("about to fail")]),
    });
  }, 300_000);

  test("the error object: a usage error, an unreachable engine", async () => {
    const usage = await json(["build", "/nonexistent/context", "-t", "x:1"]);
    expect(usage.exitCode).toBe(2);
    validateJson("error", usage.value);
    expect(usage.value.error.kind).toBe("usage");
    const unreachable = await json(["images", "ls", "--host", "unix:///nonexistent/docker.sock"]);
    expect(unreachable.exitCode).toBe(3);
    validateJson("error", unreachable.value);
    expect(unreachable.value.error.kind).toBe("engine-unreachable");
  });
});
