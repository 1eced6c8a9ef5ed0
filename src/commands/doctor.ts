import { defineCommand } from "citty";
import { CommandFailed, ExitCode } from "../cli/exit-codes.ts";
import { printJson, printResult, setQuiet } from "../cli/output.ts";
import { formatDoctorReport } from "../cli/render/doctor.ts";
import { gatherDoctorReport } from "../doctor/report.ts";
import { openEngine } from "../engine/open-engine.ts";
import { engineArgs, jsonArg } from "../cli/flags/common.ts";

export default defineCommand({
  meta: { name: "doctor", description: "Report which Docker engine is used, how it was found, and the util images" },
  args: { ...engineArgs, ...jsonArg },
  async run({ args }) {
    setQuiet(Boolean(args.json));
    const report = await gatherDoctorReport(openEngine({ host: args.host }));
    if (args.json) printJson(report);
    else printResult(formatDoctorReport(report));
    const error = report.engine.error;
    if (error) throw new CommandFailed(error.message, error.kind === "other" ? ExitCode.failed : ExitCode.engine);
  },
});
