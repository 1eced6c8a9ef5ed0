// Util image builds across processes (issue 11, item 19): three `images build` at once build
// once, and all three answer the ID the tag points to; a lock left by a process that died
// does not block the next build.
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import { findImage } from "../../src/docker/images.ts";
import { acquireFileLock } from "../../src/lib/file-lock.ts";
import { utilImageLockPath } from "../../src/util-images/build-lock.ts";
import { BUN, CLI_TEST_ENV, REPO_ROOT, tempDir, testClient } from "../helpers/engine.ts";
import { engineSuite } from "../helpers/suite.ts";

const client = testClient();
const RUN = `${process.pid}-${Date.now().toString(36)}`;
// The builder image's layers are the cache the builds below reuse: seconds, not minutes.
const { madeImages } = engineSuite(["builder"], client);

interface BuildAnswer {
  images: Array<{ kind: string; tag: string; id: string; built: boolean }>;
}

function imagesBuild(tag: string, stateDir: string) {
  const proc = Bun.spawn(
    [BUN, join(REPO_ROOT, "src", "cli.ts"), "images", "build", "builder", "--builder-image", tag, "--json"],
    {
      env: { ...process.env, ...CLI_TEST_ENV, AICAGE_UTIL_STATE_DIR: stateDir },
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  return Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]).then(
    ([exitCode, stdout, stderr]) => {
      if (exitCode !== 0) throw new Error(`images build exited ${exitCode}: ${stderr}`);
      return { answer: JSON.parse(stdout) as BuildAnswer, stderr };
    },
  );
}

describe("util image builds across processes", () => {
  test("three `images build` at once: one builds, the others wait and take its image; all answer what the tag names", async () => {
    const tag = `aicage-util-test/lock-builder:${RUN}`;
    const state = tempDir("aicage-lock-state-");
    // "At once" made sure of: the test holds the lock while the three start, so each finds it
    // taken and waits (a build quicker than a process's start would otherwise end before the
    // third one asks, which then builds again, as asked).
    const held = await acquireFileLock(utilImageLockPath(client, tag, { AICAGE_UTIL_STATE_DIR: state }));
    const started = [imagesBuild(tag, state), imagesBuild(tag, state), imagesBuild(tag, state)];
    await Bun.sleep(8_000);
    held.release();
    const runs = await Promise.all(started);
    const answers = runs.map((run) => run.answer.images[0]!);
    for (const answer of answers) madeImages.push(answer.id);
    const current = (await findImage(client, tag))!.Id;
    madeImages.push(current);
    expect(answers.map((answer) => answer.id)).toEqual([current, current, current]);
    expect(answers.filter((answer) => answer.built)).toHaveLength(1);
    // The lock is gone with the last of them.
    expect(readdirSync(join(state, "locks"))).toEqual([]);
  }, 600_000);

  test("a lock left by a process that is gone is broken, and the build goes on", async () => {
    const tag = `aicage-util-test/lock-stale:${RUN}`;
    const state = tempDir("aicage-lock-state-");
    const gone = Bun.spawnSync(["true"]).pid;
    const lock = utilImageLockPath(client, tag, { AICAGE_UTIL_STATE_DIR: state });
    mkdirSync(dirname(lock), { recursive: true });
    writeFileSync(
      lock,
      JSON.stringify({ pid: gone, host: hostname(), since: new Date(Date.now() - 60_000).toISOString() }),
    );
    const started = performance.now();
    const { answer } = await imagesBuild(tag, state);
    madeImages.push(answer.images[0]!.id);
    expect(answer.images[0]).toMatchObject({ built: true, id: (await findImage(client, tag))!.Id });
    expect(performance.now() - started).toBeLessThan(300_000);
    expect(existsSync(lock)).toBe(false);
  }, 600_000);
});
