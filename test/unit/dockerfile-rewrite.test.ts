// The Dockerfile as a build with the host's registry set-up gets it: every RUN with the mount
// flags, every stage with the arguments, everything else as it was, byte for byte.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fromImages, rewriteDockerfile } from "../../src/local-build/dockerfile-rewrite.ts";

const FLAG = "--mount=type=bind,source=.aicage-host,target=/run/aicage-host";
const additions = { runFlags: [FLAG], stageArgs: { SSL_CERT_FILE: "/run/aicage-host/ca.pem" } };

describe("rewriteDockerfile", () => {
  test("aicage's agent build: the check directive stays first, the RUN gets the flag before its own mount", () => {
    const original = readFileSync(join(import.meta.dir, "../fixtures/builds/aicage-agent/Dockerfile"), "utf8");
    const { text, runs, stages } = rewriteDockerfile(original, additions);
    expect(runs).toBe(1);
    expect(stages).toBe(1);
    const lines = text.split("\n");
    expect(lines[0]).toBe("# check=skip=SecretsUsedInArgOrEnv,InvalidDefaultArgInFrom");
    expect(lines[3]).toBe("ARG SSL_CERT_FILE=/run/aicage-host/ca.pem");
    expect(text).toContain(
      `RUN ${FLAG} --mount=type=bind,source=agents/,target=/tmp/agents,readonly \\\n    mkdir -p /tmp/agent`,
    );
    // Only the two additions differ.
    const added = lines.filter((line) => !original.split("\n").includes(line));
    expect(added).toEqual([
      "ARG SSL_CERT_FILE=/run/aicage-host/ca.pem",
      `RUN ${FLAG} --mount=type=bind,source=agents/,target=/tmp/agents,readonly \\`,
    ]);
  });

  test("every stage and every RUN of a multi-stage file; exec form, lower case, a bare RUN line", () => {
    const original = [
      "FROM debian AS build",
      'RUN ["make", "all"]',
      "run echo lower",
      "RUN \\",
      "  echo continued",
      "FROM build",
      "COPY --from=build /a /b",
      "RUN true",
    ].join("\n");
    const { text, runs, stages } = rewriteDockerfile(original, additions);
    expect({ runs, stages }).toEqual({ runs: 4, stages: 2 });
    expect(text.split("\n")).toEqual([
      "FROM debian AS build",
      "ARG SSL_CERT_FILE=/run/aicage-host/ca.pem",
      `RUN ${FLAG} ["make", "all"]`,
      `run ${FLAG} echo lower`,
      `RUN ${FLAG} \\`,
      "  echo continued",
      "FROM build",
      "ARG SSL_CERT_FILE=/run/aicage-host/ca.pem",
      "COPY --from=build /a /b",
      `RUN ${FLAG} true`,
    ]);
  });

  test("heredoc bodies are not instructions, even when a line of one reads like a RUN or a FROM", () => {
    const original = [
      "FROM debian",
      "RUN <<EOF",
      "FROM scratch",
      "RUN echo inside",
      "EOF",
      "COPY <<-END /x",
      "\tRUN not me",
      "\tEND",
      "RUN after",
    ].join("\n");
    const { text, runs, stages } = rewriteDockerfile(original, additions);
    expect({ runs, stages }).toEqual({ runs: 2, stages: 1 });
    expect(text).toContain("FROM scratch\nRUN echo inside\nEOF");
    expect(text).toContain("\tRUN not me\n\tEND");
    expect(text).toContain(`RUN ${FLAG} after`);
  });

  test("a continuation holding a comment line, the escape directive, CRLF line ends", () => {
    const original = [
      "# escape=`",
      "FROM mcr.example/windows",
      "RUN echo a `",
      "# a comment inside",
      "  && echo b",
      "RUN echo c",
    ].join("\r\n");
    const { text, runs } = rewriteDockerfile(original, additions);
    expect(runs).toBe(2);
    expect(text.split("\r\n")).toEqual([
      "# escape=`",
      "FROM mcr.example/windows",
      "ARG SSL_CERT_FILE=/run/aicage-host/ca.pem",
      `RUN ${FLAG} echo a \``,
      "# a comment inside",
      "  && echo b",
      `RUN ${FLAG} echo c`,
    ]);
  });

  test("ONBUILD RUN is left alone; a name the Dockerfile declares itself (ARG or ENV) is not declared again", () => {
    const original = ["FROM debian", "ENV SSL_CERT_FILE=/etc/own.pem", "ONBUILD RUN echo later", "RUN echo now"].join(
      "\n",
    );
    const { text, runs, stages } = rewriteDockerfile(original, {
      runFlags: [FLAG],
      stageArgs: { SSL_CERT_FILE: "/x", PIP_CONFIG_FILE: "/y" },
    });
    expect({ runs, stages }).toEqual({ runs: 1, stages: 1 });
    expect(text.split("\n")).toEqual([
      "FROM debian",
      "ARG PIP_CONFIG_FILE=/y",
      "ENV SSL_CERT_FILE=/etc/own.pem",
      "ONBUILD RUN echo later",
      `RUN ${FLAG} echo now`,
    ]);
  });

  test("several arguments go in one ARG instruction (buildah counts each instruction as a step)", () => {
    const two = rewriteDockerfile("FROM debian\nRUN true", { runFlags: [], stageArgs: { A: "/a", B: "/b" } });
    expect(two.text).toBe("FROM debian\nARG A=/a B=/b\nRUN true");
  });

  test("nothing to add: the text comes back unchanged", () => {
    const original = "FROM debian\nRUN true\n";
    expect(rewriteDockerfile(original, { runFlags: [], stageArgs: {} })).toEqual({
      text: original,
      runs: 0,
      stages: 0,
    });
  });
});

describe("fromImages", () => {
  test("build arguments put in, global ARG defaults, stage names left out", () => {
    const text = [
      "ARG BASE=debian:trixie",
      "ARG OTHER",
      "FROM ${BASE} AS build",
      "FROM $OTHER",
      "FROM build",
      "FROM --platform=linux/amd64 busybox AS tools",
    ].join("\n");
    expect(fromImages(text, { OTHER: "sha256:abc" })).toEqual(["debian:trixie", "sha256:abc", "busybox"]);
    expect(fromImages(text, { BASE: "alpine", OTHER: "x" })).toEqual(["alpine", "x", "busybox"]);
  });
});
