// How the CLI behaves towards the person at the terminal, and towards pipes: help without
// escape codes, trailing spaces or phantom rows; colour only on a terminal (never with
// NO_COLOR, always with FORCE_COLOR), the same for help and log lines; agents in natural order; a live line for a run of many
// agents in a terminal and nothing extra elsewhere. Terminals are real ptys from script(1).
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUN, CLI_TEST_ENV, REPO_ROOT, runCli, tempDir } from "../helpers/engine.ts";

const ESC = "\x1b";
/** Every command with its own help, found by walking the root's help. */
const COMMANDS = [
  [],
  ["build"],
  ["doctor"],
  ["images"],
  ["images", "ls"],
  ["images", "pull"],
  ["images", "build"],
  ["images", "rm"],
  ["version-check"],
  ["upgrade"],
  ["completion"],
];

/** The environment of a colour-free run, minus what would decide colour for us. */
const NEUTRAL = { NO_COLOR: "", FORCE_COLOR: "", CI: "", TERM: "xterm-256color" };

const quote = (arg: string) => `'${arg.replace(/'/g, "'\\''")}'`;

/** Runs the CLI from source on a pty of 120 columns (or as many as asked); answers everything it printed, and the exit code. */
async function onTerminal(args: string[], env: Record<string, string> = {}, columns = 120) {
  const script = Bun.which("script");
  if (!script) throw new Error("script(1) is not installed: apt-get install -y bsdutils");
  const command = `stty cols ${columns}; exec ${[BUN, `${REPO_ROOT}/src/cli.ts`, ...args].map(quote).join(" ")}`;
  // The run's environment is the one script(1) passes on to the shell it starts.
  const proc = Bun.spawn([script, "-qec", command, "/dev/null"], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...CLI_TEST_ENV, ...NEUTRAL, ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [output, exitCode] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  return { output, exitCode };
}

describe("help", () => {
  test("piped: no escape codes, no trailing spaces, every row has text", async () => {
    const root = await runCli(["--help"], { env: NEUTRAL });
    // The walk above must match the commands the root's help names.
    const named = root.stdout
      .split("Commands:")[1]!
      .split("\n")
      .filter((l) => /^  \S/.test(l))
      .map((l) => l.trim().split(/\s+/)[0]);
    expect(named.sort()).toEqual(
      COMMANDS.filter((c) => c.length === 1)
        .map((c) => c[0])
        .sort(),
    );

    for (const command of COMMANDS) {
      const { exitCode, stdout, stderr } = await runCli([...command, "--help"], { env: NEUTRAL });
      const where = `aicage-util ${command.join(" ")} --help`;
      expect({ where, exitCode, stderr }).toEqual({ where, exitCode: 0, stderr: "" });
      expect({ where, escapes: stdout.includes(ESC) }).toEqual({ where, escapes: false });
      const trailing = stdout.split("\n").filter((line) => /\s$/.test(line));
      expect({ where, trailing }).toEqual({ where, trailing: [] });
      // A row of the Options, Arguments or Commands lists: a name, two spaces, its text.
      const rows = stdout.split("\n").filter((line) => /^  [-A-Za-z]/.test(line));
      expect(rows.length).toBeGreaterThan(0);
      const bare = rows.filter((line) => !/^  \S.*?\S  +\S/.test(line));
      expect({ where, bare }).toEqual({ where, bare: [] });
    }
  });

  test("a boolean that is on by default shows once, as its --no- form with its own text", async () => {
    const { stdout } = await runCli(["version-check", "--help"], { env: NEUTRAL });
    const rows = stdout.split("\n").filter((line) => line.includes("cache-fallback"));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatch(/^  --no-cache-fallback  +Fail when every attempt fails/);
  });

  test("colour on a terminal, never with NO_COLOR, always with FORCE_COLOR", async () => {
    const terminal = await onTerminal(["version-check", "--help"]);
    expect(terminal.exitCode).toBe(0);
    expect(terminal.output).toContain(`${ESC}[`);
    expect(terminal.output).toContain("--no-cache-fallback");

    const noColour = await onTerminal(["version-check", "--help"], { NO_COLOR: "1" });
    expect(noColour.output).toContain("--no-cache-fallback");
    expect(noColour.output).not.toContain(ESC);

    const forced = await runCli(["version-check", "--help"], { env: { ...NEUTRAL, FORCE_COLOR: "1" } });
    expect(forced.stdout).toContain(`${ESC}[`);
    const forcedOff = await runCli(["--help"], { env: { ...NEUTRAL, FORCE_COLOR: "0" } });
    expect(forcedOff.stdout).not.toContain(ESC);
  });
});

describe("every styled output agrees: help, and log lines such as [error]", () => {
  // [where, environment, coloured]: FORCE_COLOR (not empty, 0 or false) wins, then NO_COLOR
  // (not empty, as no-color.org says), then whether the stream is a terminal (not TERM=dumb, not CI).
  const cases: Array<["pipe" | "terminal", Record<string, string>, boolean]> = [
    ["pipe", {}, false],
    ["pipe", { FORCE_COLOR: "1" }, true],
    ["pipe", { FORCE_COLOR: "1", NO_COLOR: "1" }, true],
    ["pipe", { FORCE_COLOR: "0" }, false],
    ["terminal", {}, true],
    ["terminal", { NO_COLOR: "1" }, false],
    ["terminal", { NO_COLOR: "" }, true],
    ["terminal", { NO_COLOR: "1", FORCE_COLOR: "1" }, true],
    ["terminal", { TERM: "dumb" }, false],
    ["terminal", { CI: "true" }, false],
  ];
  const ERROR_LINE = "unknown command 'frob' for 'aicage-util images'; see 'aicage-util images --help'";
  for (const [where, env, coloured] of cases) {
    test(`${where} ${JSON.stringify(env)}: ${coloured ? "coloured" : "plain"}`, async () => {
      let help: string;
      let log: string;
      if (where === "pipe") {
        help = (await runCli(["--help"], { env: { ...NEUTRAL, ...env } })).stdout;
        const failed = await runCli(["images", "frob"], { env: { ...NEUTRAL, ...env } });
        expect(failed.exitCode).toBe(2);
        log = failed.stderr;
      } else {
        help = (await onTerminal(["--help"], env)).output;
        const failed = await onTerminal(["images", "frob"], env);
        expect(failed.exitCode).toBe(2);
        log = failed.output.replace(/\r\n/g, "\n");
      }
      expect(help).toContain("Usage:");
      expect({ help: help.includes(ESC), log: log.includes(ESC) }).toEqual({ help: coloured, log: coloured });
      // The same line either way; colour only on its tag.
      expect(log).toBe(coloured ? `${ESC}[31m[error]${ESC}[39m ${ERROR_LINE}\n` : `[error] ${ERROR_LINE}\n`);
    });
  }
});

/** A folder of host-only agents: each sleeps a while, prints a version or fails. */
function agents(spec: Record<string, string>): string {
  const root = tempDir("aicage-manners-");
  for (const [name, body] of Object.entries(spec)) {
    mkdirSync(join(root, name), { mode: 0o755 });
    writeFileSync(join(root, name, "version.sh"), body);
  }
  return root;
}

/** What a terminal showed, one redraw of the live line (or one line) each, without escapes. */
const framesOf = (output: string) => output.split(/\r|\n/).map((frame) => frame.replace(/\x1b\[[0-9;]*[A-Za-z]/g, ""));

describe("version-check --agents", () => {
  test("agents in natural order (a1, a2, a10), in the table and in --json", async () => {
    const dir = agents(Object.fromEntries(["a10", "a2", "b1", "a1", "A3"].map((n) => [n, `echo 1.0.0-${n}\n`])));
    const json = await runCli(["version-check", "--only", "host", "--agents", dir, "--json"]);
    expect(json.exitCode).toBe(0);
    expect(JSON.parse(json.stdout).results.map((r: { agent: string }) => r.agent)).toEqual([
      "a1",
      "a2",
      "A3",
      "a10",
      "b1",
    ]);
    const table = await runCli(["version-check", "--only", "host", "--agents", dir], { env: NEUTRAL });
    expect(
      table.stdout
        .trim()
        .split("\n")
        .slice(1)
        .map((l) => l.split(/\s+/)[0]),
    ).toEqual(["a1", "a2", "A3", "a10", "b1"]);
    // Rows whose error column is empty end with the time, not with padding.
    expect(table.stdout.split("\n").filter((line) => /\s$/.test(line))).toEqual([]);
  });

  const spec = {
    quick1: "echo 1.0.1\n",
    quick2: "echo 1.0.2\n",
    broken: "echo 'curl: (6) Could not resolve host: example.org' >&2\nexit 6\n",
    slowpoke: "sleep 2.5\necho 9.9.9\n",
  };

  test("in a terminal: a live line with done, running, failed and the slowest still running", async () => {
    const dir = agents(spec);
    const { output, exitCode } = await onTerminal(["version-check", "--only", "host", "--agents", dir]);
    expect(exitCode).toBe(1);
    const frames = framesOf(output);
    expect(frames).toContain("checking 4 agents on the host: 0 of 4 done, 1 running");
    expect(
      frames.some((f) =>
        /^checking 4 agents on the host: 3 of 4 done, 1 running, 1 failed; slowest: slowpoke [12]s$/.test(f),
      ),
    ).toBe(true);
    expect(frames).toContain("checking 4 agents on the host: 4 of 4 done, 0 running, 1 failed");
    // The table follows on a clean line.
    expect(output).toMatch(/\x1b\[2KAGENT +VERSION/);
  });

  test("in a terminal, checks in the image: the live line counts each agent as it ends, at most --jobs running, the slowest named", async () => {
    const dir = agents({
      "a-quick": "echo 1.0.1\n",
      "b-broken": spec.broken,
      "c-slow": "sleep 3\necho 9.9.9\n",
      "d-quick": "echo 1.0.4\n",
    });
    const { output, exitCode } = await onTerminal(["version-check", "--only", "image", "--jobs", "2", "--agents", dir]);
    expect(exitCode).toBe(1);
    const frames = framesOf(output).filter((f) => f.startsWith("checking 4 agents in the image: "));
    // Three done while the slow one still runs, for a second or more: the count moved before the end.
    expect(frames.some((f) => /: 3 of 4 done, 1 running, 1 failed; slowest: c-slow [123]s$/.test(f))).toBe(true);
    expect(frames.at(-1)).toBe("checking 4 agents in the image: 4 of 4 done, 0 running, 1 failed");
    // As many running as the container runs at once: two with --jobs 2, never more.
    const running = frames.map((f) => Number(/(\d+) running/.exec(f)![1]));
    expect(Math.max(...running)).toBe(2);
    // Done only counts up.
    const done = frames.map((f) => Number(/: (\d+) of 4 done/.exec(f)![1]));
    expect(done).toEqual([...done].sort((a, b) => a - b));
    expect(output).toMatch(/\x1b\[2KAGENT +VERSION/);
  }, 120_000);

  test("TERM=dumb: no cursor moves and no colour, on a terminal all the same", async () => {
    const { output, exitCode } = await onTerminal(["version-check", "--only", "host", "--agents", agents(spec)], {
      TERM: "dumb",
    });
    expect(exitCode).toBe(1);
    expect(output).not.toContain(ESC);
    expect(output).toMatch(/^AGENT +VERSION/m);
    expect(output).toContain("1 of 4 version checks failed");
  });

  test("a terminal that reports 0 columns: the live line is not cut to 20 characters", async () => {
    const { output } = await onTerminal(["version-check", "--only", "host", "--agents", agents(spec)], {}, 0);
    expect(framesOf(output)).toContain("checking 4 agents on the host: 0 of 4 done, 1 running");
  });

  test("not a terminal: nothing but the table on stdout and the error line on stderr", async () => {
    const dir = agents(spec);
    const { exitCode, stdout, stderr } = await runCli(["version-check", "--only", "host", "--agents", dir], {
      env: NEUTRAL,
    });
    expect(exitCode).toBe(1);
    expect(stderr).toBe("[error] 1 of 4 version checks failed\n");
    expect(stdout.trim().split("\n")).toHaveLength(5);
    // One short cause in the table: where, the exit code, the script's last line.
    expect(stdout).toMatch(/^broken +- +- +\d+ms +host: exit 6: curl: \(6\) Could not resolve host: example\.org$/m);
    expect(stdout + stderr).not.toContain(ESC);
  });
});
