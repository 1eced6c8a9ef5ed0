// The line a failed util image build is reported with, made from a real engine's build
// progress: test/fixtures/recorded/buildkit-fail.jsonl (Docker 20.10's BuildKit, a RUN step
// that prints "about-to-fail" and exits 3) replayed as the answer to POST /build.
import { describe, expect, test } from "bun:test";
import type { DockerClient } from "../../src/docker/client.ts";
import { UtilImageBuildError, buildUtilImage } from "../../src/util-images/build-util-image.ts";
import { recorded } from "../helpers/recorded.ts";

/** An engine whose every POST /build answers the recorded bytes. */
function replayingEngine(fixture: string): DockerClient {
  return {
    async stream(_method: string, _path: string, options: { body?: ReadableStream<Uint8Array> }) {
      // The context is read as the engine would read it.
      if (options.body) for await (const _ of options.body);
      return new Response(recorded(fixture)).body!;
    },
  } as unknown as DockerClient;
}

const TAG = "ghcr.io/aicage/aicage-image-util:version-check-0.0.0";

describe("a failed util image build", () => {
  test("one short line: the tag, the step, its exit code and the step's own last line, not the command twice", async () => {
    const error = await buildUtilImage(replayingEngine("buildkit-fail.jsonl"), "version-check", TAG, {
      network: "host",
    }).catch((e) => e);
    expect(error).toBeInstanceOf(UtilImageBuildError);
    expect(error.message).toBe(
      `build of ${TAG} failed at step [3/3] RUN echo about-to-fail && exit 3 (exit code 3): about-to-fail`,
    );
    // The whole step and the builder's whole reason stay with the error, for a log.
    expect(error.detail).toBe(
      "failed at step [3/3] RUN echo about-to-fail && exit 3: executor failed running [/bin/sh -c echo about-to-fail && exit 3]: exit code: 3",
    );
  });

  test("without a network for RUN steps the line says what to try", async () => {
    const saved = process.env.AICAGE_UTIL_BUILD_NETWORK;
    delete process.env.AICAGE_UTIL_BUILD_NETWORK;
    try {
      const error = await buildUtilImage(replayingEngine("buildkit-fail.jsonl"), "builder", TAG).catch((e) => e);
      expect(error.message).toEndWith(
        "(exit code 3): about-to-fail (no network for RUN steps? try AICAGE_UTIL_BUILD_NETWORK=host)",
      );
    } finally {
      if (saved !== undefined) process.env.AICAGE_UTIL_BUILD_NETWORK = saved;
    }
  });
});
