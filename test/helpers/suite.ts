// The frame most integration files share, registered by calling engineSuite() at the top of
// the file: before its tests, a leak watch and the util images they need (built once per run
// on the Debian test base, reused after); after them, the images the tests made are removed,
// newest first, and nothing may be left that the watch counts (containers, untagged images,
// temporary files).
import { afterAll, beforeAll, expect } from "bun:test";
import type { DockerClient } from "../../src/docker/client.ts";
import { NotFoundError } from "../../src/docker/errors.ts";
import { removeImage } from "../../src/docker/images.ts";
import type { UtilImageKind } from "../../src/util-images/catalog.ts";
import { ensureUtilImage } from "../../src/util-images/ensure.ts";
import { BASE_IMAGE, leakWatch, testClient } from "./engine.ts";

export interface EngineSuite {
  /** Image IDs or tags the tests made; removed at the end, newest first. */
  madeImages: string[];
  /** The ID of each util image the suite asked for, once beforeAll has run. */
  utilImageIds: Partial<Record<UtilImageKind, string>>;
  /** What was made since the suite started and is still there. */
  leaked(): Promise<string[]>;
}

export function engineSuite(kinds: UtilImageKind[], client: DockerClient = testClient()): EngineSuite {
  let watch: Awaited<ReturnType<typeof leakWatch>> | undefined;
  const suite: EngineSuite = {
    madeImages: [],
    utilImageIds: {},
    leaked: () => (watch ? watch.leaked() : Promise.reject(new Error("engineSuite: beforeAll has not run"))),
  };
  beforeAll(async () => {
    watch = await leakWatch(client);
    for (const kind of kinds) {
      suite.utilImageIds[kind] = (await ensureUtilImage(client, kind, { baseImage: BASE_IMAGE, network: "host" })).id;
    }
  }, 900_000);
  afterAll(async () => {
    for (const image of [...new Set(suite.madeImages)].reverse()) {
      await removeImage(client, image, { force: true }).catch((error) => {
        if (!(error instanceof NotFoundError)) throw error;
      });
    }
    expect(await suite.leaked()).toEqual([]);
  });
  return suite;
}
