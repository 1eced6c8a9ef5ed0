// Ctrl-C while the builder container is being created (issue 11, item 3): the create request
// is on its way to the engine, or its answer is, when the signal comes. The container must be
// found and removed, never started: no container, no image, exit 130. The signal is sent when a
// loopback proxy in front of the real engine sees the tool's POST /containers/create, and a few
// milliseconds after it.
import { describe, expect, test } from "bun:test";
import { cpSync } from "node:fs";
import { join } from "node:path";
import { findImage } from "../../src/docker/images.ts";
import { BASE_IMAGE, BUN, CLI_TEST_ENV, REPO_ROOT, tempDir, testClient } from "../helpers/engine.ts";
import { type EngineProxy, startEngineProxy } from "../helpers/engine-proxy.ts";
import { engineSuite } from "../helpers/suite.ts";

const client = testClient();
const RUN = `${process.pid}-${Date.now().toString(36)}`;
engineSuite(["builder"], client);

/** Containers, running or not, that mount a folder of this run. */
async function containersOfThisRun(): Promise<string[]> {
  const list = await client.request<Array<{ Id: string; Mounts?: Array<{ Source?: string }> }>>(
    "GET",
    "/containers/json",
    {
      query: { all: true },
    },
  );
  return list.filter((c) => c.Mounts?.some((m) => m.Source?.includes(RUN))).map((c) => c.Id);
}

describe("Ctrl-C while the builder container is being created", () => {
  for (const after of [0, 2, 5, 10, 20, 35]) {
    test(`SIGINT ${after} ms after the create request: exit 130, the container removed, no image`, async () => {
      const context = tempDir(`aicage-builder-int-${RUN}-`);
      cpSync(join(REPO_ROOT, "test", "fixtures", "builds", "tiny"), context, { recursive: true });
      const image = `aicage-util-test/builder-interrupt:${RUN}-${after}`;
      const proxy: EngineProxy = await startEngineProxy();
      try {
        const proc = Bun.spawn(
          [
            BUN,
            join(REPO_ROOT, "src", "cli.ts"),
            "build",
            context,
            "-t",
            image,
            "--network",
            "none",
            "--build-arg",
            `FROM_IMAGE=${BASE_IMAGE}`,
            "--via",
            "builder",
          ],
          {
            env: { ...process.env, ...CLI_TEST_ENV, DOCKER_HOST: proxy.host },
            stdout: "pipe",
            stderr: "pipe",
            stdin: "ignore",
          },
        );
        let sent = false;
        proxy.onRequest = (request) => {
          if (sent || request.method !== "POST" || !request.target.includes("/containers/create")) return;
          sent = true;
          setTimeout(() => proc.kill("SIGINT"), after);
        };
        const [exitCode, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
        expect({ sent, exitCode }).toEqual({ sent: true, exitCode: 130 });
        expect(stderr).not.toContain("    at ");
        expect(await containersOfThisRun()).toEqual([]);
        // A container that escaped would finish the build and tag the image within seconds.
        await Bun.sleep(3000);
        expect(await containersOfThisRun()).toEqual([]);
        expect(await findImage(client, image)).toBeUndefined();
      } finally {
        proxy.stop();
      }
    }, 120_000);
  }
});
