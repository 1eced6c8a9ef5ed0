// What a flag's or argument's value completes to, from its definition: an enum's options, or
// by its value hint (the word help shows, e.g. DIR or KIND). A hint not named here completes
// to nothing: free text such as a tag or a URL.
import { UTIL_IMAGE_KINDS } from "../../util-images/catalog.ts";
import type { CommandSpec, FlagSpec, PositionalSpec } from "../command-tree.ts";

export const SHELLS = ["bash", "zsh", "fish"] as const;
export type Shell = (typeof SHELLS)[number];

export type ValueKind =
  | { kind: "words"; words: string[] }
  | { kind: "files" }
  | { kind: "dirs" }
  /** names of environment variables */
  | { kind: "env" }
  | { kind: "none" };

const BY_HINT: Record<string, ValueKind> = {
  KIND: { kind: "words", words: [...UTIL_IMAGE_KINDS] },
  SHELL: { kind: "words", words: [...SHELLS] },
  ORDER: { kind: "words", words: ["image,host", "host,image"] },
  MODE: { kind: "words", words: ["host", "none", "bridge"] },
  DIR: { kind: "dirs" },
  CONTEXT: { kind: "dirs" },
  FILE: { kind: "files" },
  DOCKERFILE: { kind: "files" },
  PATH: { kind: "files" },
  NAME: { kind: "env" },
};

export function valueKind(arg: FlagSpec | PositionalSpec): ValueKind {
  if ("options" in arg && arg.type === "enum") return { kind: "words", words: arg.options };
  return (arg.valueHint && BY_HINT[arg.valueHint]) || { kind: "none" };
}

/** Every command of the tree, the root first, depth first. */
export function allCommands(root: CommandSpec): CommandSpec[] {
  return [root, ...root.subcommands.flatMap(allCommands)];
}

/** A command's path without the program's name: "" for the root, "images ls" below it. */
export function pathKey(command: CommandSpec): string {
  return command.path.slice(1).join(" ");
}

/** The names a flag is written with, long first: --tag, -t. */
export function flagNames(flag: FlagSpec, form: string): string[] {
  return [`--${form}`, ...flag.aliases.map((alias) => (alias.length === 1 ? `-${alias}` : `--${alias}`))];
}

/** The flags run.ts answers for every command: --help, and --version at the root. */
export function builtinFlags(command: CommandSpec): string[] {
  return command.path.length === 1 ? ["--help", "-h", "--version", "-v"] : ["--help", "-h"];
}
