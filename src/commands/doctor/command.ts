import { defineCommand } from "citty";
import { CommandFailedError } from "../../cli/exit-codes.ts";
import { failureFor } from "../../cli/report-error.ts";
import { jsonOutput, printJson, printResult } from "../../cli/output.ts";
import { formatDoctorReport } from "./render.ts";
import { gatherDoctorReport } from "../../doctor/report.ts";
import { openEngine } from "../../workloads/open-engine.ts";
import { engineArgs, engineChoice, jsonArg } from "../../cli/flags/common.ts";
import { hostRegistryArgs, hostRegistryChoice } from "../../cli/flags/host-registries.ts";

export default defineCommand({
  meta: { name: "doctor", description: "Report which Docker engine is used, how it was found, and the util images" },
  args: { ...hostRegistryArgs, ...engineArgs, ...jsonArg },
  async run({ args }) {
    const json = jsonOutput(args);
    const { report, engineFailure } = await gatherDoctorReport(
      openEngine(engineChoice(args)),
      hostRegistryChoice(args),
    );
    if (json) printJson(report);
    else printResult(formatDoctorReport(report));
    if (engineFailure === undefined) return;
    // The report is out (JSON included); the error ends the command as it would any other.
    const { line, exitCode } = failureFor(engineFailure);
    throw new CommandFailedError(line, exitCode);
  },
});
