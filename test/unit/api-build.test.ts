// buildThroughApi against a stand-in engine: the BuildKit attempt, the fall back to the classic
// builder when the engine has no BuildKit, and a build failure with its step. (The fall back
// decision is the code under test; real engines' builds are tested in test/integration.)
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildThroughApi } from "../../src/workloads/api-build.ts";
import { eventLine } from "../../src/workloads/build-events.ts";
import { BuildStepError } from "../../src/workloads/build-step-error.ts";
import { scanBuildContext } from "../../src/local-build/context/scan.ts";
import { tarBuildContext } from "../../src/local-build/context/tar.ts";
import type { DockerClient, RequestOptions } from "../../src/docker/client.ts";
import { apiErrorFor } from "../../src/docker/errors.ts";

const dir = mkdtempSync(join(tmpdir(), "aicage-via-api-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, "Dockerfile"), "FROM scratch\n");

/** An engine that answers each POST /build with the next reply; records the queries and bodies it got. */
function fakeEngine(replies: Array<Error | object[]>) {
  const calls: Array<{ query: RequestOptions["query"]; bodyBytes: number }> = [];
  const client = {
    async stream(_method: string, _path: string, options: RequestOptions) {
      let bodyBytes = 0;
      for await (const chunk of options.body as ReadableStream<Uint8Array>) bodyBytes += chunk.length;
      calls.push({ query: options.query, bodyBytes });
      const reply = replies.shift()!;
      if (reply instanceof Error) throw reply;
      const text = reply.map((message) => `${JSON.stringify(message)}\r\n`).join("");
      return new Response(text).body!;
    },
  } as unknown as DockerClient;
  return { client, calls };
}

const classicSuccess = [
  { stream: "Step 1/1 : FROM scratch\n" },
  { stream: " ---> Running in 0123\n" },
  { aux: { ID: "sha256:classic" } },
  { stream: "Successfully built classic\n" },
];

const context = await scanBuildContext({ contextDir: dir, dockerfile: "Dockerfile" });
const settings = { tags: ["t:1"], dockerfile: context.dockerfile, buildArgs: {}, labels: { a: "b" } };
const buildViaApi = (client: DockerClient, hooks: Parameters<typeof buildThroughApi>[3] = {}) =>
  buildThroughApi(client, () => tarBuildContext(context), settings, hooks);

describe("buildThroughApi", () => {
  test("an engine that refuses BuildKit gets the classic builder, a fresh tar, and one notice", async () => {
    const { client, calls } = fakeEngine([
      apiErrorFor(400, "buildkit is only supported with experimental mode", "build t:1"),
      classicSuccess,
    ]);
    const notices: string[] = [];
    const lines: string[] = [];
    const result = await buildViaApi(client, {
      onNotice: (m) => notices.push(m),
      onEvent: (e) => lines.push(eventLine(e) ?? ""),
    });
    expect(result).toEqual({ imageId: "sha256:classic", builder: "classic" });
    expect(calls.map((c) => (c.query as Record<string, unknown>).version)).toEqual(["2", "1"]);
    expect(calls[1]!.bodyBytes).toBe(calls[0]!.bodyBytes);
    expect(calls[1]!.bodyBytes).toBeGreaterThan(0);
    expect(notices).toEqual([
      "the engine has no BuildKit (buildkit is only supported with experimental mode); building with the classic builder instead",
    ]);
    expect(lines).toContain("#1 [1/1] FROM scratch");
  });

  test("Windows' in-band 'executor not implemented' also falls back", async () => {
    const { client } = fakeEngine([
      [{ errorDetail: { message: "buildkit executor not implemented for windows" } }],
      classicSuccess,
    ]);
    expect((await buildViaApi(client)).builder).toBe("classic");
  });

  test("any other failure is the build's: no second attempt, the step named", async () => {
    const { client, calls } = fakeEngine([
      [
        { stream: "Step 1/2 : FROM scratch\n" },
        { stream: "Step 2/2 : RUN false\n" },
        { errorDetail: { message: "exit code: 1" } },
      ],
    ]);
    const error = await buildViaApi(client).catch((e) => e);
    expect(error).toBeInstanceOf(BuildStepError);
    expect(error.step).toBe("[2/2] RUN false");
    expect(error.reason).toBe("exit code: 1");
    expect(calls).toHaveLength(1);
  });

  test("a refusal for another reason is not a fall back", async () => {
    const { client, calls } = fakeEngine([apiErrorFor(500, "no space left on device", "build t:1")]);
    await expect(buildViaApi(client)).rejects.toThrow("no space left on device");
    expect(calls).toHaveLength(1);
  });
});
