// A util image that cannot be pulled is built from the Dockerfile embedded in the binary, then
// used. CI runs this on the primary (BuildKit) and on Podman (buildah): the two builders the
// embedded Dockerfiles meet. Docker 26 and rootless Docker build through BuildKit as the primary
// does, and would spend a minute each rebuilding the image on a fresh machine.
import { describe, expect, test } from "bun:test";
import { removeImage } from "../../src/docker/images.ts";
import { REPO_ROOT, plainTags, runCli, testClient } from "../helpers/engine.ts";
import { engineSuite } from "../helpers/suite.ts";

const client = testClient();
const suite = engineSuite([], client);

/** Removes every tag of a repository, by the name the engine answers (Podman's is fully qualified). */
async function removeRepository(repository: string): Promise<void> {
  const images = await client.request<Array<{ RepoTags: string[] | null }>>("GET", "/images/json");
  for (const image of images)
    for (const tag of image.RepoTags ?? [])
      if (plainTags([tag])[0]!.startsWith(`${repository}:`)) await removeImage(client, tag);
}

describe("the util image itself", () => {
  test("missing and not pullable: it is built locally from the embedded Dockerfile, then used", async () => {
    const repository = `aicage-util-test/fresh-${process.pid}`;
    try {
      const run = await runCli([
        "version-check",
        "--json",
        "--network",
        "host",
        "--repository",
        repository,
        `${REPO_ROOT}/test/fixtures/agents-edge/multi-line`,
      ]);
      expect(JSON.parse(run.stdout).results[0]).toMatchObject({ ok: true, source: "image", version: "3.1.4" });
      expect(run.stderr).toContain(`could not pull ${repository}:version-check-`);
      expect(run.stderr).toContain("building it locally from the embedded Dockerfile");
      expect(run.exitCode).toBe(0);
    } finally {
      await removeRepository(repository);
    }
    // The build left nothing behind: no container, no untagged layer.
    expect(await suite.leaked()).toEqual([]);
  }, 600_000);
});
