// runContainer honours an abort at any moment: before the create request leaves, while the
// engine is creating the container, while files are copied in, while it starts, and while it
// runs. Whatever the moment, the promise rejects with the abort's reason and no container is
// left, not even one the engine finished creating after the abort. (On the 2-core test
// machine the create takes about 35 ms, the upload 100 ms, the start 300-450 ms.)
import { afterAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { listContainers } from "../../src/docker/containers.ts";
import { managedLabels } from "../../src/core/labels.ts";
import { type RunContainerOptions, runContainer } from "../../src/workloads/run-container.ts";
import { tarOfFiles } from "../../src/lib/memory-tar.ts";
import { BASE_IMAGE, testClient } from "../helpers/engine.ts";

const client = testClient();
// This file's containers only: other sessions may share the engine.
const RUN_LABEL = "org.aicage.test.run";
const run = randomBytes(8).toString("hex");
const spec = {
  Image: BASE_IMAGE,
  Cmd: ["sleep", "60"],
  Labels: managedLabels({ [RUN_LABEL]: run }),
  HostConfig: { NetworkMode: "none" },
};
const copyIn = [{ path: "/", archive: () => tarOfFiles({ "copied/file": "bytes" }) }];

async function ours(): Promise<string[]> {
  return (await listContainers(client, { labels: { [RUN_LABEL]: run }, all: true })).map(
    (c) => `${c.Names[0]} ${c.State}`,
  );
}

async function abortedRun(abortAt: (abort: () => void) => void, options: RunContainerOptions = {}) {
  const controller = new AbortController();
  const reason = new Error("stop now");
  const started = performance.now();
  const pending = runContainer(client, spec, { copyIn, ...options, signal: controller.signal });
  abortAt(() => controller.abort(reason));
  const error = await pending.then(
    () => new Error("the run was not aborted"),
    (e) => e,
  );
  return { error, reason, ms: performance.now() - started };
}

afterAll(async () => {
  expect(await ours()).toEqual([]);
});

describe("runContainer aborted", () => {
  for (const ms of [0, 5, 30, 60, 200, 400]) {
    test(`${ms} ms after the call: rejects with the reason, no container left`, async () => {
      const {
        error,
        reason,
        ms: took,
      } = await abortedRun((abort) => (ms === 0 ? abort() : void setTimeout(abort, ms)));
      expect(error).toBe(reason);
      // At once (the engine's create and remove round trips), not when `sleep 60` ends.
      expect(took).toBeLessThan(10_000);
      expect(await ours()).toEqual([]);
    });
  }

  test("before the call: rejects without creating anything", async () => {
    const controller = new AbortController();
    controller.abort(new Error("already"));
    let created = false;
    const error = await runContainer(client, spec, {
      signal: controller.signal,
      onCreated: () => (created = true),
    }).catch((e) => e);
    expect(error.message).toBe("already");
    expect(created).toBe(false);
    expect(await ours()).toEqual([]);
  });

  test("while the engine creates it: the container it then makes is found and removed", async () => {
    let created: string | undefined;
    // The create request has left when runContainer returns its promise.
    const { error, reason } = await abortedRun((abort) => abort(), { onCreated: (id) => (created = id) });
    expect(error).toBe(reason);
    expect(created).toBeUndefined();
    expect(await ours()).toEqual([]);
  });

  test("while files are copied in", async () => {
    let abortNow = () => {};
    const { error, reason } = await abortedRun((abort) => (abortNow = abort), {
      copyIn: [
        {
          path: "/",
          archive: () => {
            abortNow();
            return tarOfFiles({ "copied/file": "bytes" });
          },
        },
      ],
    });
    expect(error).toBe(reason);
    expect(await ours()).toEqual([]);
  });

  test("once it runs", async () => {
    let running = false;
    const { error, reason, ms } = await abortedRun(
      (abort) =>
        void (async () => {
          while ((await ours()).every((c) => !c.endsWith("running"))) await Bun.sleep(20);
          running = true;
          abort();
        })(),
    );
    expect(running).toBe(true);
    expect(error).toBe(reason);
    expect(ms).toBeLessThan(20_000);
    expect(await ours()).toEqual([]);
  });

  test("files copied in before the start are there when it runs, with the tar's owners and modes", async () => {
    const archive = await tarOfFiles({ "copied/script.sh": { content: "echo from-the-archive\n", mode: 0o640 } });
    const result = await runContainer(
      client,
      { ...spec, Cmd: ["bash", "-c", "stat -c '%a %u:%g' /copied/script.sh; bash /copied/script.sh"] },
      { copyIn: [{ path: "/", archive: () => archive }] },
    );
    expect([result.exitCode, result.stdout]).toEqual([0, "640 0:0\nfrom-the-archive\n"]);
  });

  test("an archive that fails while it is sent fails the run with its own error, not as an unreachable engine", async () => {
    const head = await tarOfFiles({ "copied/file": "bytes" });
    const failing = () =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(head.subarray(0, 512));
        },
        pull(controller) {
          controller.error(
            Object.assign(new Error("agent folder changed while it was copied: a/b: ENOENT"), { code: "ENOENT" }),
          );
        },
      });
    const error = await runContainer(client, spec, { copyIn: [{ path: "/", archive: failing }] }).catch((e) => e);
    expect(error.message).toBe("agent folder changed while it was copied: a/b: ENOENT");
    expect(await ours()).toEqual([]);
  });
});
