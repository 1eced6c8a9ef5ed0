import { defineCommand } from "citty";
import { UsageError } from "../cli/exit-codes.ts";
import { formatTable, logger, printJson, printResult, setQuiet } from "../cli/output.ts";
import { createProgressDisplay } from "../cli/progress.ts";
import { pullImage, removeImage } from "../docker/images.ts";
import { NotFoundError } from "../docker/errors.ts";
import { openEngine } from "../engine/open-engine.ts";
import { buildUtilImage } from "../util-images/build-util-image.ts";
import { UTIL_IMAGE_KINDS, type UtilImageKind, isUtilImageKind, utilImageNames } from "../util-images/catalog.ts";
import { listUtilImages } from "../util-images/list.ts";
import { CommandFailed } from "../cli/exit-codes.ts";
import { engineArgs, jsonArg } from "../cli/flags/common.ts";
import { utilImageArgs, utilImageBuildArgs, utilImageOptions } from "../cli/flags/util-images.ts";

const kindsArg = {
  kinds: { type: "positional", required: false, description: "version-check, builder (default: both)", valueHint: "KIND" },
} as const;

/** The kinds named on the command line (after the subcommand), or all. */
function kindsFrom(positionals: string[]): UtilImageKind[] {
  if (positionals.length === 0) return [...UTIL_IMAGE_KINDS];
  for (const kind of positionals) {
    if (!isUtilImageKind(kind)) throw new UsageError(`unknown image kind '${kind}'; use ${UTIL_IMAGE_KINDS.join(" or ")}`);
  }
  return [...new Set(positionals as UtilImageKind[])];
}

const size = (bytes: number | null) => (bytes === null ? "-" : `${(bytes / 1e6).toFixed(0)} MB`);

const ls = defineCommand({
  meta: { name: "ls", description: "List the util images: name, ID, size, version, and whether current for this binary" },
  args: { ...engineArgs, ...jsonArg, ...utilImageArgs },
  async run({ args }) {
    setQuiet(Boolean(args.json));
    const rows = await listUtilImages(openEngine(args), (kind) => utilImageOptions(kind, args));
    if (args.json) return printJson({ images: rows });
    const state = (r: (typeof rows)[number]) => (!r.present ? "missing" : r.current ? "current" : r.expected ? "outdated" : "other version");
    printResult(
      formatTable(
        ["KIND", "IMAGE", "ID", "SIZE", "VERSION", "STATE"],
        rows.map((r) => [r.kind, r.name, r.id?.slice(7, 19) ?? "-", size(r.size), r.version ?? "-", state(r)]),
      ),
    );
  },
});

const pull = defineCommand({
  meta: { name: "pull", description: "Pull the util images of this release (no local build)" },
  args: { ...kindsArg, ...engineArgs, ...jsonArg, ...utilImageArgs },
  async run({ args }) {
    setQuiet(Boolean(args.json));
    const client = openEngine(args);
    const results = [];
    for (const kind of kindsFrom(args._)) {
      const options = utilImageOptions(kind, args);
      const names = utilImageNames(kind, options);
      const ref = names.digestRef ?? names.tag;
      const progress = createProgressDisplay({ quiet: Boolean(args.json), prefix: kind });
      try {
        await pullImage(client, ref, { onProgress: (m) => m.status && progress.line([m.id, m.status, m.progress].filter(Boolean).join(" ")) });
        results.push({ kind, ref, ok: true, error: null });
        logger.success(`pulled ${ref}`);
      } catch (error) {
        results.push({ kind, ref, ok: false, error: (error as Error).message });
        logger.error((error as Error).message);
      } finally {
        progress.done();
      }
    }
    if (args.json) printJson({ images: results });
    if (results.some((r) => !r.ok)) throw new CommandFailed("");
  },
});

const build = defineCommand({
  meta: { name: "build", description: "Build the util images locally from the Dockerfiles embedded in this binary" },
  args: {
    ...kindsArg,
    ...engineArgs,
    ...jsonArg,
    ...utilImageArgs,
    "base-image": utilImageBuildArgs["base-image"],
    network: { ...utilImageBuildArgs["build-network"], description: "Network for RUN steps, e.g. host (default AICAGE_UTIL_BUILD_NETWORK)" },
    // citty reads --no-cache as the negation of "cache"
    cache: { type: "boolean", default: true, description: "Use the build cache (--no-cache: build every step again)" },
  },
  async run({ args }) {
    setQuiet(Boolean(args.json));
    const client = openEngine(args);
    const results = [];
    for (const kind of kindsFrom(args._)) {
      const options = utilImageOptions(kind, { ...args, "build-network": args.network });
      const tag = options.image ?? utilImageNames(kind, options).tag;
      const progress = createProgressDisplay({ quiet: Boolean(args.json), prefix: `[${kind}]` });
      const started = performance.now();
      try {
        const id = await buildUtilImage(client, kind, tag, { ...options, noCache: args.cache === false, onLine: progress.line });
        progress.done();
        results.push({ kind, tag, id, durationMs: Math.round(performance.now() - started) });
        logger.success(`built ${tag} (${id.slice(7, 19)})`);
      } finally {
        progress.done();
      }
    }
    if (args.json) printJson({ images: results });
  },
});

const rm = defineCommand({
  meta: { name: "rm", description: "Remove the util images of this release (--all: every util image)" },
  args: {
    ...kindsArg,
    ...engineArgs,
    ...jsonArg,
    ...utilImageArgs,
    all: { type: "boolean", description: "Remove every util image, other versions included" },
  },
  async run({ args }) {
    setQuiet(Boolean(args.json));
    const client = openEngine(args);
    const kinds = kindsFrom(args._);
    const rows = await listUtilImages(client, (kind) => utilImageOptions(kind, args));
    const removed: string[] = [];
    for (const row of rows) {
      if (!row.present || !kinds.includes(row.kind) || (!row.expected && !args.all)) continue;
      try {
        await removeImage(client, row.id!, { force: true });
        removed.push(row.name);
        logger.success(`removed ${row.name}`);
      } catch (error) {
        if (!(error instanceof NotFoundError)) throw error;
      }
    }
    if (args.json) printJson({ removed });
    else if (removed.length === 0) logger.info("no util image to remove");
  },
});

export default defineCommand({
  meta: { name: "images", description: "List, pull, build and remove the util images" },
  subCommands: { ls, pull, build, rm },
});
