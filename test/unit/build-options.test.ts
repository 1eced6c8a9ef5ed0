import { afterAll, describe, expect, test } from "bun:test";
import type { ArgsDef } from "citty";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UsageError } from "../../src/core/errors.ts";
import { rejectBadEnumValues } from "../../src/cli/args.ts";
import { buildRequestFrom } from "../../src/commands/build/flags.ts";
import buildCommand from "../../src/commands/build/command.ts";
import versionCheckCommand from "../../src/commands/version-check/command.ts";

const dir = mkdtempSync(join(tmpdir(), "aicage-build-options-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, "ctx"));
writeFileSync(join(dir, "ctx", "Dockerfile"), "FROM scratch\n");
writeFileSync(join(dir, "other.Dockerfile"), "FROM scratch\n");

/** Parses like the command does: flags citty saw plus the raw arguments. */
function parse(raw: string[], flags: Record<string, unknown> = {}) {
  const positionals = raw.filter(
    (arg, i) => !arg.startsWith("-") && !(raw[i - 1] ?? "").match(/^(-t|--tag|--build-arg|--label)$/),
  );
  return buildRequestFrom({ _: positionals, ...flags }, raw, dir);
}

describe("build flags", () => {
  test("a full request: paths resolved from the current directory, repeated flags kept in order", () => {
    const request = parse(
      ["ctx", "-t", "a:1", "--tag", "b:2", "-tc:3", "--build-arg", "X=1=2", "--build-arg=Y=", "--label", "k=v"],
      // citty hands --no-cache over as cache: false
      {
        file: "other.Dockerfile",
        via: "api",
        network: "host",
        cache: false,
        "if-changed": true,
        "log-file": "logs/b.log",
      },
    );
    expect(request).toEqual({
      contextDir: join(dir, "ctx"),
      dockerfile: join(dir, "other.Dockerfile"),
      tags: ["a:1", "b:2", "c:3"],
      buildArgs: { X: "1=2", Y: "" },
      labels: { k: "v" },
      target: undefined,
      platform: undefined,
      noCache: true,
      pull: false,
      network: "host",
      ifChanged: true,
      via: "api",
      logFile: join(dir, "logs", "b.log"),
    });
  });

  test("defaults: CONTEXT/Dockerfile, --via builder, the engine's network", () => {
    const request = parse(["ctx", "-t", "registry.example:5000/team/agent:v1.2"]);
    expect(request.dockerfile).toBe(join(dir, "ctx", "Dockerfile"));
    expect(request.via).toBe("builder");
    expect(request.network).toBeUndefined();
    expect(request.logFile).toBeUndefined();
  });

  const bad: Array<[string, string[], Record<string, unknown>, string]> = [
    ["no context", ["-t", "a:1"], {}, "missing build context"],
    ["two contexts", ["ctx", "ctx", "-t", "a:1"], {}, "one build context only"],
    ["context is a file", ["other.Dockerfile", "-t", "a:1"], {}, "build context is not a directory"],
    ["no tag", ["ctx"], {}, "missing -t TAG"],
    ["upper-case name", ["ctx", "-t", "Agent:1"], {}, "invalid tag 'Agent:1'"],
    ["digest as tag", ["ctx", "-t", "a@sha256:00"], {}, "invalid tag"],
    ["build arg without =", ["ctx", "-t", "a:1", "--build-arg", "X"], {}, "--build-arg takes KEY=VALUE, not 'X'"],
    ["label with a space in the key", ["ctx", "-t", "a:1", "--label", "a b=c"], {}, "--label takes KEY=VALUE"],
    ["log file is a folder", ["ctx", "-t", "a:1"], { "log-file": "ctx" }, "--log-file names a directory"],
    [
      "missing -f file",
      ["ctx", "-t", "a:1"],
      { file: "nope/Dockerfile" },
      `Dockerfile not found: ${join(dir, "nope", "Dockerfile")}`,
    ],
  ];
  for (const [name, raw, flags, message] of bad) {
    test(`${name} is a usage error`, () => {
      let error: unknown;
      try {
        parse(raw, flags);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(UsageError);
      expect((error as Error).message).toContain(message);
    });
  }

  test("a bad --build-arg is named without its value: a value may be a token", () => {
    for (const [arg, shown] of [
      ["NPM TOKEN=npm_s3cr3t", "'NPM TOKEN=…'"],
      ["=npm_s3cr3t", "'=…'"],
    ] as const) {
      let error: unknown;
      try {
        parse(["ctx", "-t", "a:1", "--build-arg", arg]);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(UsageError);
      expect((error as Error).message).toBe(`--build-arg takes KEY=VALUE, not ${shown}`);
    }
  });
});

// Enum flags are checked once for every command, before it runs (cli/run.ts): in the project's
// words, one line, a UsageError (exit 2), not citty's coloured message.
describe("enum flags", () => {
  const cases: Array<[string, ArgsDef, string[], string]> = [
    [
      "an unknown build way",
      buildCommand.args as ArgsDef,
      ["ctx", "-t", "a:1", "--via", "cli"],
      "--via takes builder or api, not 'cli'",
    ],
    [
      "an unknown way given with =",
      buildCommand.args as ArgsDef,
      ["ctx", "--via=cli"],
      "--via takes builder or api, not 'cli'",
    ],
    [
      "an unknown check place",
      versionCheckCommand.args as ArgsDef,
      ["--only", "cloud", "a"],
      "--only takes image or host, not 'cloud'",
    ],
  ];
  for (const [name, args, raw, message] of cases) {
    test(`${name} is a usage error`, () => {
      let error: unknown;
      try {
        rejectBadEnumValues(raw, args);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(UsageError);
      expect((error as Error).message).toBe(message);
    });
  }
});
