// Engine identity from real /version and /info answers, recorded from the engines the suite
// runs against (Docker 20.10 rootful and rootless, Podman 4.3.1).
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { identityFrom } from "../../src/workloads/engine-kind.ts";

const recorded = (name: string) =>
  JSON.parse(readFileSync(join(import.meta.dir, "../fixtures/recorded/engines", `${name}.json`), "utf8"));

describe("identityFrom", () => {
  test("Podman reports its own version under Docker's fields: it is named Podman, builds with buildah", () => {
    const identity = identityFrom(recorded("podman4-version"), recorded("podman4-info"), "1.41");
    expect(identity).toMatchObject({
      product: "Podman",
      version: "4.3.1",
      apiVersion: "1.41",
      apiBuilder: "buildah",
      builderImageWorks: false,
      rootless: false,
    });
  });

  test("Docker 20.10 (Debian's build names no platform): Docker Engine with BuildKit", () => {
    const identity = identityFrom(recorded("docker20-version"), recorded("docker20-info"), "1.41");
    expect(identity).toMatchObject({
      product: "Docker Engine",
      apiBuilder: "buildkit",
      builderImageWorks: true,
      rootless: false,
    });
    expect(identity.version).toMatch(/^20\.10\./);
  });

  test("rootless Docker says so in its security options", () => {
    const identity = identityFrom(recorded("rootless-version"), recorded("rootless-info"), "1.41");
    expect(identity).toMatchObject({ product: "Docker Engine", rootless: true });
  });
});
