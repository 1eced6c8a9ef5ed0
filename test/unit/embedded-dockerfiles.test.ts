import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { UTIL_IMAGE_KINDS, dockerfileHash, embeddedDockerfile } from "../../src/util-images/catalog.ts";

const repoFile = (kind: string) => readFileSync(join(import.meta.dir, "..", "..", "images", kind, "Dockerfile"));

describe("embedded Dockerfiles", () => {
  for (const kind of UTIL_IMAGE_KINDS) {
    test(`${kind}: the bytes in the binary are the bytes in images/${kind}/Dockerfile`, () => {
      expect(Buffer.from(embeddedDockerfile(kind))).toEqual(repoFile(kind));
      expect(dockerfileHash(kind)).toBe(createHash("sha256").update(repoFile(kind)).digest("hex"));
    });
  }
});
