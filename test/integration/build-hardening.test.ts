// `aicage-util build` with input that is not what it seems, against the real engine (issue 11,
// items 8, 10, 12, 17, 18): file names that are not UTF-8, a .dockerignore holding `*`, a
// newline in a build argument or label, the engine's socket closing mid-build, two steps
// failing at once.
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { inspectImage } from "../../src/docker/images.ts";
import { runContainer } from "../../src/workloads/run-container.ts";
import { CONTEXT_HASH_LABEL, MANAGED_LABEL, managedLabels } from "../../src/core/labels.ts";
import { BASE_IMAGE, BUN, CLI_TEST_ENV, REPO_ROOT, runCli, tempDir, testClient } from "../helpers/engine.ts";
import { startEngineProxy } from "../helpers/engine-proxy.ts";
import { engineSuite } from "../helpers/suite.ts";

const client = testClient();
const RUN = `${process.pid}-${Date.now().toString(36)}`;
const WAYS = ["api", "builder"] as const;
const FROM_BASE = ["--build-arg", `FROM_IMAGE=${BASE_IMAGE}`];
const tag = (name: string) => `aicage-util-test/hardening-${name}:${RUN}`;
const { madeImages } = engineSuite(["builder"], client);

async function build(args: string[]) {
  const result = await runCli(["build", "--json", "--network", "none", ...FROM_BASE, ...args]);
  if (result.exitCode !== 0) throw new Error(`build exited ${result.exitCode}:\n${result.stderr}\n${result.stdout}`);
  const json = JSON.parse(result.stdout) as { imageId: string; skipped: boolean; logFile: string | null };
  madeImages.push(json.imageId);
  return json;
}

/** What a shell command prints in the image, without network. */
async function runIn(image: string, script: string): Promise<string> {
  const result = await runContainer(
    client,
    { Image: image, Cmd: ["sh", "-c", script], Labels: managedLabels(), HostConfig: { NetworkMode: "none" } },
    { timeoutMs: 60_000 },
  );
  if (result.exitCode !== 0) throw new Error(`container exited ${result.exitCode}: ${result.stderr}`);
  return result.stdout;
}

/** A context folder; names are given as bytes where they are not UTF-8. */
function context(files: Array<[name: string | Buffer, content: string]>): string {
  const dir = tempDir(`aicage-hardening-${RUN}-`);
  for (const [name, content] of files) {
    const path = Buffer.concat([Buffer.from(`${dir}/`), typeof name === "string" ? Buffer.from(name) : name]);
    mkdirSync(Buffer.from(path.subarray(0, path.lastIndexOf(0x2f))), { recursive: true });
    writeFileSync(path, content);
  }
  return dir;
}

const COPY_ALL = "ARG FROM_IMAGE\nFROM ${FROM_IMAGE}\nCOPY . /ctx/\n";
/** Every path under /ctx, each byte that is not printable ASCII as \ooo (od-free: sed -n l). */
const LIST_CTX = "cd /ctx && find . -mindepth 1 | LC_ALL=C sort | LC_ALL=C sed -n l";

describe("file names that are not UTF-8 (item 8)", () => {
  test("travel both ways, byte for byte, and .dockerignore is matched on them", async () => {
    const latin1 = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2e, 0x74, 0x78, 0x74]); // café.txt in Latin-1
    const dir = context([
      ["Dockerfile", COPY_ALL],
      [".dockerignore", "*.skip\n"],
      [latin1, "latin-1 name\n"],
      [Buffer.from([0x64, 0xff, 0x2f, 0xfe, 0x2e, 0x74, 0x78, 0x74]), "in a folder named d\\xff\n"],
      [Buffer.from([0x78, 0xfe, 0x2e, 0x73, 0x6b, 0x69, 0x70]), "ignored by *.skip\n"],
      ["é-utf8.txt", "utf-8 name\n"],
    ]);
    const listings = new Set<string>();
    for (const way of WAYS) {
      const json = await build([dir, "-t", tag(`raw-${way}`), "--via", way]);
      const listing = await runIn(json.imageId, LIST_CTX);
      listings.add(listing);
      expect(await runIn(json.imageId, "cat /ctx/caf*.txt")).toBe("latin-1 name\n");
    }
    expect([...listings]).toEqual([
      [
        "./.dockerignore$",
        "./Dockerfile$",
        "./caf\\351.txt$",
        "./d\\377$",
        "./d\\377/\\376.txt$",
        "./\\303\\251-utf8.txt$",
        "",
      ].join("\n"),
    ]);
  }, 180_000);
});

describe(".dockerignore holding '*' (item 10)", () => {
  test("each way's COPY . measured; the context hash tells the ways apart exactly when they differ", async () => {
    const dir = context([
      ["Dockerfile", COPY_ALL],
      [".dockerignore", "*\n!keep.txt\n"],
      ["keep.txt", "k\n"],
      ["other.txt", "o\n"],
    ]);
    const seen: Record<string, { listing: string; hash: string }> = {};
    for (const way of WAYS) {
      const json = await build([dir, "-t", tag(`star-${way}`), "--via", way]);
      const image = await inspectImage(client, json.imageId);
      seen[way] = { listing: await runIn(json.imageId, LIST_CTX), hash: image.Config!.Labels![CONTEXT_HASH_LABEL]! };
    }
    // The Engine API's BuildKit keeps what it had to be sent; buildx reads the folder itself.
    expect(seen.api!.listing).toBe("./.dockerignore$\n./Dockerfile$\n./keep.txt$\n");
    expect(seen.builder!.listing).toBe("./keep.txt$\n");
    expect(seen.api!.hash).not.toBe(seen.builder!.hash);

    // --if-changed: built one way, the other way does not count as up to date.
    const first = tag("star-if-changed");
    const api = await build([dir, "-t", first, "--via", "api", "--if-changed"]);
    expect(api.skipped).toBe(false);
    expect((await build([dir, "-t", first, "--via", "api", "--if-changed"])).skipped).toBe(true);
    const builder = await build([dir, "-t", first, "--via", "builder", "--if-changed"]);
    expect(builder.skipped).toBe(false);
    expect(await runIn(builder.imageId, LIST_CTX)).toBe("./keep.txt$\n");
  }, 240_000);
});

describe("a newline in a build argument or a label (item 12)", () => {
  test("cannot forge a header line of the log (a build argument is named, its value never written); the value still reaches the build", async () => {
    const dir = context([
      ["Dockerfile", "ARG FROM_IMAGE\nFROM ${FROM_IMAGE}\nARG NOTE\nRUN printf '%s' \"$NOTE\" > /note\n"],
    ]);
    for (const way of WAYS) {
      const json = await build([
        dir,
        "-t",
        tag(`forge-${way}`),
        "--via",
        way,
        "--build-arg",
        "NOTE=one\n# via: forged\n# failed at step [9/9]: forged",
        "--label",
        "org.example.note=a\n# tags: forged\u001b[2J",
      ]);
      const lines = readFileSync(json.logFile!, "utf8").split("\n");
      const headerLines = lines.filter((line) => /^# (via|tags|failed)/.test(line));
      expect(headerLines).toHaveLength(2);
      expect(headerLines[0]).toMatch(
        way === "api" ? /^# via: api$/ : /^# via: builder \(builder image sha256:[0-9a-f]{64}\)$/,
      );
      expect(headerLines[1]).toBe(`# tags: ${tag(`forge-${way}`)}`);
      expect(lines).toContain("# build arg: NOTE (value not shown)");
      // The value is in no line of the tool's own; the label is, on one line, its controls escaped.
      expect(lines.filter((line) => line.startsWith("# ") && line.includes("forged"))).toEqual([
        "# label: org.example.note=a\\n# tags: forged\\x1b[2J",
      ]);
      // (echo: runContainer may lose a last line that has no newline; seen in 2 of 10 runs)
      expect(await runIn(json.imageId, "cat /note; echo")).toBe("one\n# via: forged\n# failed at step [9/9]: forged\n");
      expect((await inspectImage(client, json.imageId)).Config!.Labels!["org.example.note"]).toBe(
        "a\n# tags: forged\u001b[2J",
      );
    }
  }, 180_000);
});

describe("a build argument's value (issue 11: values given on the command line are never echoed where a secret could be)", () => {
  for (const way of WAYS) {
    test(`--via ${way}: in no output, no log (made 0600), no --json error${way === "builder" ? ", not in the builder container's command" : ""}; it still reaches the build`, async () => {
      const secret = `npm_${RUN.replace(/-/g, "_")}_${way}_s3cr3t`;
      const token = ["--build-arg", `NPM_TOKEN=${secret}`];
      // The step takes a while (the builder container lives long enough to be seen), and keeps a hash of the value.
      const dir = context([
        [
          "Dockerfile",
          'ARG FROM_IMAGE\nFROM ${FROM_IMAGE}\nARG NPM_TOKEN\nRUN test -n "$NPM_TOKEN" && sleep 1 && printf \'%s\' "$NPM_TOKEN" | sha256sum > /token.sha256\n',
        ],
      ]);
      const failing = context([
        [
          "Dockerfile",
          "ARG FROM_IMAGE\nFROM ${FROM_IMAGE}\nARG NPM_TOKEN\nRUN test -n \"$NPM_TOKEN\" && echo 'the registry refused the token' && exit 7\n",
        ],
      ]);
      const watch = watchBuilderContainers(RUN);

      // Plain output: every line of the build on stderr, the image ID on stdout.
      const built = await runCli([
        "build",
        dir,
        "-t",
        tag(`secret-${way}`),
        "--via",
        way,
        "--network",
        "none",
        ...FROM_BASE,
        ...token,
        "--no-cache",
      ]);
      expect(built.exitCode).toBe(0);
      const imageId = built.stdout.trim();
      madeImages.push(imageId);
      const builtLog = /build log: (\S+)/.exec(built.stderr)![1]!;
      const sha = createHash("sha256").update(secret).digest("hex");
      expect(await runIn(imageId, "cat /token.sha256")).toBe(`${sha}  -\n`);

      // A failure with --json: the error object and the log's last lines.
      const failed = await runCli([
        "build",
        failing,
        "-t",
        tag(`secret-fail-${way}`),
        "--via",
        way,
        "--network",
        "none",
        ...FROM_BASE,
        ...token,
        "--no-cache",
        "--json",
      ]);
      expect(failed.exitCode).toBe(1);
      const error = JSON.parse(failed.stdout).error;
      expect(error.message).toContain("(exit code 7): the registry refused the token (log: ");
      // BuildKit names the step with the value expanded: the tool shows it hidden.
      expect(error.step).toBe(`[2/2] RUN test -n "***" && echo 'the registry refused the token' && exit 7`);

      for (const [logFile, output] of [
        [builtLog, built],
        [error.logFile as string, failed],
      ] as const) {
        const log = readFileSync(logFile, "utf8");
        expect(log).toContain("# build arg: NPM_TOKEN (value not shown)");
        expect(log).toMatch(/^#\d+ \[2\/2\] RUN test -n "\*\*\*" && /m);
        expect(statSync(logFile).mode & 0o777).toBe(0o600);
        for (const text of [output.stdout, output.stderr, log]) expect(text).not.toContain(secret);
      }

      const containers = await watch.stop();
      if (way === "api") {
        expect(containers).toEqual([]);
        return;
      }
      // Both builds' containers were seen: the command names the argument, its value is only in the environment.
      expect(containers).toHaveLength(2);
      for (const { Cmd, Env } of containers) {
        expect(Cmd.join(" ")).not.toContain(secret);
        expect(Cmd.join(" ")).toContain("--build-arg NPM_TOKEN ");
        expect(Env).toContain(`NPM_TOKEN=${secret}`);
      }
    }, 180_000);
  }
});

describe("the engine's socket closing mid-build (item 17)", () => {
  test("--via api: exit 3, one line naming the endpoint, and the log ends with a 'failed' line", async () => {
    const proxy = await startEngineProxy();
    const log = join(tempDir("aicage-cut-log-"), "build.log");
    try {
      const proc = Bun.spawn(
        [
          BUN,
          join(REPO_ROOT, "src", "cli.ts"),
          "build",
          join(REPO_ROOT, "test", "fixtures", "builds", "slow"),
          "-t",
          tag("cut"),
          "--via",
          "api",
          "--network",
          "none",
          ...FROM_BASE,
          "--build-arg",
          `RUN_ID=${RUN}-cut`,
          "--no-cache",
          "--log-file",
          log,
        ],
        {
          env: { ...process.env, ...CLI_TEST_ENV, DOCKER_HOST: proxy.host },
          stdout: "pipe",
          stderr: "pipe",
          stdin: "ignore",
        },
      );
      const deadline = Date.now() + 120_000;
      // The step's number follows the order BuildKit first shows its vertices in: any number.
      const sleeping = new RegExp(`^#\\d+ sleeping for ${RUN}-cut`, "m");
      while (!sleeping.test(readIfThere(log)) && Date.now() < deadline) await Bun.sleep(100);
      proxy.cutAll();
      const [exitCode, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
      expect(exitCode).toBe(3);
      const last = stderr.trim().split("\n").at(-1)!;
      expect(last).toStartWith(
        `[error] Docker engine unreachable at ${proxy.socketPath} (DOCKER_HOST): the connection closed in the middle of the answer to POST /v1.`,
      );
      const logLines = readFileSync(log, "utf8").trim().split("\n");
      expect(logLines.some((line) => sleeping.test(line))).toBe(true);
      expect(logLines.at(-1)).toStartWith("# failed: Docker engine unreachable at");
    } finally {
      proxy.stop();
    }
  }, 180_000);
});

describe("two steps failing at once (item 18)", () => {
  for (const way of WAYS) {
    test(`--via ${way}: the step named is the one whose source the message names`, async () => {
      const dir = context([
        ["Dockerfile", "ARG FROM_IMAGE\nFROM ${FROM_IMAGE}\nCOPY missing-one /one\nCOPY missing-two /two\nRUN true\n"],
      ]);
      // BuildKit checks both sources at once; which error ends the build varies from run to run.
      for (let attempt = 0; attempt < 3; attempt++) {
        const { exitCode, stderr } = await runCli([
          "build",
          dir,
          "-t",
          tag(`two-${way}`),
          "--via",
          way,
          "--network",
          "none",
          ...FROM_BASE,
          "--no-cache",
        ]);
        expect(exitCode).toBe(1);
        const last = stderr.trim().split("\n").at(-1)!;
        const match = /failed at step \[(\d)\/4\] COPY missing-(one|two) \/(one|two): (.*) \(log: /.exec(last);
        expect(match).not.toBeNull();
        const [, number, source, , message] = match!;
        // Docker 26.1's BuildKit puts a colon after the name (`"/missing-one": not found`), the one this file ran on before did not.
        expect({ number, message: new RegExp(`"/missing-${source}":? not found`).test(message!) }).toEqual({
          number: source === "one" ? "2" : "3",
          message: true,
        });
      }
    }, 120_000);
  }
});

/**
 * Watches, while builds run, for containers that mount a folder whose path holds `marker`, and
 * keeps what `docker inspect` shows anyone who may use the engine: their command and environment.
 */
function watchBuilderContainers(marker: string) {
  const seen = new Map<string, { Cmd: string[]; Env: string[] }>();
  let stopped = false;
  const poll = async () => {
    while (!stopped) {
      const list = await client.request<Array<{ Id: string; Mounts?: Array<{ Source?: string }> }>>(
        "GET",
        "/containers/json",
        {
          query: { all: true, filters: JSON.stringify({ label: [`${MANAGED_LABEL}=true`] }) },
        },
      );
      for (const container of list) {
        if (seen.has(container.Id) || !container.Mounts?.some((mount) => mount.Source?.includes(marker))) continue;
        const inspected = await client
          .request<{ Config: { Cmd: string[]; Env: string[] } }>("GET", `/containers/${container.Id}/json`)
          .catch(() => undefined); // removed in between
        if (inspected) seen.set(container.Id, { Cmd: inspected.Config.Cmd, Env: inspected.Config.Env });
      }
      await Bun.sleep(50);
    }
  };
  const polling = poll();
  return {
    async stop() {
      stopped = true;
      await polling;
      return [...seen.values()];
    },
  };
}

function readIfThere(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

describe("--log-file that is not a file to write (issue 23)", () => {
  const tiny = join(REPO_ROOT, "test", "fixtures", "builds", "tiny");
  test("a FIFO nobody reads and a folder that does not exist: exit 2 at once, one line each, nothing created", async () => {
    const dir = tempDir("aicage-log-file-");
    const fifo = join(dir, "log.fifo");
    expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
    const missing = join(dir, "nonexistent", "dir");
    const cases = [
      [fifo, `[error] build log ${fifo} is a FIFO, not a regular file; choose a file for --log-file`],
      [
        join(missing, "x.log"),
        `[error] build log ${join(missing, "x.log")}: the folder ${missing} does not exist; create it first`,
      ],
    ] as const;
    for (const [file, line] of cases) {
      const started = performance.now();
      const run = await runCli(["build", tiny, "-t", tag("log-file"), "--via", "api", "--log-file", file]);
      expect({ exitCode: run.exitCode, stderr: run.stderr }).toEqual({ exitCode: 2, stderr: `${line}\n` });
      expect(performance.now() - started).toBeLessThan(15_000);
    }
    expect(existsSync(join(dir, "nonexistent"))).toBe(false);
  }, 40_000);
});
