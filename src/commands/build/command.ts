import { defineCommand } from "citty";
import { jsonOutput, logger, printJson, printResult } from "../../cli/output.ts";
import { buildSuccessLine, formatBuildTail } from "./render.ts";
import { BuildFailedError } from "../../local-build/failure-report.ts";
import { runBuild } from "../../local-build/run-build.ts";
import { openEngine } from "../../workloads/open-engine.ts";
import { buildRequestFrom } from "./flags.ts";
import { buildSecretsFrom } from "./secrets.ts";
import { engineChoice } from "../../cli/flags/common.ts";
import { utilImageCommandArgs, utilImageOptions } from "../../cli/flags/util-images.ts";
import { createReporter, progressArg } from "../../cli/reporter.ts";
import { interruptSignal } from "../../cli/interrupt.ts";
import { clearLeftovers } from "../../cli/leftovers.ts";
import { hostRegistryArgs, hostRegistryChoice } from "../../cli/flags/host-registries.ts";
import { buildHostSetup, hostSetupLines } from "../../local-build/host-setup.ts";

export default defineCommand({
  meta: {
    name: "build",
    description: "Build an image from a context folder, in the builder image (default) or through the Engine API",
  },
  args: {
    context: { type: "positional", required: false, description: "Build context folder", valueHint: "CONTEXT" },
    tag: {
      type: "string",
      alias: ["t"],
      description: "Name the image (repeatable; the first is the one --if-changed checks)",
      valueHint: "TAG",
    },
    file: {
      type: "string",
      alias: ["f"],
      description: "Dockerfile (default CONTEXT/Dockerfile)",
      valueHint: "DOCKERFILE",
    },
    "build-arg": { type: "string", description: "Build argument (repeatable)", valueHint: "K=V" },
    secret: {
      type: "string",
      description:
        "Secret for RUN --mount=type=secret (repeatable; --via builder): id=NAME,src=FILE or id=NAME,env=VAR",
      valueHint: "SPEC",
    },
    label: { type: "string", description: "Image label (repeatable)", valueHint: "K=V" },
    target: { type: "string", description: "Build this stage of a multi-stage Dockerfile", valueHint: "STAGE" },
    platform: { type: "string", description: "Target platform, e.g. linux/arm64", valueHint: "PLATFORM" },
    "no-cache": { type: "boolean", description: "Do not use the build cache" },
    pull: { type: "boolean", description: "Always pull newer versions of the base images" },
    network: {
      type: "string",
      description: "Network for RUN steps: host, none, default (default: the engine's)",
      valueHint: "MODE",
    },
    "log-file": {
      type: "string",
      description: "Write the build log here (default: a new file under the state dir)",
      valueHint: "FILE",
    },
    "if-changed": { type: "boolean", description: "Skip the build when the first tag was built from the same inputs" },
    via: {
      type: "enum",
      options: ["builder", "api"],
      description: "builder (default): buildx in the builder image; api: straight through the Engine API",
    },
    verbose: { type: "boolean", description: "Also say what RUN steps get of the host's registry set-up" },
    ...progressArg,
    ...hostRegistryArgs,
    ...utilImageCommandArgs,
  },
  async run({ args, rawArgs }) {
    const json = jsonOutput(args);
    const request = {
      ...buildRequestFrom(args, rawArgs),
      hostRegistries: hostRegistryChoice(args),
      secrets: buildSecretsFrom(rawArgs, process.cwd()),
    };
    if (args.verbose) {
      const lines = request.hostRegistries.forward
        ? hostSetupLines(buildHostSetup({ env: process.env }))
        : ["not forwarded (--no-host-registries)"];
      for (const line of lines) logger.info(`host registry set-up ${line}`);
    }
    const client = openEngine(engineChoice(args));
    const progress = createReporter({ mode: args.progress, json, utilImagePrefix: "[builder image]" });
    // What killed runs left goes beside the build (it never touches a live run's containers).
    const leftovers = clearLeftovers(client, progress.report);
    try {
      const result = await runBuild(client, request, {
        builderImage: utilImageOptions("builder", args),
        report: progress.report,
        signal: interruptSignal(),
      });
      await leftovers;
      progress.done();
      if (json) return printJson(result);
      logger.success(buildSuccessLine(result));
      printResult(result.imageId);
    } catch (error) {
      await leftovers;
      progress.done();
      // Plain output has just shown these lines; a status line or --json has not.
      if (error instanceof BuildFailedError && !progress.linesShown) process.stderr.write(formatBuildTail(error.tail));
      throw error;
    }
  },
});
