import { defineCommand } from "citty";
import { integerOption, repeatedValues } from "../../cli/args.ts";
import { jsonOutput, logger, printJson, printResult } from "../../cli/output.ts";
import { credentialsOptIn, hostRegistryArgs, hostRegistryChoice } from "../../cli/flags/host-registries.ts";
import { registryLines } from "../../cli/registry-lines.ts";
import { interruptSignal } from "../../cli/interrupt.ts";
import { clearLeftovers } from "../../cli/leftovers.ts";
import { checkAgents } from "../../version-check/check.ts";
import { forwardedEnv } from "../../version-check/forwarded-env.ts";
import { formatResults, resultsJson } from "./render.ts";
import { endOfRun, githubTokenChoice, versionCheckArgs } from "./flags.ts";
import { type CheckPlace, checkOrder } from "../../version-check/order.ts";
import { prepareCheck } from "../../version-check/prepare.ts";
import { engineChoice } from "../../cli/flags/common.ts";
import { utilImageCommandArgs, utilImageOptions } from "../../cli/flags/util-images.ts";
import { createReporter, progressArg } from "../../cli/reporter.ts";

const DEFAULT_TIMEOUT_SECONDS = 30;
/** A day: far past any version check, and well inside what timers can wait (24.8 days). */
const MAX_TIMEOUT_SECONDS = 86_400;
const DEFAULT_JOBS = 16;
const MAX_OUTPUT_BYTES = 1024 * 1024;

export default defineCommand({
  meta: {
    name: "version-check",
    description:
      "Print the newest version of each agent by running its version.sh, in the version-check image first, then on the host",
  },
  args: {
    paths: {
      type: "positional",
      required: false,
      description: "version.sh files or agent folders holding one",
      valueHint: "PATH",
    },
    agents: {
      type: "string",
      description: "Check every subfolder of DIR that holds a version.sh (repeatable)",
      valueHint: "DIR",
    },
    order: {
      type: "string",
      description: "Where to try, in order: image,host (default) or host,image; env AICAGE_VERSION_CHECK_ORDER",
      valueHint: "ORDER",
    },
    only: { type: "enum", options: ["image", "host"], description: "Try only image or only host" },
    timeout: {
      type: "string",
      description: `Seconds per attempt (default ${DEFAULT_TIMEOUT_SECONDS}, at most ${MAX_TIMEOUT_SECONDS})`,
      valueHint: "SECONDS",
    },
    jobs: {
      type: "string",
      alias: ["j"],
      description: `Scripts at once (default ${DEFAULT_JOBS}); all image attempts share one container`,
      valueHint: "N",
    },
    network: {
      type: "string",
      description: "Container network for the image attempt (default: the engine's)",
      valueHint: "MODE",
    },
    env: {
      type: "string",
      description: "Forward this host variable to each script in the container, e.g. NPM_TOKEN (repeatable)",
      valueHint: "NAME",
    },
    compare: { type: "boolean", description: "Run image and host for every agent and report where they differ" },
    "cache-ttl": {
      type: "string",
      description: "Answer from a record younger than this for an unchanged script",
      valueHint: "SECONDS",
    },
    "cache-fallback": {
      type: "boolean",
      default: true,
      description: "When every attempt fails, answer the last recorded version",
      negativeDescription: "Fail when every attempt fails, instead of answering the last recorded version",
    },
    verbose: {
      type: "boolean",
      description: "Also say what the image attempt gets of the host's registry set-up, and where its time went",
    },
    ...versionCheckArgs,
    ...progressArg,
    ...hostRegistryArgs,
    ...utilImageCommandArgs,
  },
  async run({ args, rawArgs }) {
    const json = jsonOutput(args);
    const order = checkOrder({
      order: args.order,
      only: args.only as CheckPlace | undefined,
      compare: Boolean(args.compare),
    });
    const timeoutSeconds = integerOption(args.timeout, "--timeout", 1, MAX_TIMEOUT_SECONDS) ?? DEFAULT_TIMEOUT_SECONDS;
    const jobs = integerOption(args.jobs, "--jobs", 1) ?? DEFAULT_JOBS;
    const cacheTtlSeconds = integerOption(args["cache-ttl"], "--cache-ttl", 0);
    const env = forwardedEnv(repeatedValues(rawArgs, "env"), {
      githubTokens: githubTokenChoice(args),
      proxyCredentials: credentialsOptIn(args),
    });
    // With no host to fall back to, a missing (or hung) engine ends the command here: exit 3, one line.
    const { agents, client, registry } = await prepareCheck({
      order,
      paths: args._,
      agentsDirs: repeatedValues(rawArgs, "agents"),
      engine: () => engineChoice(args),
      registries: hostRegistryChoice(args),
    });
    if (args.verbose && client) {
      for (const [label, text] of registryLines(registry?.report ?? null)) logger.info(`${label}: ${text}`);
      // Names only, never a value.
      const names = env.variables.map((v) => v.name).join(", ") || "none";
      logger.info(
        `host variables for each script in the image (as files, not in the container's configuration): ${names}`,
      );
      if (env.githubTokensWithheld.length > 0)
        logger.info(`withheld from the image (--no-github-token): ${env.githubTokensWithheld.join(", ")}`);
      for (const name of env.proxyCredentialsWithheld)
        logger.info(`withheld: $${name} holds a user, password or query (--forward-registry-credentials)`);
    }

    const progress = createReporter({ mode: args.progress, json, verbose: Boolean(args.verbose) });
    // What killed runs left goes beside the checks (it never touches a live run's containers).
    const leftovers = client ? clearLeftovers(client, progress.report) : undefined;
    const results = await checkAgents(client, agents, {
      order,
      // Ctrl-C or SIGTERM: whatever runs stops and nothing new starts.
      signal: interruptSignal(),
      timeoutMs: timeoutSeconds * 1000,
      jobs,
      network: args.network || undefined,
      variables: env.variables,
      githubTokensWithheld: env.githubTokensWithheld,
      registry,
      maxOutputBytes: MAX_OUTPUT_BYTES,
      cacheTtlSeconds,
      cacheFallback: args["cache-fallback"] !== false,
      compare: Boolean(args.compare),
      imageOptions: utilImageOptions("version-check", args),
      report: progress.report,
    });
    await leftovers;
    progress.done();

    if (json) printJson(resultsJson(results));
    else printResult(formatResults(results));
    endOfRun(results, { compare: Boolean(args.compare), exitCode: Boolean(args["exit-code"]) });
  },
});
