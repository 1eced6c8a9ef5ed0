// Files the tool reads that others may have put there (issue 23, item 2): a FIFO in a file's
// place never blocks the run (a blocking open or read of one waits for a writer for ever, deaf
// to Ctrl-C), and no such file is read past its cap. Each case ends within a second here.
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UsageError } from "../../src/core/errors.ts";
import { openDigestCache } from "../../src/local-build/context/digest-cache.ts";
import { readChunks } from "../../src/local-build/context/file-chunks.ts";
import { scanBuildContext } from "../../src/local-build/context/scan.ts";
import { acquireFileLock } from "../../src/lib/file-lock.ts";
import { readRecord, writeRecord } from "../../src/version-check/records.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function temp(): string {
  const dir = mkdtempSync(join(tmpdir(), "aicage-bounded-reads-"));
  dirs.push(dir);
  return dir;
}
/** Puts a FIFO nobody writes to where `file` was. */
function fifoAt(file: string): void {
  rmSync(file, { force: true });
  expect(spawnSync("mkfifo", [file]).status).toBe(0);
}
async function failureOf(work: Promise<unknown>): Promise<unknown> {
  return work.then(
    () => "succeeded",
    (error: unknown) => error,
  );
}

describe("state files: a FIFO or a device in their place is read as none", () => {
  test("a version record", () => {
    const state = temp();
    const saved = process.env.AICAGE_UTIL_STATE_DIR;
    process.env.AICAGE_UTIL_STATE_DIR = state;
    try {
      const checkedAt = new Date().toISOString();
      writeRecord({
        agent: "a",
        script: "/x/a/version.sh",
        version: "1.2.3",
        source: "host",
        checkedAt,
        scriptSha256: "0",
      });
      expect(readRecord("/x/a/version.sh", "a")?.version).toBe("1.2.3");
      const file = join(state, "version-checks", readdirSync(join(state, "version-checks"))[0]!);
      fifoAt(file);
      expect(readRecord("/x/a/version.sh", "a")).toBeUndefined();
      unlinkSync(file);
      symlinkSync("/dev/zero", file);
      expect(readRecord("/x/a/version.sh", "a")).toBeUndefined();
    } finally {
      if (saved === undefined) delete process.env.AICAGE_UTIL_STATE_DIR;
      else process.env.AICAGE_UTIL_STATE_DIR = saved;
    }
  });

  test("a build's digest cache", () => {
    const file = join(temp(), "digests.json");
    fifoAt(file);
    const cache = openDigestCache(file);
    expect(cache.get("a", { key: "k", changedMs: 0 })).toBeUndefined();
  });

  test("a lock file: its owner is unknown, the waiter is told and may give up", async () => {
    const file = join(temp(), "build.lock");
    fifoAt(file);
    const controller = new AbortController();
    const told: unknown[] = [];
    const waiting = acquireFileLock(file, {
      signal: controller.signal,
      pollMs: 20,
      onWait: (owner) => {
        told.push(owner);
        controller.abort(new Error("gave up"));
      },
    });
    expect(((await failureOf(waiting)) as Error).message).toBe("gave up");
    expect(told).toEqual([undefined]);
  });
});

describe("build inputs", () => {
  function context(): string {
    const dir = temp();
    writeFileSync(join(dir, "Dockerfile"), "FROM scratch\nCOPY data.bin /\n");
    writeFileSync(join(dir, "data.bin"), "0123456789");
    return dir;
  }
  const scan = (dir: string, dockerfile = "Dockerfile") =>
    scanBuildContext({ contextDir: dir, dockerfile, allowDockerfileOutside: true });

  test("a .dockerignore that is a FIFO or a device: refused with one line, not read", async () => {
    const dir = context();
    fifoAt(join(dir, ".dockerignore"));
    const error = await failureOf(scan(dir));
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toBe(`${join(dir, ".dockerignore")} is a FIFO, not a regular file`);
    unlinkSync(join(dir, ".dockerignore"));
    symlinkSync("/dev/zero", join(dir, "Dockerfile.dockerignore"));
    expect(((await failureOf(scan(dir))) as Error).message).toBe(
      `${join(dir, "Dockerfile.dockerignore")} is a character device, not a regular file`,
    );
  });

  test("a Dockerfile larger than 16 MiB is refused, not read whole", async () => {
    const dir = context();
    const outside = join(temp(), "Dockerfile");
    writeFileSync(outside, `FROM scratch\n${"# padding\n".repeat(1_700_000)}`);
    const error = await failureOf(scan(dir, outside));
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toBe(`Dockerfile ${outside} is larger than 16 MiB`);
  });

  test("a context file swapped for a FIFO after the scan: the packing fails at once, naming it", async () => {
    const dir = context();
    const { entries } = await scan(dir);
    const data = entries.find((entry) => entry.path === "data.bin")!;
    fifoAt(join(dir, "data.bin"));
    const read = (async () => {
      for await (const _ of readChunks(dir, data, () => new Uint8Array(4096))) {
        // nothing to keep
      }
    })();
    expect(((await failureOf(read)) as Error).message).toBe(
      `build context changed while packing: data.bin: ${join(dir, "data.bin")}: not a regular file (a FIFO)`,
    );
  });
});
