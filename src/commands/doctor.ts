import { defineCommand } from "citty";
import { CommandFailed, ExitCode } from "../cli/exit-codes.ts";
import { UNREACHABLE_FIX } from "../cli/report-error.ts";
import { printJson, printResult, setQuiet } from "../cli/output.ts";
import { formatDoctorReport } from "../cli/render/doctor.ts";
import { gatherDoctorReport } from "../doctor/report.ts";
import { openEngine } from "../engine/open-engine.ts";
import { engineArgs, engineChoice, jsonArg } from "../cli/flags/common.ts";
import { hostRegistryArgs, hostRegistryChoice } from "../cli/flags/host-registries.ts";

export default defineCommand({
  meta: { name: "doctor", description: "Report which Docker engine is used, how it was found, and the util images" },
  args: { ...hostRegistryArgs, ...engineArgs, ...jsonArg },
  async run({ args }) {
    setQuiet(Boolean(args.json));
    const report = await gatherDoctorReport(openEngine(engineChoice(args)), hostRegistryChoice(args));
    if (args.json) printJson(report);
    else printResult(formatDoctorReport(report));
    const error = report.engine.error;
    if (!error) return;
    const message = error.kind === "unreachable" && !error.fix ? `${error.message} ${UNREACHABLE_FIX}` : error.message;
    throw new CommandFailed(message, error.kind === "other" ? ExitCode.failed : ExitCode.engine);
  },
});
