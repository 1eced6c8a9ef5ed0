// `aicage-util build` against the real engine: the fixtures in test/fixtures/builds built
// both ways (--via builder and --via api), the results run and inspected, and the failure,
// Ctrl-C, concurrency, --if-changed and fallback paths.
import { describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { tarOfFiles } from "../../src/lib/memory-tar.ts";
import { toolVersion } from "../../src/core/tool-info.ts";
import { findImage, inspectImage, tagImage } from "../../src/docker/images.ts";
import { runContainer } from "../../src/workloads/run-container.ts";
import {
  BUILDER_IMAGE_LABEL,
  CONTEXT_HASH_LABEL,
  MANAGED_LABEL,
  TOOL_VERSION_LABEL,
  managedLabels,
} from "../../src/core/labels.ts";
import {
  BASE_IMAGE,
  BUN,
  CLI_TEST_ENV,
  PODMAN,
  REPO_ROOT,
  TCP_HOST,
  plainTags,
  runCli,
  tempDir,
  testClient,
} from "../helpers/engine.ts";
import { engineSuite } from "../helpers/suite.ts";

const client = testClient();
const FIXTURES = join(REPO_ROOT, "test", "fixtures", "builds");
/** Unique per run, so runs on one engine never share a tag. */
const RUN = `${process.pid}-${Date.now().toString(36)}`;
const WAYS = ["builder", "api"] as const;
/** Podman's one notice for --via builder: buildx cannot build into it, the API (buildah) does. */
const PODMAN_FALLBACK =
  /^\[warn\] Podman \S+ cannot build with buildx in the builder image; building through the Engine API instead \(--via api\), with buildah, not BuildKit: BuildKit-only Dockerfile features may not work$/;
/** Test names say where Podman takes another way than the one named. */
const onPodman = (what: string) => (PODMAN ? ` (on Podman: ${what})` : "");
const FROM_BASE = ["--build-arg", `FROM_IMAGE=${BASE_IMAGE}`];

const tag = (name: string, suffix = "") => `aicage-util-test/build-${name}:${RUN}${suffix}`;
/** Image IDs the tests made, in order, removed newest first at the end. */
// The builder image, as the CLI will find it; the images the tests make are removed after.
const suite = engineSuite(["builder"], client);
const madeImages = suite.madeImages;

interface BuildJson {
  tag: string;
  tags: string[];
  imageId: string;
  skipped: boolean;
  via: string;
  logFile: string | null;
  durationMs: number;
}

/** Runs `aicage-util build --json ARGS`, which must succeed; remembers the image for cleanup. */
async function build(args: string[], env: Record<string, string> = {}) {
  const result = await runCli(["build", "--json", ...args], { env });
  if (result.exitCode !== 0) throw new Error(`build exited ${result.exitCode}:\n${result.stderr}\n${result.stdout}`);
  const json = JSON.parse(result.stdout) as BuildJson;
  madeImages.push(json.imageId);
  return { ...result, json };
}

/** Runs a shell script in an image, without network; answers its stdout. */
async function runIn(image: string, script?: string): Promise<string> {
  const result = await runContainer(
    client,
    {
      Image: image,
      ...(script ? { Cmd: ["sh", "-c", script] } : {}),
      Labels: managedLabels(),
      HostConfig: { NetworkMode: "none" },
    },
    { timeoutMs: 60_000 },
  );
  if (result.exitCode !== 0) throw new Error(`container exited ${result.exitCode}: ${result.stderr}`);
  return result.stdout;
}

function tempCopy(fixture: string): string {
  const dir = tempDir(`aicage-build-${fixture}-`);
  cpSync(join(FIXTURES, fixture), dir, { recursive: true });
  return dir;
}

/** Our labels minus the one that says which way built the image. */
function sharedLabels(labels: Record<string, string>): Record<string, string> {
  const { [BUILDER_IMAGE_LABEL]: _, ...rest } = labels;
  return rest;
}

const baseTags = [tag("base"), tag("base", "-also")];

describe("fixtures, built both ways", () => {
  const baseArgs = [
    join(FIXTURES, "base"),
    "-t",
    baseTags[0]!,
    "--tag",
    baseTags[1]!,
    "--network",
    "host",
    ...FROM_BASE,
    "--build-arg",
    "BASE_FLAVOUR=fixture",
    "--label",
    "org.example.owner=tests",
  ];

  test(`custom base image: same tags and labels both ways; package, files, bind-mount step, .dockerignore with !${onPodman("--via builder goes through the API, with one notice")}`, async () => {
    const labelsByWay: Record<string, Record<string, string>> = {};
    for (const way of WAYS) {
      const { json, stderr } = await build([...baseArgs, "--via", way]);
      // Podman cannot build with buildx in the builder image: that way goes through the API there.
      expect(json).toMatchObject({ tag: baseTags[0], tags: baseTags, skipped: false, via: PODMAN ? "api" : way });
      expect(json.imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(json.durationMs).toBeGreaterThan(0);
      // --json: quiet on success, but for the warnings that Podman builds differently.
      // One notice on Podman: the way it goes instead and its builder, or (asked for the API) the builder.
      const podmanNotice =
        way === "builder" ? PODMAN_FALLBACK : /^\[warn\] this engine builds with buildah \(Podman\), not BuildKit/;
      expect(stderr.split("\n").filter(Boolean)).toEqual(PODMAN ? [expect.stringMatching(podmanNotice)] : []);
      expect(readFileSync(json.logFile!, "utf8")).toContain(`# via: ${PODMAN ? "api" : way}`);

      const image = await inspectImage(client, json.imageId);
      expect(plainTags(image.RepoTags)).toEqual(expect.arrayContaining(baseTags));
      const labels = image.Config!.Labels!;
      expect(labels).toMatchObject({
        "org.example.fixture": "base",
        "org.example.owner": "tests",
        [MANAGED_LABEL]: "true",
        [TOOL_VERSION_LABEL]: toolVersion,
        [BUILDER_IMAGE_LABEL]: way === "builder" && !PODMAN ? suite.utilImageIds.builder : "api",
      });
      expect(labels[CONTEXT_HASH_LABEL]).toMatch(/^sha256:[0-9a-f]{64}$/);
      labelsByWay[way] = labels;

      const script = [
        "cat /opt/base/flavour /opt/base/setup.txt",
        "(cd /opt/base/files && find . -type f | sort)",
        "command -v tree",
        "test -e /mnt/setup/install.sh && echo setup-kept || echo setup-not-kept",
      ].join("; ");
      expect(await runIn(json.imageId, script)).toBe(
        [
          "fixture",
          "installed from setup",
          "./hello.txt",
          "./private/keep.txt",
          "/usr/bin/tree",
          "setup-not-kept",
          "",
        ].join("\n"),
      );
    }
    expect(sharedLabels(labelsByWay.api!)).toEqual(sharedLabels(labelsByWay.builder!));
  }, 300_000);

  test(`extension on the base: script, ENV, build arg; proxy variables reach RUN steps but are not printed or hashed${onPodman("both ways build through the API")}`, async () => {
    const extTag = tag("extension");
    const proxies = { HTTP_PROXY: "http://proxy.invalid:3128", no_proxy: ".example.invalid" };
    const args = [
      join(FIXTURES, "extension"),
      "-t",
      extTag,
      "--network",
      "none",
      "--build-arg",
      `BASE_IMAGE=${baseTags[0]}`,
      "--build-arg",
      "EXT_GREETING=hi",
    ];
    const hashes = new Set<string>();
    for (const way of WAYS) {
      const { json, stdout, stderr } = await build([...args, "--via", way], proxies);
      const image = await inspectImage(client, json.imageId);
      expect(plainTags(image.RepoTags)).toContain(extTag);
      expect(image.Config!.Env).toContain("EXT_NAME=fixture-extension");
      expect(image.Config!.Env!.some((e) => /proxy/i.test(e))).toBe(false);
      hashes.add(image.Config!.Labels![CONTEXT_HASH_LABEL]!);
      // Built on the base: its label and file are inherited.
      expect(image.Config!.Labels!["org.example.fixture"]).toBe("base");

      const out = await runIn(json.imageId, "ext-hello; cat /opt/ext-proxy /opt/base/flavour");
      expect(out).toBe("fixture-extension says hi\nhttp://proxy.invalid:3128 .example.invalid\nfixture\n");
      for (const text of [stdout, stderr, readFileSync(json.logFile!, "utf8")])
        expect(text).not.toContain("proxy.invalid");
      expect(readFileSync(json.logFile!, "utf8")).toContain("# proxy variables passed on: HTTP_PROXY no_proxy");
    }
    expect(hashes.size).toBe(1);
    // The proxies are not inputs: without them the image counts as up to date.
    const again = await build([...args, "--if-changed"]);
    expect(again.json.skipped).toBe(true);
  }, 120_000);

  test(`agent from a tarball context, Dockerfile outside the context: unpacked into /opt, entry command, build arg${onPodman("both ways build through the API, one context hash")}`, async () => {
    const context = tempDir("aicage-build-agent-");
    writeFileSync(join(context, "agent.tar.gz"), await agentTarball());
    const agentTag = tag("agent");
    const hashes = new Set<string>();
    for (const way of WAYS) {
      const { json } = await build([
        context,
        "-f",
        join(FIXTURES, "agent", "Dockerfile"),
        "-t",
        agentTag,
        "--network",
        "none",
        "--build-arg",
        `BASE_IMAGE=${baseTags[0]}`,
        "--build-arg",
        "AGENT_VERSION=1.2.3",
        "--via",
        way,
      ]);
      const image = await inspectImage(client, json.imageId);
      expect(image.Config!.Labels!["org.example.agent-version"]).toBe("1.2.3");
      expect(image.Config!.Cmd).toEqual(["agent", "--hello"]);
      hashes.add(image.Config!.Labels![CONTEXT_HASH_LABEL]!);
      expect(await runIn(json.imageId)).toBe("agent 1.2.3 called with: --hello\n");
      expect(await runIn(json.imageId, "ls /opt/agent; test -e /opt/agent.tar.gz || echo no-tarball")).toBe(
        "VERSION\nbin\nno-tarball\n",
      );
    }
    // Through the API the Dockerfile travels in the context (`COPY .` would see it), buildx reads
    // it apart: the contexts differ, and so do the hashes (--if-changed never mixes them up).
    // (On Podman both ways are the API's: one context, one hash.)
    expect(hashes.size).toBe(PODMAN ? 1 : 2);
  }, 120_000);
});

describe("failures", () => {
  for (const way of WAYS) {
    test(`a failing RUN step (--via ${way}): exit 1, one line with the tag, step, exit code, the step's last output, the log path${way === "builder" ? onPodman("built through the API") : ""}`, async () => {
      const failTag = tag("failing", `-${way}`);
      const args = ["build", join(FIXTURES, "failing"), "-t", failTag, "--network", "none", ...FROM_BASE, "--via", way];
      const { exitCode, stderr, stdout } = await runCli(args);
      expect(exitCode).toBe(1);
      expect(stdout).toBe("");
      const last = stderr.trim().split("\n").at(-1)!;
      const match =
        /^\[error\] build of (\S+) failed at step \[3\/\d+\] RUN echo "about to fail" && exit 3 \(exit code 3\): (.*) \(log: (\S+)\)$/.exec(
          last,
        );
      expect(match).not.toBeNull();
      expect(match![1]).toBe(failTag);
      // The step's own output, not the builder's message repeating the command.
      expect(match![2]).toBe("about to fail");
      const log = readFileSync(match![3]!, "utf8");
      expect(log).toContain("about to fail");
      // buildah counts the LABEL steps the build's labels become: [3/8] there.
      expect(log).toMatch(/# failed at step \[3\/\d+\]/);
      // Plain output (not a terminal): the lines were shown as they came.
      expect(stderr).toContain("about to fail");
      expect(await findImage(client, failTag)).toBeUndefined();
    });
  }

  test("--json failure: the error object on stdout, the last lines on stderr", async () => {
    const args = [
      "build",
      join(FIXTURES, "failing"),
      "-t",
      tag("failing", "-json"),
      "--network",
      "none",
      ...FROM_BASE,
      "--via",
      "api",
      "--json",
    ];
    const { exitCode, stderr, stdout } = await runCli(args);
    expect(exitCode).toBe(1);
    const error = JSON.parse(stdout).error;
    expect(error).toMatchObject({ kind: "failed", exitCode: 1 });
    expect(error.message).toMatch(
      /failed at step \[3\/\d+\] RUN echo "about to fail" && exit 3 \(exit code 3\): about to fail \(log: /,
    );
    // What the line knows, as fields: the step whole, the log, its last lines as stderr shows them.
    expect(error.step).toMatch(/^\[3\/\d+\] RUN echo "about to fail" && exit 3$/);
    expect(error.message).toEndWith(`(log: ${error.logFile})`);
    expect(readFileSync(error.logFile, "utf8")).toContain("about to fail");
    expect(error.lastLines.length).toBeGreaterThan(0);
    expect(error.lastLines.some((line: string) => line.includes("about to fail"))).toBe(true);
    expect(stderr).toMatch(/^last \d+ lines of the build log:$/m);
    expect(stderr).toContain(error.lastLines.map((line: string) => `  ${line}`).join("\n"));
  });

  test("a long RUN step: the last line stays short, names the exit code and the step's last lines; the log has it all", async () => {
    const dir = tempDir("aicage-long-step-");
    const words = Array.from({ length: 60 }, (_, i) => `word${i}`).join(" ");
    writeFileSync(
      join(dir, "Dockerfile"),
      `ARG FROM_IMAGE\nFROM \${FROM_IMAGE}\nRUN echo "fetching the agent: ${words}" && \\\n    echo "curl: (6) Could not resolve host: github.com" >&2 && \\\n    exit 6\n`,
    );
    for (const way of WAYS) {
      const { exitCode, stderr } = await runCli([
        "build",
        dir,
        "-t",
        tag("long-step", `-${way}`),
        "--network",
        "none",
        ...FROM_BASE,
        "--via",
        way,
      ]);
      expect(exitCode).toBe(1);
      const last = stderr.trim().split("\n").at(-1)!;
      const [line, logFile] = last.split(" (log: ");
      expect(line!.length).toBeLessThan(400);
      expect(line).toMatch(
        /^\[error\] build of \S+ failed at step \[2\/\d+\] RUN echo "fetching the agent: word0 word1 .*… \(exit code 6\): /,
      );
      // The step's last lines (stdout and stderr come as the builder interleaves them).
      expect(line).toContain("curl: (6) Could not resolve host: github.com");
      // The command is not repeated in the line; the log has it whole.
      expect(line!.split("word59").length).toBe(1);
      expect(readFileSync(logFile!.replace(/\)$/, ""), "utf8")).toContain("word59");
    }
  });

  test("no default bridge and no --network: the error hints at --network host (Podman always has a default network: its RUN step runs)", async () => {
    const { exitCode, stderr } = await runCli([
      "build",
      join(FIXTURES, "failing"),
      "-t",
      tag("failing", "-bridge"),
      ...FROM_BASE,
      "--via",
      "api",
    ]);
    expect(exitCode).toBe(1);
    if (PODMAN) {
      expect(stderr).toContain("about to fail");
      expect(stderr).not.toContain("try --network host");
      return;
    }
    expect(stderr).toContain("network bridge not found; this engine has no default bridge network: try --network host");
  });
});

describe("Ctrl-C", () => {
  for (const way of WAYS) {
    test(`mid-build (--via ${way}): exit 130, no container left, no image${way === "builder" ? onPodman("built through the API") : ""}`, async () => {
      const slowTag = tag("slow", `-${way}`);
      const before = await allContainerIds();
      const proc = Bun.spawn(
        [
          BUN,
          join(REPO_ROOT, "src", "cli.ts"),
          "build",
          join(FIXTURES, "slow"),
          "-t",
          slowTag,
          "--network",
          "none",
          ...FROM_BASE,
          "--build-arg",
          `RUN_ID=${RUN}-${way}`,
          "--no-cache",
          "--via",
          way,
        ],
        { env: { ...process.env, ...CLI_TEST_ENV }, stdout: "pipe", stderr: "pipe", stdin: "ignore" },
      );
      const stderr = await readUntil(proc.stderr, `sleeping for ${RUN}-${way}`, 120_000);
      expect(stderr).toContain("sleeping for");
      proc.kill("SIGINT");
      expect(await proc.exited).toBe(130);
      expect(await allContainerIds()).toEqual(before);
      // Containers only here: images of the tests before wait for afterAll's removal.
      expect((await suite.leaked()).filter((line) => line.startsWith("container "))).toEqual([]);
      expect(await findImage(client, slowTag)).toBeUndefined();
    }, 180_000);
  }
});

describe("more than one build", () => {
  test("two builds at once both succeed, each with its own log", async () => {
    const context = join(FIXTURES, "tiny");
    const [one, two] = await Promise.all(
      ["one", "two"].map((name) =>
        build([context, "-t", tag("concurrent", `-${name}`), ...FROM_BASE, "--network", "none"]),
      ),
    );
    expect(one!.json.via).toBe(PODMAN ? "api" : "builder");
    expect(two!.json.via).toBe(PODMAN ? "api" : "builder");
    expect(one!.json.logFile).not.toBe(two!.json.logFile);
    expect((await inspectImage(client, tag("concurrent", "-one"))).Id).toBe(one!.json.imageId);
    expect((await inspectImage(client, tag("concurrent", "-two"))).Id).toBe(two!.json.imageId);
  }, 120_000);

  test("--if-changed skips unchanged inputs (either way, ignored files too) and rebuilds after a change", async () => {
    const context = tempCopy("tiny");
    mkdirSync(join(context, "scratch"));
    writeFileSync(join(context, "scratch", "notes.txt"), "one");
    writeFileSync(join(context, ".dockerignore"), "scratch/\n");
    const first = tag("if-changed");
    const args = [context, "-t", first, ...FROM_BASE, "--network", "none", "--if-changed"];

    const built = await build([...args, "--via", "api"]);
    expect(built.json.skipped).toBe(false);

    const skipped = await build([...args, "--via", "api"]);
    expect(skipped.json).toMatchObject({ skipped: true, imageId: built.json.imageId, logFile: null, via: "api" });

    // Changes that .dockerignore leaves out, and the other way of building, change nothing.
    writeFileSync(join(context, "scratch", "notes.txt"), "two");
    expect((await build([...args, "--via", "builder"])).json).toMatchObject({
      skipped: true,
      imageId: built.json.imageId,
    });

    writeFileSync(join(context, "note.txt"), "changed\n");
    const rebuilt = await build([...args, "--via", "api"]);
    expect(rebuilt.json.skipped).toBe(false);
    expect(rebuilt.json.imageId).not.toBe(built.json.imageId);
    expect(await runIn(rebuilt.json.imageId, "cat /note.txt")).toBe("changed\n");

    // A skip still points every tag asked for at the image.
    const second = tag("if-changed", "-second");
    const retagged = await build([...args, "-t", second]);
    expect(retagged.json).toMatchObject({ skipped: true, imageId: rebuilt.json.imageId, tags: [first, second] });
    expect((await inspectImage(client, second)).Id).toBe(rebuilt.json.imageId);

    // A different build argument is a different input.
    expect((await build([...args, "--build-arg", "EXTRA=1"])).json.skipped).toBe(false);
  }, 120_000);

  test("--if-changed rebuilds when a base image changed, and says which (issue 19: aicage rebuilds on a new base)", async () => {
    const base = tag("if-changed-base");
    madeImages.push(base);
    await tagImage(client, BASE_IMAGE, base);
    const built = tag("if-changed-on-base");
    const args = [
      "build",
      join(FIXTURES, "tiny"),
      "-t",
      built,
      "--build-arg",
      `FROM_IMAGE=${base}`,
      "--network",
      "none",
      "--if-changed",
      "--via",
      "api",
    ];
    const first = await runCli(args);
    expect(first.exitCode).toBe(0);
    madeImages.push((await inspectImage(client, built)).Id);
    const again = await runCli([...args, "--json"]);
    expect(JSON.parse(again.stdout)).toMatchObject({ skipped: true });
    // The same name now points at another image: a new release of the base.
    await tagImage(client, suite.utilImageIds.builder!, base);
    const rebuilt = await runCli(args);
    expect(rebuilt.exitCode).toBe(0);
    expect(rebuilt.stderr).toContain(
      `[info] --if-changed: the base image ${base} changed since ${built} was built; building again`,
    );
    const image = await inspectImage(client, built);
    madeImages.push(image.Id);
    expect(image.Id).not.toBe(first.stdout.trim());
  }, 120_000);
});

describe("ways to reach the engine and the builder", () => {
  test(`a TCP engine: the builder container reaches it over the host network; text output${onPodman("no builder container: the API builds over the same endpoint, after one notice")}`, async () => {
    const { exitCode, stdout, stderr } = await runCli([
      "build",
      join(FIXTURES, "tiny"),
      "-t",
      tag("tcp"),
      ...FROM_BASE,
      "--network",
      "none",
      "--host",
      TCP_HOST,
    ]);
    expect(exitCode).toBe(0);
    const image = await inspectImage(client, tag("tcp"));
    madeImages.push(image.Id);
    // The image ID alone on stdout; the log path, the progress and the outcome on stderr.
    expect(stdout).toBe(`${image.Id}\n`);
    expect(stderr).toMatch(/^\[info\] build log: \S+\.log$/m);
    if (PODMAN) {
      // No buildx into Podman: one notice, then the API builds (over the same TCP endpoint).
      expect(stderr.split("\n").filter((line) => line.startsWith("[warn]"))).toEqual([
        expect.stringMatching(PODMAN_FALLBACK),
      ]);
      expect(stderr).toMatch(/^\[success\] built \S+ \([0-9a-f]{12}\) via api in \d+\.\ds$/m);
      expect(image.Config!.Labels![BUILDER_IMAGE_LABEL]).toBe("api");
      return;
    }
    expect(stderr).toContain('#0 building with "default" instance using docker driver');
    expect(stderr).toMatch(/^\[success\] built \S+ \([0-9a-f]{12}\) via builder in \d+\.\ds$/m);
    expect(image.Config!.Labels![BUILDER_IMAGE_LABEL]).toBe(suite.utilImageIds.builder!);
  }, 120_000);

  test(`without a builder image the build goes through the API, saying so in one line${onPodman("the engine sends it there before the builder image is looked for")}`, async () => {
    const { exitCode, stderr } = await runCli([
      "build",
      join(FIXTURES, "tiny"),
      "-t",
      tag("fallback"),
      ...FROM_BASE,
      "--network",
      "none",
      "--builder-image",
      "aicage-util-test/no-such-builder:none",
      "--base-image",
      "aicage-util-test/no-such-base:none",
    ]);
    if (exitCode !== 0) throw new Error(`build exited ${exitCode}:\n${stderr}`);
    const fallback = stderr.split("\n").filter((line) => line.includes("building through the Engine API instead"));
    expect(fallback).toHaveLength(1);
    expect(fallback[0]).toMatch(
      PODMAN
        ? PODMAN_FALLBACK
        : /^\[warn\] the builder image is not available: .*; building through the Engine API instead \(--via api\)$/,
    );
    const image = await inspectImage(client, tag("fallback"));
    madeImages.push(image.Id);
    expect(image.Config!.Labels![BUILDER_IMAGE_LABEL]).toBe("api");
  }, 120_000);
});

describe("bad input and no engine", () => {
  const tiny = join(FIXTURES, "tiny");
  const cases: Array<[string, string[], string]> = [
    [
      "missing context",
      ["build", "/tmp/aicage-no-such-context", "-t", "x:1"],
      "build context not found: /tmp/aicage-no-such-context",
    ],
    [
      "missing Dockerfile",
      ["build", tiny, "-t", "x:1", "-f", "/tmp/aicage-no-such/Dockerfile"],
      "Dockerfile not found: /tmp/aicage-no-such/Dockerfile",
    ],
    [
      "context without Dockerfile",
      ["build", join(FIXTURES, "base", "files"), "-t", "x:1"],
      `Dockerfile not found: ${join(FIXTURES, "base", "files", "Dockerfile")}`,
    ],
    [
      "build arg without =",
      ["build", tiny, "-t", "x:1", "--build-arg", "FROM_IMAGE"],
      "--build-arg takes KEY=VALUE, not 'FROM_IMAGE'",
    ],
    ["label without key", ["build", tiny, "-t", "x:1", "--label", "=v"], "--label takes KEY=VALUE, not '=v'"],
    ["no tag", ["build", tiny], "missing -t TAG: name the image to build"],
    ["bad tag", ["build", tiny, "-t", "Upper/Case:1"], "invalid tag 'Upper/Case:1'"],
    ["bad --via", ["build", tiny, "-t", "x:1", "--via", "docker"], "--via takes builder or api, not 'docker'"],
  ];
  for (const [name, args, message] of cases) {
    test(`${name}: exit 2, one line`, async () => {
      const { exitCode, stderr, stdout } = await runCli(args);
      expect(exitCode).toBe(2);
      expect(stdout).toBe("");
      expect(stderr.trim().split("\n")).toHaveLength(1);
      expect(stderr).toContain(message);
    });
  }

  for (const way of WAYS) {
    test(`unreachable engine (--via ${way}): exit 3, one line`, async () => {
      const { exitCode, stderr } = await runCli([
        "build",
        tiny,
        "-t",
        "x:1",
        "--via",
        way,
        "--host",
        "unix:///tmp/aicage-no-such.sock",
      ]);
      expect(exitCode).toBe(3);
      expect(stderr.trim().split("\n")).toHaveLength(1);
      expect(stderr).toContain(
        "Docker engine unreachable at /tmp/aicage-no-such.sock (--host): the socket does not exist.",
      );
    });
  }
});

async function allContainerIds(): Promise<string[]> {
  const list = await client.request<Array<{ Id: string }>>("GET", "/containers/json", { query: { all: true } });
  return list.map((c) => c.Id).sort();
}

/** Reads a stream until `text` appears (or it ends, or time runs out); answers what was read. */
async function readUntil(stream: ReadableStream<Uint8Array>, text: string, timeoutMs: number): Promise<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let seen = "";
  const deadline = Date.now() + timeoutMs;
  while (!seen.includes(text) && Date.now() < deadline) {
    const next = await Promise.race([reader.read(), Bun.sleep(deadline - Date.now()).then(() => undefined)]);
    if (!next || next.done) break;
    seen += decoder.decode(next.value, { stream: true });
  }
  // Keep draining in the background so the child never blocks on a full pipe.
  void (async () => {
    while (!(await reader.read()).done);
  })().catch(() => undefined);
  return seen;
}

/** The agent's release tarball: agent/bin/agent and agent/VERSION. */
async function agentTarball(): Promise<Uint8Array> {
  const tar = await tarOfFiles({
    "agent/bin/agent": { content: '#!/bin/sh\necho "agent $(cat /opt/agent/VERSION) called with: $*"\n', mode: 0o755 },
    "agent/VERSION": "1.2.3\n",
  });
  return gzipSync(tar);
}
