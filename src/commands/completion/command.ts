import { type CommandDef, defineCommand } from "citty";
import { describeCommand } from "../../cli/command-tree.ts";
import { completionScript } from "../../cli/completion/script.ts";
import { SHELLS, type Shell } from "../../cli/completion/values.ts";
import { printResult } from "../../cli/output.ts";
import { UsageError } from "../../core/errors.ts";

/** The command needs the whole tree it completes: the entry hands over the root. */
export function completionCommand(root: CommandDef<any>) {
  return defineCommand({
    meta: {
      name: "completion",
      description: "Print the shell completion script for bash, zsh or fish (see the README for where it goes)",
    },
    args: {
      shell: { type: "positional", required: false, description: SHELLS.join(", "), valueHint: "SHELL" },
    },
    async run({ args }) {
      const shell = args.shell as string | undefined;
      if (!shell) throw new UsageError(`name a shell, ${SHELLS.join(", ")}: e.g. aicage-util completion bash`);
      if (!(SHELLS as readonly string[]).includes(shell))
        throw new UsageError(`no completion for '${shell}'; shells: ${SHELLS.join(", ")}`);
      const meta = typeof root.meta === "function" ? await root.meta() : await root.meta;
      printResult(completionScript(shell as Shell, await describeCommand(root, [meta?.name ?? "aicage-util"])));
    },
  });
}
