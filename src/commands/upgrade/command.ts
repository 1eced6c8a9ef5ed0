import { defineCommand } from "citty";
import { CommandFailedError, ExitCode } from "../../cli/exit-codes.ts";
import { jsonOutput, logger, printJson } from "../../cli/output.ts";
import { upgradeLine } from "./render.ts";
import { jsonArg } from "../../cli/flags/common.ts";
import { upgrade } from "../../self-update/upgrade.ts";

export default defineCommand({
  meta: {
    name: "upgrade",
    description:
      "Replace this binary with the newest release (or --version X), verified against the release's SHA256SUMS",
  },
  args: {
    version: {
      type: "string",
      description: "Install this release instead of the newest, e.g. 1.2.3",
      valueHint: "VERSION",
    },
    check: { type: "boolean", description: "Only say whether a newer release exists: exit 0 if not, 100 if it does" },
    ...jsonArg,
  },
  async run({ args }) {
    const json = jsonOutput(args);
    const result = await upgrade({
      version: args.version,
      checkOnly: Boolean(args.check),
      onStep: (message) => logger.info(message),
    });
    if (json) printJson(result);
    else logger[result.upgraded ? "success" : "info"](upgradeLine(result, Boolean(args.check)));
    if (args.check && result.newer) throw new CommandFailedError("", ExitCode.newerRelease);
  },
});
