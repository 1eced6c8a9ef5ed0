import { describe, expect, test } from "bun:test";
import { toolVersion } from "../../src/core/tool-info.ts";
import { API_BUILDER, type BuildInputs, buildInputsHash, imageLabels } from "../../src/local-build/image-identity.ts";
import { proxyVariables as proxyBuildArgs } from "../../src/lib/proxy-env.ts";

const inputs: BuildInputs = {
  contextHash: "sha256:aaaa",
  dockerfile: new TextEncoder().encode("FROM scratch\n"),
  buildArgs: { A: "1", B: "2" },
  labels: { "org.example.x": "y" },
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
      { inputsHash: "sha256:cccc", builderImage: API_BUILDER },
    );
    expect(labels).toEqual({
      "org.example.x": "y",
      "org.aicage.util.managed": "true",
      "org.aicage.util.tool-version": toolVersion,
      "org.aicage.util.builder-image": "api",
      "org.aicage.util.context-sha256": "sha256:cccc",
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
