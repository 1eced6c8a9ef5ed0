// Version-check input and output that are not what they seem: FIFOs and devices where a script
// should be, folders too big to copy or holding things that cannot be copied, symlinks out of
// the folder, timeouts past what timers take, secrets given as --env NAME=value, and scripts
// whose output or folder name carries escape sequences, binary or a line without end.
import { describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { writeRecord } from "../../src/version-check/records.ts";
import { runCli, tempDir, testClient } from "../helpers/engine.ts";
import { engineSuite } from "../helpers/suite.ts";
import { recorded } from "../helpers/recorded.ts";

const client = testClient();

engineSuite(["version-check"], client);

function writeAgent(root: string, name: string, body: string): string {
  mkdirSync(join(root, name), { recursive: true, mode: 0o755 });
  writeFileSync(join(root, name, "version.sh"), body, { mode: 0o644 });
  return join(root, name);
}

/** Runs the CLI, and fails the test rather than hang when it does not end in time. */
async function cli(args: string[], env: Record<string, string> = {}, limitMs = 60_000) {
  const started = performance.now();
  const run = await Promise.race([
    runCli(["version-check", "--network", "none", ...args], { env }),
    Bun.sleep(limitMs).then(() => {
      throw new Error(`version-check ${args.join(" ")} did not end within ${limitMs} ms`);
    }),
  ]);
  return { ...run, ms: performance.now() - started };
}

async function json(args: string[], env: Record<string, string> = {}) {
  const run = await cli(["--json", ...args], env);
  try {
    return { ...run, results: JSON.parse(run.stdout).results as any[] };
  } catch {
    throw new Error(`no JSON on stdout (exit ${run.exitCode}): ${run.stdout}\n${run.stderr}`);
  }
}

describe("a version.sh that is not a regular file", () => {
  test("a FIFO, given as a file, as a folder's version.sh or under --agents, is a usage error at once", async () => {
    const root = tempDir("aicage-fifo-");
    mkdirSync(join(root, "agent"), { mode: 0o755 });
    execFileSync("mkfifo", [join(root, "agent", "version.sh")]);
    for (const args of [[join(root, "agent", "version.sh")], [join(root, "agent")], ["--agents", root]]) {
      const run = await cli(args, {}, 15_000);
      expect(run.exitCode).toBe(2);
      const what =
        args.length === 1 && args[0]!.endsWith("version.sh") ? "not a script or a folder" : "not a regular file";
      expect(run.stderr.trim()).toBe(`[error] bad agent path: ${join(root, "agent", "version.sh")}: a FIFO, ${what}`);
      expect(run.ms).toBeLessThan(10_000);
    }
  });

  test("a device is a usage error", async () => {
    const run = await cli(["/dev/null"]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr.trim()).toBe("[error] bad agent path: /dev/null: a character device, not a script or a folder");
  });
});

describe("what of an agent folder is copied into the container", () => {
  test("a FIFO or a socket inside the folder is a usage error before anything runs; the host alone does not copy", async () => {
    const root = tempDir("aicage-special-");
    const fifoAgent = writeAgent(root, "with-fifo", "echo 1.0.0\n");
    execFileSync("mkfifo", [join(fifoAgent, "pipe")]);
    const socketAgent = writeAgent(root, "with-socket", "echo 2.0.0\n");
    const server = createServer().listen(join(socketAgent, "sock"));
    await new Promise((resolve) => server.once("listening", resolve));
    try {
      const run = await cli([fifoAgent, socketAgent], {}, 15_000);
      expect(run.exitCode).toBe(2);
      expect(run.stderr.trim()).toBe(
        `[error] bad agent paths: ${fifoAgent}/pipe: a FIFO in an agent folder cannot be copied into the container; move it out; ` +
          `${socketAgent}/sock: a socket in an agent folder cannot be copied into the container; move it out`,
      );
      const hostOnly = await json(["--only", "host", fifoAgent, socketAgent]);
      expect(hostOnly.results.map((r) => [r.version, r.source])).toEqual([
        ["1.0.0", "host"],
        ["2.0.0", "host"],
      ]);
    } finally {
      server.close();
    }
  });

  test("a folder past the copy limit (a 2 GB file) is not sent: one warning line, the host answers, fast", async () => {
    const root = tempDir("aicage-big-");
    const big = writeAgent(root, "big", "echo 3.0.0\n");
    // Sparse: 2 GB to the file system's size, nothing on the disk.
    execFileSync("truncate", ["-s", "2G", join(big, "model.bin")]);
    const small = writeAgent(root, "small", 'echo "4.0.0"\n');
    const run = await json([big, small]);
    expect(run.exitCode).toBe(0);
    expect(run.results.map((r) => [r.version, r.source])).toEqual([
      ["3.0.0", "host"],
      ["4.0.0", "image"],
    ]);
    const why = `its folder ${big} holds more than 16 MiB, the most copied into the check container`;
    expect(run.results[0].attempts[0]).toMatchObject({ source: "image", ok: false, error: why });
    expect(run.stderr.trim().split("\n")).toEqual([`[warn] big: ${why}; it is checked on the host`]);
    expect(run.ms).toBeLessThan(30_000);
  });

  test("symlinks are copied as links, never followed: one out of the folder brings no host file along", async () => {
    const root = tempDir("aicage-links-");
    const outside = join(tempDir("aicage-outside-"), "host-secret.txt");
    writeFileSync(outside, "HOST-SECRET\n", { mode: 0o644 });
    const dir = writeAgent(
      root,
      "links",
      'cd "$(dirname "$0")"; echo "inside=$(cat inside) outside=$(cat outside 2>/dev/null || echo none) parent=$(ls ../ 2>/dev/null | wc -l)"\n',
    );
    writeFileSync(join(dir, "data.txt"), "data\n", { mode: 0o644 });
    symlinkSync("data.txt", join(dir, "inside"));
    symlinkSync(outside, join(dir, "outside"));
    const run = await json(["--compare", dir]);
    expect(run.results[0].compare.image).toBe("inside=data outside=none parent=0");
    // On the host the same script reads the host's file: the copy is what differs.
    expect(run.results[0].compare.host).toStartWith("inside=data outside=HOST-SECRET");
    expect(JSON.stringify(run.results[0].attempts[0])).not.toContain("HOST-SECRET");
  });
});

describe("flags", () => {
  test("--timeout past what timers take is a usage error; the help says the maximum", async () => {
    const run = await cli(["--timeout", "2200000", "/nonexistent"]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr.trim()).toBe("[error] --timeout takes a whole number from 1 to 86400, not '2200000'");
    const help = await runCli(["version-check", "--help"]);
    expect(help.stdout + help.stderr).toContain("Seconds per attempt (default 30, at most 86400)");
  });

  test("--env NAME=value never echoes the value, on stderr or in --json", async () => {
    const secret = "ghp_never_echoed_0123456789";
    const root = tempDir("aicage-env-");
    const dir = writeAgent(root, "env", "echo 1.0.0\n");
    for (const given of [`GITHUB_TOKEN=${secret}`, `--weird-${secret}`, `BAD-NAME=${secret}`]) {
      const run = await cli(["--json", `--env=${given}`, dir]);
      expect(run.exitCode).toBe(2);
      expect(run.stdout + run.stderr).not.toContain(secret);
    }
    const run = await cli(["--env", `GITHUB_TOKEN=${secret}`, dir]);
    expect(run.stderr.trim()).toBe(
      "[error] --env takes a variable name, not NAME=value: set GITHUB_TOKEN in the environment and pass --env GITHUB_TOKEN",
    );
  });
});

describe("output that is not a version", () => {
  const hostile = {
    // clear the screen, then a version
    "clear-screen": String.raw`printf '\033[H\033[2J\033[3J1.0.0\n'`,
    // set the window title
    "window-title": String.raw`printf '\033]0;pwned\a2.0.0\n'`,
    // a C1 CSI, as UTF-8
    "c1-csi": String.raw`printf '\302\2332J3.0.0\n'`,
    // 10 MiB on one line: what is kept is cut
    "ten-mib-line": "head -c 10485760 /dev/zero | tr '\\0' 7",
    // random bytes, recorded (see test/unit/safe-text.test.ts)
    binary: 'tail -c 512 "$(dirname "$0")/random.bin"',
    // a long line
    "long-line": `printf '%0300d\\n' 1`,
  };

  test("is refused with a reason, in the image and on the host, and never recorded", async () => {
    const root = tempDir("aicage-hostile-out-");
    const dirs = Object.entries(hostile).map(([name, body]) => writeAgent(root, name, `${body}\n`));
    writeFileSync(join(root, "binary", "random.bin"), recorded("hostile-output.bin"), { mode: 0o644 });
    const state = tempDir("aicage-state-");
    const run = await json(["--no-cache-fallback", ...dirs], { AICAGE_UTIL_STATE_DIR: state });
    expect(run.exitCode).toBe(1);
    const errors = run.results.map((r) => [
      r.agent,
      r.ok,
      r.version,
      r.attempts.map((a: any) => `${a.source}: ${a.error}`),
    ]);
    expect(errors.slice(0, 4)).toEqual([
      [
        "clear-screen",
        false,
        null,
        ["image", "host"].map(
          (p) =>
            `${p}: output refused: its first line holds control characters or escape sequences: "\\x1b[H\\x1b[2J\\x1b[3J1.0.0"`,
        ),
      ],
      [
        "window-title",
        false,
        null,
        ["image", "host"].map(
          (p) =>
            `${p}: output refused: its first line holds control characters or escape sequences: "\\x1b]0;pwned\\x072.0.0"`,
        ),
      ],
      [
        "c1-csi",
        false,
        null,
        ["image", "host"].map(
          (p) => `${p}: output refused: its first line holds control characters or escape sequences: "\\x9b2J3.0.0"`,
        ),
      ],
      [
        "ten-mib-line",
        false,
        null,
        ["image", "host"].map((p) => `${p}: output refused: its first line was cut off after 1048576 characters`),
      ],
    ]);
    expect(run.results[4].attempts.map((a: any) => a.error)).toEqual([
      expect.stringMatching(/^output refused: its first line /),
      expect.stringMatching(/^output refused: its first line /),
    ]);
    expect(run.results[5].attempts[0].error).toBe(
      "output refused: its first line is 300 characters long, more than the 256 a version may have",
    );
    expect(existsSync(join(state, "version-checks")) ? readdirSync(join(state, "version-checks")) : []).toEqual([]);
    // Nothing raw reaches the terminal or a JSON string someone prints.
    expect(run.stdout + run.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(JSON.stringify(run.results)).not.toMatch(/\\u00(0[0-8bcef]|1[0-9a-f]|7f|[89][0-9a-f])/);
  }, 120_000);

  test("escape sequences in stderr and in a folder name are shown as text, in the table and in --json", async () => {
    const root = tempDir("aicage-hostile-name-");
    const name = "agent\u001b]0;pwned\u0007\u001b[2J";
    const dir = writeAgent(root, name, `${String.raw`printf 'bad \033[31mthing\033[0m\n' >&2; exit 3`}\n`);
    const table = await cli(["--no-cache-fallback", dir]);
    expect(table.exitCode).toBe(1);
    expect(table.stdout).not.toContain("\u001b");
    expect(table.stdout).toContain("agent\\x1b]0;pwned\\x07\\x1b[2J");
    // The table gives one short cause per agent (the last place tried); --json keeps each attempt's.
    expect(table.stdout).toContain("host: exit 3: bad \\x1b[31mthing\\x1b[0m");
    const run = await json(["--no-cache-fallback", dir]);
    expect(run.results[0].agent).toBe("agent\\x1b]0;pwned\\x07\\x1b[2J");
    expect(run.results[0].script).toBe(`${root}/agent\\x1b]0;pwned\\x07\\x1b[2J/version.sh`);
    expect(run.results[0].attempts[0].stderrTail).toBe("bad \\x1b[31mthing\\x1b[0m");
  });

  test("a record an older version of the tool wrote with escape sequences in it is never answered", async () => {
    const root = tempDir("aicage-old-record-");
    const dir = writeAgent(root, "offline", "exit 6\n");
    const state = tempDir("aicage-state-");
    const saved = process.env.AICAGE_UTIL_STATE_DIR;
    process.env.AICAGE_UTIL_STATE_DIR = state;
    try {
      writeRecord({
        agent: "offline",
        script: join(dir, "version.sh"),
        version: "\u001b]0;pwned\u00079.9.9",
        source: "image",
        checkedAt: new Date().toISOString(),
        scriptSha256: "0",
      });
    } finally {
      if (saved === undefined) delete process.env.AICAGE_UTIL_STATE_DIR;
      else process.env.AICAGE_UTIL_STATE_DIR = saved;
    }
    const run = await json(["--only", "host", dir], { AICAGE_UTIL_STATE_DIR: state });
    expect(run.exitCode).toBe(1);
    expect(run.results[0]).toMatchObject({ ok: false, source: null, version: null });
  });
});
