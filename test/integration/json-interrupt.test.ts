// --json promises one object on stdout, an interrupted run too: Ctrl-C or SIGTERM ends it with
// the error object (kind "interrupted", exit code 130 or 143), unless the command had printed
// its own answer. Checks on the host only: no engine is needed.
import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUN, CLI_TEST_ENV, REPO_ROOT, tempDir } from "../helpers/engine.ts";
import { validateJson } from "../helpers/json-schema.ts";

/** A version.sh that takes far longer than any test waits. */
function slowScript(): string {
  const path = join(tempDir("aicage-json-interrupt-"), "version.sh");
  writeFileSync(path, "sleep 30\necho 1.0.0\n", { mode: 0o644 });
  return path;
}

function start(args: string[]) {
  return Bun.spawn([BUN, join(REPO_ROOT, "src", "cli.ts"), ...args], {
    env: { ...process.env, ...CLI_TEST_ENV },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
}

async function finish(proc: ReturnType<typeof start>) {
  const [exitCode, stdout, stderr] = await Promise.all([
    proc.exited,
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
  ]);
  return { exitCode, stdout, stderr };
}

/** Whether the process has a handler for SIGINT: bit 2 of SigCgt in /proc/PID/status. */
function handlesSigint(pid: number): boolean {
  try {
    const caught = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return caught !== undefined && (BigInt(`0x${caught}`) & 2n) === 2n;
  } catch {
    return false; // not there yet
  }
}

const interrupted = (exitCode: number) => ({
  schemaVersion: 1,
  error: { kind: "interrupted", exitCode, message: "interrupted" },
});

describe("a signal under --json", () => {
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const) {
    test(`${signal} while a check runs: exit ${code}, the error object on stdout, valid by schemas/error.schema.json`, async () => {
      const proc = start(["version-check", "--only", "host", "--json", slowScript()]);
      await Bun.sleep(700);
      proc.kill(signal);
      const { exitCode, stdout, stderr } = await finish(proc);
      // The message is the last line on stderr, as for every error object.
      expect({ exitCode, stderr }).toEqual({ exitCode: code, stderr: "[error] interrupted\n" });
      const answer = JSON.parse(stdout);
      validateJson("error", answer);
      expect(answer).toEqual(interrupted(code));
    });
  }

  test("SIGINT the moment the handler is in place (the entry answers from there on): the object all the same", async () => {
    const proc = start(["version-check", "--only", "host", "--json", slowScript()]);
    const deadline = performance.now() + 10_000;
    while (!handlesSigint(proc.pid) && performance.now() < deadline) await Bun.sleep(1);
    proc.kill("SIGINT");
    const { exitCode, stdout } = await finish(proc);
    expect(exitCode).toBe(130);
    expect(JSON.parse(stdout)).toEqual(interrupted(130));
  });

  test("without --json: exit 130, nothing on stdout or stderr, as before", async () => {
    const proc = start(["version-check", "--only", "host", slowScript()]);
    await Bun.sleep(700);
    proc.kill("SIGINT");
    const { exitCode, stdout, stderr } = await finish(proc);
    expect({ exitCode, stdout, stderr }).toEqual({ exitCode: 130, stdout: "", stderr: "" });
  });
});

describe("the last answer (cli/output.ts printLastJson)", () => {
  /** Runs `body` in a process of its own with output.ts's exports in scope; answers its stdout. */
  async function stdoutOf(body: string): Promise<string> {
    const script = `import { printJson, printLastJson, printResult } from ${JSON.stringify(join(REPO_ROOT, "src", "cli", "output.ts"))};\n${body}\n`;
    const proc = Bun.spawn([BUN, "-e", script], { stdout: "pipe", stderr: "inherit", stdin: "ignore" });
    const [stdout, exitCode] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
    expect(exitCode).toBe(0);
    return stdout;
  }

  test("not after the command's own answer, and nothing after it", async () => {
    const answered = await stdoutOf(
      `printJson({ results: [] }); await printLastJson({ error: "late" }); printJson({ more: 1 });`,
    );
    expect(JSON.parse(answered)).toEqual({ schemaVersion: 1, results: [] });
    const table = await stdoutOf(`printResult("AGENT  VERSION"); await printLastJson({ error: "late" });`);
    expect(table).toBe("AGENT  VERSION\n");
    const first = await stdoutOf(
      `await printLastJson({ error: "first" }); printJson({ results: [] }); printResult("x");`,
    );
    expect(JSON.parse(first)).toEqual({ schemaVersion: 1, error: "first" });
  });
});
