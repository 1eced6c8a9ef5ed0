// The flags of `aicage-util build`, checked and turned into a build request. Everything the
// user can get wrong is caught here, before the engine is contacted, as a UsageError (exit 2).
import { statSync } from "node:fs";
import path from "node:path";
import { repeatedValues } from "../../cli/args.ts";
import { UsageError } from "../../core/errors.ts";
import type { BuildWay } from "../../local-build/build-way.ts";
import type { BuildRequest } from "../../local-build/run-build.ts";

export interface BuildFlags {
  _: string[];
  file?: string;
  target?: string;
  platform?: string;
  "no-cache"?: boolean;
  /** citty reads `--no-cache` as the negation of a `cache` flag */
  cache?: boolean;
  pull?: boolean;
  network?: string;
  "log-file"?: string;
  "if-changed"?: boolean;
  via?: string;
}

// Image references as Docker accepts them for a tag: [registry[:port]/]path[:tag], path in lower case.
const COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const HOST_PART = "[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?";
const REGISTRY = `${HOST_PART}(?:\\.${HOST_PART})*(?::[0-9]+)?`;
const IMAGE_REFERENCE = new RegExp(`^(?:${REGISTRY}/)?${COMPONENT}(?:/${COMPONENT})*(?::\\w[\\w.-]{0,127})?$`);

export function buildRequestFrom(flags: BuildFlags, rawArgs: string[], cwd = process.cwd()): BuildRequest {
  if (flags._.length === 0) throw new UsageError("missing build context: aicage-util build CONTEXT -t TAG");
  if (flags._.length > 1) throw new UsageError(`one build context only, got ${flags._.length}: ${flags._.join(" ")}`);
  const contextDir = path.resolve(cwd, flags._[0]!);
  const contextInfo = statSync(contextDir, { throwIfNoEntry: false });
  if (!contextInfo) throw new UsageError(`build context not found: ${contextDir}`);
  if (!contextInfo.isDirectory()) throw new UsageError(`build context is not a directory: ${contextDir}`);

  // Like the docker CLI: -f is relative to the current directory, the default is CONTEXT/Dockerfile.
  const dockerfile = flags.file ? path.resolve(cwd, flags.file) : path.join(contextDir, "Dockerfile");
  if (!statSync(dockerfile, { throwIfNoEntry: false })?.isFile())
    throw new UsageError(`Dockerfile not found: ${dockerfile}`);

  const tags = repeatedValues(rawArgs, "tag", "t");
  if (tags.length === 0) throw new UsageError("missing -t TAG: name the image to build");
  for (const tag of tags) {
    if (!IMAGE_REFERENCE.test(tag) || tag.length > 255) {
      throw new UsageError(
        `invalid tag '${tag}': use [REGISTRY/]NAME[:TAG] with NAME in lower case, e.g. my-agent:latest`,
      );
    }
  }

  // --via's values are checked with every enum flag's, before the command runs (cli/args.ts).
  const via = (flags.via || "builder") as BuildWay;

  const logFile = flags["log-file"] ? path.resolve(cwd, flags["log-file"]) : undefined;
  if (logFile && statSync(logFile, { throwIfNoEntry: false })?.isDirectory()) {
    throw new UsageError(`--log-file names a directory: ${logFile}`);
  }

  return {
    contextDir,
    dockerfile,
    tags,
    buildArgs: keyValues(repeatedValues(rawArgs, "build-arg"), "--build-arg", { hideValues: true }),
    labels: keyValues(repeatedValues(rawArgs, "label"), "--label"),
    target: flags.target || undefined,
    platform: flags.platform || undefined,
    noCache: Boolean(flags["no-cache"]) || flags.cache === false,
    pull: Boolean(flags.pull),
    network: flags.network || undefined,
    ifChanged: Boolean(flags["if-changed"]),
    via,
    logFile,
  };
}

/**
 * `K=V` values of a repeatable flag; the value may be empty or hold more `=`, a later K wins.
 * With hideValues (build arguments carry tokens) an error shows what comes after `=` as `…`.
 */
function keyValues(values: string[], flag: string, options: { hideValues?: boolean } = {}): Record<string, string> {
  const result: Record<string, string> = {};
  for (const value of values) {
    const equals = value.indexOf("=");
    const key = equals < 0 ? "" : value.slice(0, equals);
    if (!key || /\s/.test(key)) {
      const shown = options.hideValues && equals >= 0 ? `${key}=…` : value;
      throw new UsageError(`${flag} takes KEY=VALUE, not '${shown}'`);
    }
    result[key] = value.slice(equals + 1);
  }
  return result;
}
