// `--help` text, made from the command definitions (cli/command-tree.ts): styled only on a
// terminal (cli/style.ts), no trailing spaces, and a boolean that is on by default shows as
// its --no- form, once, with what that form does.
import type { CommandDef } from "citty";
import { type CommandSpec, type FlagSpec, describeCommand, flagForm } from "./command-tree.ts";
import { writeStdout } from "./output.ts";
import { type Style, styleFor } from "./style.ts";

type AnyCommand = CommandDef<any>;

/** Rows of two columns, the first padded to the widest; no padding after the last column. */
function columns(rows: Array<[string, string]>, style: Style, indent = "  "): string[] {
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) =>
    right
      ? `${indent}${style.accent(left)}${" ".repeat(width - left.length + 2)}${right}`
      : `${indent}${style.accent(left)}`,
  );
}

function flagLabel(flag: FlagSpec): string {
  const names = [...flag.aliases.filter((a) => a.length === 1).map((a) => `-${a}`), `--${flagForm(flag)}`].join(", ");
  if (flag.type === "boolean") return names;
  if (flag.type === "enum") return `${names} ${flag.options.join("|")}`;
  return `${names} ${flag.valueHint ?? flag.name.toUpperCase()}`;
}

function flagText(flag: FlagSpec): string {
  if (flag.type === "boolean" && flag.default === true) return flag.negativeDescription ?? flag.description;
  return flag.description;
}

function renderHelp(spec: CommandSpec, style: Style): string {
  const name = spec.path.join(" ");
  const lines: string[] = [];
  if (spec.description)
    lines.push(`${spec.description}${spec.version ? style.dim(` (${name} ${spec.version})`) : ""}`, "");
  const usage = [name];
  if (spec.subcommands.length) usage.push("COMMAND");
  if (spec.flags.length) usage.push("[OPTIONS]");
  for (const p of spec.positionals) {
    const hint = p.valueHint ?? p.name.toUpperCase();
    usage.push(p.required ? hint : `[${hint}]`);
  }
  lines.push(`${style.bold("Usage:")} ${usage.join(" ")}`);
  if (spec.positionals.length) {
    lines.push("", style.bold("Arguments:"));
    lines.push(
      ...columns(
        spec.positionals.map((p) => [p.valueHint ?? p.name.toUpperCase(), p.description]),
        style,
      ),
    );
  }
  const options: Array<[string, string]> = spec.flags.map((f) => [flagLabel(f), flagText(f)]);
  options.push(["-h, --help", "Show this help"]);
  if (spec.path.length === 1) options.push(["-v, --version", "Print the version (with --json as JSON)"]);
  lines.push("", style.bold("Options:"), ...columns(options, style));
  if (spec.subcommands.length) {
    lines.push("", style.bold("Commands:"));
    lines.push(
      ...columns(
        spec.subcommands.map((s) => [s.name, s.description]),
        style,
      ),
    );
    lines.push("", `Run '${name} COMMAND --help' for a command's options.`);
  }
  return `${lines.map((line) => line.trimEnd()).join("\n")}\n`;
}

/** Prints the help of the last command of `chain` (the root first) on stdout. */
export async function showHelp(chain: AnyCommand[], names: string[]): Promise<void> {
  const root = chain[0]!;
  const rootName = (typeof root.meta === "function" ? await root.meta() : await root.meta)?.name ?? "aicage-util";
  const spec = await describeCommand(chain.at(-1)!, [rootName, ...names], 1);
  // The version is the root's; a subcommand's help names it too.
  spec.version ??= (typeof root.meta === "function" ? await root.meta() : await root.meta)?.version;
  writeStdout(renderHelp(spec, styleFor(process.stdout)));
}
