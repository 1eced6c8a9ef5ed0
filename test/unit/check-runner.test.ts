// The check runner (src/version-check/runner.sh) holds no value of its own: run-in-image.ts
// passes every one as an argument (RUNNER_SETTINGS). These tests hold the two files together:
// the shell reads the arguments in the order the TypeScript gives them, and names none of the
// values itself. (That shellcheck finds nothing wrong with it: test/integration/runner-shellcheck.test.ts.)
import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { RUNNER, RUNNER_SETTINGS, runnerArguments } from "../../src/version-check/run-in-image.ts";

const FILE = path.join(import.meta.dir, "..", "..", "src", "version-check", "runner.sh");
const text = readFileSync(FILE, "utf8");

describe("the check runner (runner.sh)", () => {
  test("the embedded runner is the bytes of runner.sh", () => {
    expect(Buffer.from(RUNNER)).toEqual(readFileSync(FILE));
  });

  test("its first lines read the arguments run-in-image.ts gives, in that order, and leave the scripts", () => {
    // The runner up to its first command that does more than read its arguments.
    const prologue = text.slice(0, text.indexOf("\ncount="));
    expect(prologue).toContain("\nshift ");
    const names = [...Object.keys(RUNNER_SETTINGS), "jobs", "limit", "cap", "names"];
    const values = [...Object.values(RUNNER_SETTINGS).map(String), "3", "60", "1000", "GITHUB_TOKEN GH_TOKEN"];
    const probe = `${prologue}\nfor name in ${names.join(" ")}; do printf '%s=%s\\n' "$name" "\${!name}"; done\nprintf 'rest=%s\\n' "$*"\n`;
    const scripts = [
      { file: "version.sh", crlf: false },
      { file: "v 2.sh", crlf: true },
    ];
    const run = Bun.spawnSync([
      "bash",
      "-c",
      probe,
      "aicage-version-check",
      ...runnerArguments(3, 60, 1000, ["GITHUB_TOKEN", "GH_TOKEN"], scripts),
    ]);
    expect(run.stderr.toString()).toBe("");
    expect(run.exitCode).toBe(0);
    expect(run.stdout.toString()).toBe(
      [...names.map((name, i) => `${name}=${values[i]}`), "rest=version.sh 0 v 2.sh 1", ""].join("\n"),
    );
  });

  test("names none of the values it is given (their home is the TypeScript)", () => {
    const values = Object.values(RUNNER_SETTINGS).flatMap((value) => String(value).split(" "));
    // Small numbers (the kill grace) occur in any shell text; the others must not.
    const telling = values.filter((value) => !/^\d{1,2}$/.test(value));
    expect(telling.length).toBeGreaterThan(10);
    expect(telling.filter((value) => text.includes(value))).toEqual([]);
  });

  // The status files are real: /proc/PID/status of a sleeping process and of a zombie, read on
  // this kernel. A folder in their place makes the read fail after the open succeeded, as a
  // process that ends while it is read does.
  test("reads a process's user and state from /proc; one that cannot be read leaves both empty under set -u", () => {
    const start = text.indexOf("\nread_status() {\n");
    const readStatus = text.slice(start, text.indexOf("\n}\n", start) + 3);
    const root = mkdtempSync(path.join(tmpdir(), "aicage-proc-"));
    try {
      for (const [pid, name] of [
        ["101", "sleeping"],
        ["102", "zombie"],
      ]) {
        mkdirSync(path.join(root, pid));
        writeFileSync(
          path.join(root, pid, "status"),
          readFileSync(path.join(import.meta.dir, "..", "fixtures", "recorded", `proc-status-${name}.txt`)),
        );
      }
      mkdirSync(path.join(root, "103", "status"), { recursive: true }); // opens, cannot be read
      mkdirSync(path.join(root, "104")); // gone: no status at all
      mkdirSync(path.join(root, "105")); // cut short before its user
      writeFileSync(path.join(root, "105", "status"), "Name:\tsleep\nState:\tS (sleeping)\n");
      const probe = `set -u\n${readStatus}\nfor p in "$@"; do
  read_status "$p" && echo "yes [$status_uid] [$status_state]" || echo "no [$status_uid] [$status_state]"
done\n`;
      const run = Bun.spawnSync([
        "bash",
        "-c",
        probe,
        "probe",
        ...["101", "103", "102", "104", "105"].map((pid) => path.join(root, pid)),
      ]);
      expect(run.stderr.toString()).toBe("");
      expect(run.stdout.toString().split("\n")).toEqual([
        "yes [65534] [S]",
        "no [] []",
        "yes [65534] [Z]",
        "no [] []",
        "no [] [S]",
        "",
      ]);
      expect(run.exitCode).toBe(0);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
