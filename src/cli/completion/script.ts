// The completion script of a shell for a command tree.
import type { CommandSpec } from "../command-tree.ts";
import { bashScript } from "./bash.ts";
import { fishScript } from "./fish.ts";
import type { Shell } from "./values.ts";
import { zshScript } from "./zsh.ts";

export function completionScript(shell: Shell, root: CommandSpec): string {
  const program = root.path[0]!;
  return shell === "bash"
    ? bashScript(root, program)
    : shell === "zsh"
      ? zshScript(root, program)
      : fishScript(root, program);
}
