// The citty command tree as plain data: names, flags, enum values, positionals. Help and the
// shell completion scripts are both made from it, so neither can drift from the commands.
import type { ArgDef, CommandDef } from "citty";

type AnyCommand = CommandDef<any>;

export interface FlagSpec {
  name: string;
  /** short or other names, without dashes */
  aliases: string[];
  type: "boolean" | "string" | "enum";
  /** the values of an enum flag */
  options: string[];
  valueHint?: string;
  description: string;
  /** for a boolean that is on by default: what its --no- form does */
  negativeDescription?: string;
  default?: unknown;
}

export interface PositionalSpec {
  name: string;
  valueHint?: string;
  description: string;
  required: boolean;
}

export interface CommandSpec {
  name: string;
  /** the names from the root down, the root's included */
  path: string[];
  description: string;
  version?: string;
  flags: FlagSpec[];
  positionals: PositionalSpec[];
  subcommands: CommandSpec[];
}

async function resolve<T>(value: T | (() => T | Promise<T>) | Promise<T>): Promise<T> {
  return typeof value === "function" ? await (value as () => T | Promise<T>)() : await value;
}

const list = (value: string | string[] | undefined) =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** Describes `command` and, down to `depth` levels, its subcommands (hidden ones left out). */
export async function describeCommand(command: AnyCommand, path: string[], depth = Infinity): Promise<CommandSpec> {
  const meta = (await resolve(command.meta)) ?? {};
  const args = ((await resolve(command.args)) ?? {}) as Record<string, ArgDef>;
  const flags: FlagSpec[] = [];
  const positionals: PositionalSpec[] = [];
  for (const [name, def] of Object.entries(args)) {
    const description = def.description ?? "";
    if (def.type === "positional") {
      positionals.push({
        name,
        valueHint: def.valueHint,
        description,
        required: def.required !== false && def.default === undefined,
      });
      continue;
    }
    flags.push({
      name,
      aliases: list((def as { alias?: string | string[] }).alias),
      type: def.type === "boolean" || def.type === "enum" ? def.type : "string",
      options: def.type === "enum" ? [...(def.options ?? [])] : [],
      valueHint: def.valueHint,
      description,
      negativeDescription: def.type === "boolean" ? def.negativeDescription : undefined,
      default: def.default,
    });
  }
  const subcommands: CommandSpec[] = [];
  if (depth > 0 && command.subCommands) {
    for (const [name, sub] of Object.entries(await resolve(command.subCommands))) {
      const resolved = await resolve(sub as AnyCommand);
      if ((await resolve(resolved.meta))?.hidden) continue;
      subcommands.push(await describeCommand(resolved, [...path, name], depth - 1));
    }
  }
  return {
    name: path.at(-1) ?? meta.name ?? "",
    path,
    description: meta.description ?? "",
    version: meta.version,
    flags,
    positionals,
    subcommands,
  };
}

/** How a flag is written on the command line: --name, or --no-name for a boolean that is on by default. */
export function flagForm(flag: FlagSpec): string {
  return flag.type === "boolean" && flag.default === true ? `no-${flag.name}` : flag.name;
}
