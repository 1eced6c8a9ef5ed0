import { defineCommand } from "citty";
import { CommandFailedError } from "../../cli/exit-codes.ts";
import { jsonOutput, logger, printJson, printResult } from "../../cli/output.ts";
import { createReporter } from "../../cli/reporter.ts";
import { formatUtilImages, utilImageBuiltLine } from "./render.ts";
import { UsageError } from "../../core/errors.ts";
import { openEngine } from "../../workloads/open-engine.ts";
import { buildUtilImageOnce } from "../../util-images/build-lock.ts";
import {
  UTIL_IMAGE_KINDS,
  type UtilImageKind,
  isUtilImageKind,
  pullReference,
  utilImageNames,
} from "../../util-images/catalog.ts";
import { listUtilImages } from "../../util-images/list.ts";
import { pullUtilImage } from "../../util-images/pull-util-image.ts";
import { removeUtilImages } from "../../util-images/remove-util-images.ts";
import { engineArgs, engineChoice, jsonArg } from "../../cli/flags/common.ts";
import { utilImageArgs, utilImageBuildArgs, utilImageOptions } from "../../cli/flags/util-images.ts";

const kindsArg = {
  kinds: {
    type: "positional",
    required: false,
    description: "version-check, builder (default: both)",
    valueHint: "KIND",
  },
} as const;

/** What pull, build and rm take first: the kinds, the engine, --json, which util images. */
const kindCommandArgs = { ...kindsArg, ...engineArgs, ...jsonArg, ...utilImageArgs } as const;

/** The kinds named on the command line (after the subcommand), or all. */
function kindsFrom(positionals: string[]): UtilImageKind[] {
  if (positionals.length === 0) return [...UTIL_IMAGE_KINDS];
  for (const kind of positionals) {
    if (!isUtilImageKind(kind))
      throw new UsageError(`unknown image kind '${kind}'; use ${UTIL_IMAGE_KINDS.join(" or ")}`);
  }
  return [...new Set(positionals as UtilImageKind[])];
}

const ls = defineCommand({
  meta: {
    name: "ls",
    description: "List the util images: name, ID, size, version, and whether current for this binary",
  },
  args: { ...engineArgs, ...jsonArg, ...utilImageArgs },
  async run({ args }) {
    const json = jsonOutput(args);
    const rows = await listUtilImages(openEngine(engineChoice(args)), (kind) => utilImageOptions(kind, args));
    if (json) return printJson({ images: rows });
    printResult(formatUtilImages(rows));
  },
});

const pull = defineCommand({
  meta: { name: "pull", description: "Pull the util images of this release (no local build)" },
  args: kindCommandArgs,
  async run({ args }) {
    const json = jsonOutput(args);
    const client = openEngine(engineChoice(args));
    const results = [];
    for (const kind of kindsFrom(args._)) {
      const options = utilImageOptions(kind, args);
      const ref = pullReference(utilImageNames(kind, options));
      const progress = createReporter({ json, utilImagePrefix: kind });
      try {
        await pullUtilImage(client, kind, { ...options, report: progress.report });
        results.push({ kind, ref, ok: true, error: null });
        logger.success(`pulled ${ref}`);
      } catch (error) {
        results.push({ kind, ref, ok: false, error: (error as Error).message });
        logger.error((error as Error).message);
      } finally {
        progress.done();
      }
    }
    if (json) printJson({ images: results });
    if (results.some((r) => !r.ok)) throw new CommandFailedError("");
  },
});

const build = defineCommand({
  meta: { name: "build", description: "Build the util images locally from the Dockerfiles embedded in this binary" },
  args: {
    ...kindCommandArgs,
    "base-image": utilImageBuildArgs["base-image"],
    network: {
      ...utilImageBuildArgs["build-network"],
      description: "Network for RUN steps, e.g. host (default AICAGE_UTIL_BUILD_NETWORK)",
    },
    // citty reads --no-cache as the negation of "cache"
    cache: {
      type: "boolean",
      default: true,
      description: "Use the build cache",
      negativeDescription: "Build every step again, without the build cache",
    },
  },
  async run({ args }) {
    const json = jsonOutput(args);
    const client = openEngine(engineChoice(args));
    const results = [];
    for (const kind of kindsFrom(args._)) {
      const options = utilImageOptions(kind, { ...args, "build-network": args.network });
      // --version-check-image/--builder-image name the tag themselves (utilImageNames).
      const tag = utilImageNames(kind, options).tag;
      const progress = createReporter({ json, utilImagePrefix: `[${kind}]` });
      const started = performance.now();
      try {
        const { id, built } = await buildUtilImageOnce(client, kind, tag, {
          ...options,
          noCache: args.cache === false,
          report: progress.report,
        });
        progress.done();
        results.push({ kind, tag, id, built, durationMs: Math.round(performance.now() - started) });
        logger.success(utilImageBuiltLine(tag, id, built));
      } finally {
        progress.done();
      }
    }
    if (json) printJson({ images: results });
  },
});

const rm = defineCommand({
  meta: { name: "rm", description: "Remove the util images of this release (--all: every util image)" },
  args: {
    ...kindCommandArgs,
    all: { type: "boolean", description: "Remove every util image, other versions included" },
  },
  async run({ args }) {
    const json = jsonOutput(args);
    const client = openEngine(engineChoice(args));
    const removed = await removeUtilImages(client, kindsFrom(args._), {
      all: Boolean(args.all),
      lookup: (kind) => utilImageOptions(kind, args),
      onRemoved: (name) => logger.success(`removed ${name}`),
    });
    if (json) printJson({ removed });
    else if (removed.length === 0) logger.info("no util image to remove");
  },
});

export default defineCommand({
  meta: { name: "images", description: "List, pull, build and remove the util images" },
  subCommands: { ls, pull, build, rm },
});
