// The command tree: every command, loaded only when it runs (or when help or the completion
// scripts describe it), so `--version` and a single command start fast.
import { type CommandDef, defineCommand } from "citty";
import { toolVersion } from "../../core/tool-info.ts";

export const root: CommandDef = defineCommand({
  meta: {
    name: "aicage-util",
    version: toolVersion,
    description: "Version checks and local image builds for aicage, through the Docker Engine API",
  },
  subCommands: {
    build: () => import("../build/command.ts").then((m) => m.default),
    doctor: () => import("../doctor/command.ts").then((m) => m.default),
    images: () => import("../images/command.ts").then((m) => m.default),
    "version-check": () => import("../version-check/command.ts").then((m) => m.default),
    upgrade: () => import("../upgrade/command.ts").then((m) => m.default),
    completion: (): Promise<CommandDef<any>> =>
      import("../completion/command.ts").then((m) => m.completionCommand(root)),
  },
});
