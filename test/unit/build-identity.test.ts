import { describe, expect, test } from "bun:test";
import { toolVersion } from "../../src/core/tool-info.ts";
import { API_BUILDER, type BuildInputs, buildInputsHash, imageLabels } from "../../src/local-build/image-identity.ts";
import { proxyVariables as proxyBuildArgs } from "../../src/lib/proxy-env.ts";
import { changedBaseImages, recordedBaseImages } from "../../src/local-build/base-images.ts";

const inputs: BuildInputs = {
  contextHash: "sha256:aaaa",
  dockerfile: new TextEncoder().encode("FROM scratch\n"),
  buildArgs: { A: "1", B: "2" },
  labels: { "org.example.x": "y" },
  baseImages: { "debian:trixie": "sha256:1111" },
};

describe("buildInputsHash", () => {
  test("is a sha256 that does not depend on the order of build args or labels", () => {
    const hash = buildInputsHash(inputs);
    expect(hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(buildInputsHash({ ...inputs, buildArgs: { B: "2", A: "1" } })).toBe(hash);
  });

  test("changes with every input", () => {
    const hash = buildInputsHash(inputs);
    const variants: Partial<BuildInputs>[] = [
      { contextHash: "sha256:bbbb" },
      { dockerfile: new TextEncoder().encode("FROM scratch \n") },
      { buildArgs: { A: "1", B: "3" } },
      { buildArgs: { A: "1" } },
      { buildArgs: { A: "1", B: "2", C: "" } },
      { labels: {} },
      { target: "final" },
      { platform: "linux/arm64" },
      { baseImages: { "debian:trixie": "sha256:2222" } },
      { baseImages: { "debian:trixie": "" } },
      { baseImages: {} },
    ];
    const hashes = variants.map((change) => buildInputsHash({ ...inputs, ...change }));
    expect(new Set([hash, ...hashes]).size).toBe(variants.length + 1);
  });

  test("cannot be fooled by moving text between a key and its value", () => {
    expect(buildInputsHash({ ...inputs, buildArgs: { "A=1": "" } })).not.toBe(
      buildInputsHash({ ...inputs, buildArgs: { A: "=1" } }),
    );
  });
});

describe("imageLabels", () => {
  test("adds ours to the user's, and ours win a clash", () => {
    const labels = imageLabels(
      { "org.example.x": "y", "org.aicage.util.tool-version": "fake" },
      { inputsHash: "sha256:cccc", builderImage: API_BUILDER, baseImages: { "debian:trixie": "sha256:1111" } },
    );
    expect(labels).toEqual({
      "org.example.x": "y",
      "org.aicage.util.managed": "true",
      "org.aicage.util.tool-version": toolVersion,
      "org.aicage.util.builder-image": "api",
      "org.aicage.util.context-sha256": "sha256:cccc",
      "org.aicage.util.base-images": '{"debian:trixie":"sha256:1111"}',
    });
  });
});

describe("proxyBuildArgs", () => {
  test("takes the proxy variables that are set, in either case, under their own names", () => {
    const env = {
      HTTP_PROXY: "http://p:1",
      https_proxy: "http://p:2",
      NO_PROXY: "localhost",
      no_proxy: "localhost,.lan",
      ALL_PROXY: "",
      ftp_proxy: "ftp://p:3",
      PATH: "/usr/bin",
      http_proxy_extra: "x",
    };
    expect(proxyBuildArgs(env)).toEqual({
      HTTP_PROXY: "http://p:1",
      https_proxy: "http://p:2",
      NO_PROXY: "localhost",
      no_proxy: "localhost,.lan",
      ftp_proxy: "ftp://p:3",
    });
    expect(proxyBuildArgs({})).toEqual({});
  });
});

describe("base images", () => {
  test("a changed, added or newly pulled base is named; an unchanged one is not; a label not ours reads as none", () => {
    const recorded = recordedBaseImages('{"debian:trixie":"sha256:1111","busybox":""}');
    expect(changedBaseImages(recorded, { "debian:trixie": "sha256:1111", busybox: "" })).toEqual([]);
    expect(changedBaseImages(recorded, { "debian:trixie": "sha256:2222", busybox: "sha256:3333" })).toEqual([
      "debian:trixie",
      "busybox",
    ]);
    expect(changedBaseImages(recorded, { "alpine:3": "sha256:4444" })).toEqual(["alpine:3"]);
    expect(recordedBaseImages("not json")).toEqual({});
    expect(recordedBaseImages('["a"]')).toEqual({});
    expect(recordedBaseImages('{"a": 1, "b": "sha256:5"}')).toEqual({ b: "sha256:5" });
  });
});
