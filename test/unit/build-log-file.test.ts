import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  closeSync,
  existsSync,
  openSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UsageError } from "../../src/core/errors.ts";
import { TAIL_LINES, defaultLogPath, openBuildLog } from "../../src/local-build/log-file.ts";

const dir = mkdtempSync(join(tmpdir(), "aicage-build-log-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("build log file", () => {
  test("default path: the state dir, UTC time, the tag made file-safe", () => {
    const at = new Date("2026-05-07T12:01:02.345Z");
    expect(defaultLogPath("ghcr.io/team/agent:1.2", at, { XDG_STATE_HOME: "/state" })).toBe(
      "/state/aicage-util/builds/20260507T120102.345Z-ghcr.io_team_agent_1.2.log",
    );
    expect(defaultLogPath("a:1", at, { HOME: "/home/me" })).toBe(
      "/home/me/.local/state/aicage-util/builds/20260507T120102.345Z-a_1.log",
    );
  });

  test("writes every line at once, notes apart from the tail, keeps the last lines", () => {
    const log = openBuildLog(join(dir, "new", "sub", "one.log"), { exclusive: true });
    log.note("header");
    for (let i = 1; i <= 25; i++) log.write(`line ${i}`);
    // Written already, before close: a killed process leaves a whole log.
    expect(readFileSync(log.path, "utf8")).toContain("line 25\n");
    log.note("done");
    log.close();
    expect(log.tail()).toHaveLength(TAIL_LINES);
    expect(log.tail()[0]).toBe(`line ${25 - TAIL_LINES + 1}`);
    expect(log.tail().at(-1)).toBe("line 25");
    const text = readFileSync(log.path, "utf8");
    expect(text.startsWith("# header\nline 1\n")).toBe(true);
    expect(text.endsWith("line 25\n# done\n")).toBe(true);
  });

  test("a new log is the user's alone (0600); a chosen file that exists keeps its mode", () => {
    const log = openBuildLog(join(dir, "private", "new.log"), { exclusive: true });
    log.close();
    expect(statSync(log.path).mode & 0o777).toBe(0o600);
    const existing = join(dir, "shared.log");
    writeFileSync(existing, "old\n", { mode: 0o640 });
    chmodSync(existing, 0o640);
    openBuildLog(existing, { exclusive: false }).close();
    expect(statSync(existing).mode & 0o777).toBe(0o640);
  });

  test("a default path is never overwritten; a chosen one is", () => {
    const file = join(dir, "same.log");
    const first = openBuildLog(file, { exclusive: true });
    const second = openBuildLog(file, { exclusive: true });
    expect(first.path).toBe(file);
    expect(second.path).toBe(join(dir, "same-2.log"));
    first.write("first");
    first.close();
    second.close();
    const chosen = openBuildLog(file, { exclusive: false });
    chosen.write("again");
    chosen.close();
    expect(readFileSync(file, "utf8")).toBe("again\n");
  });

  test("a note is one line whatever it holds; output lines lose escape sequences", () => {
    const log = openBuildLog(join(dir, "forge.log"), { exclusive: false });
    log.note("label: a=1\n# via: forged\r\u001b[2J");
    log.write("\u001b[32mgreen\u001b[0m and \u001b]0;title\u0007 bell\u0007");
    log.write("# via: forged by the build's own output");
    log.close();
    expect(readFileSync(log.path, "utf8")).toBe(
      "# label: a=1\\n# via: forged\\r\\x1b[2J\ngreen and  bell\\x07\n  # via: forged by the build's own output\n",
    );
    expect(log.tail()).toEqual(["green and  bell\\x07", "  # via: forged by the build's own output"]);
  });

  test("a chosen path in a folder that does not exist: refused, naming the folder, nothing created (issue 23)", () => {
    const missing = join(dir, "nonexistent", "dir");
    const error = (() => {
      try {
        openBuildLog(join(missing, "x.log"), { exclusive: false });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toBe(
      `build log ${join(missing, "x.log")}: the folder ${missing} does not exist; create it first`,
    );
    expect(existsSync(join(dir, "nonexistent"))).toBe(false);
  });

  test("a FIFO, with or without a reader, and a device: refused at once, never opened for a write that blocks (issue 23)", () => {
    const fifo = join(dir, "log.fifo");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    const refused = (file: string) => {
      try {
        openBuildLog(file, { exclusive: false }).close();
        return "opened";
      } catch (e) {
        return e instanceof UsageError ? e.message : String(e);
      }
    };
    // No reader: a blocking open would wait for ever (this test would hang).
    expect(refused(fifo)).toBe(`build log ${fifo} is a FIFO, not a regular file; choose a file for --log-file`);
    // With a reader (this process, read-write: such an open never blocks on Linux) the open
    // succeeds: what it is refuses it.
    const reader = openSync(fifo, "r+");
    try {
      expect(refused(fifo)).toBe(`build log ${fifo} is a FIFO, not a regular file; choose a file for --log-file`);
    } finally {
      closeSync(reader);
    }
    expect(refused("/dev/null")).toBe(
      "build log /dev/null is a character device, not a regular file; choose a file for --log-file",
    );
  });
});
