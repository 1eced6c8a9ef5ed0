// The fish completion script: a function that walks the words typed so far to the command,
// and one `complete` line per subcommand, flag and value, each shown only at its command.
import { type CommandSpec, type FlagSpec, flagForm } from "../command-tree.ts";
import { type ValueKind, allCommands, pathKey, valueKind } from "./values.ts";

/** A fish word in single quotes. */
const q = (text: string) => `'${text.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;

function valueArgs(kind: ValueKind): string {
  switch (kind.kind) {
    case "words":
      return `-x -a ${q(kind.words.join(" "))}`;
    case "files":
      return "-r -F";
    case "dirs":
      return "-x -a '(__fish_complete_directories (commandline -ct))'";
    case "env":
      return "-x -a '(set -xn)'";
    case "none":
      return "-x";
  }
}

function flagLine(program: string, at: string, flag: FlagSpec): string {
  const form = flagForm(flag);
  const parts = [`complete -c ${program} -n ${at} -l ${form}`];
  for (const alias of flag.aliases) parts.push(alias.length === 1 ? `-s ${alias}` : `-l ${alias}`);
  if (flag.type !== "boolean") parts.push(valueArgs(valueKind(flag)));
  const text =
    flag.type === "boolean" && flag.default === true
      ? (flag.negativeDescription ?? flag.description)
      : flag.description;
  parts.push(`-d ${q(text)}`);
  return parts.join(" ");
}

export function fishScript(root: CommandSpec, program: string): string {
  const fn = `__${program.replace(/[^A-Za-z0-9]/g, "_")}`;
  const commands = allCommands(root);
  const subs = commands.flatMap((c) => c.subcommands.map((s) => q(`${pathKey(c)}|${s.name}`)));
  const valueFlags = commands.flatMap((c) =>
    c.flags
      .filter((f) => f.type !== "boolean")
      .flatMap((f) =>
        [`--${flagForm(f)}`, ...f.aliases.map((a) => (a.length === 1 ? `-${a}` : `--${a}`))].map((n) =>
          q(`${pathKey(c)}|${n}`),
        ),
      ),
  );
  const lines: string[] = [];
  for (const command of commands) {
    const at = q(`${fn}_at ${q(pathKey(command))}`);
    for (const sub of command.subcommands)
      lines.push(`complete -c ${program} -n ${at} -x -a ${q(sub.name)} -d ${q(sub.description)}`);
    for (const flag of command.flags) lines.push(flagLine(program, at, flag));
    lines.push(`complete -c ${program} -n ${at} -s h -l help -d 'Show this help'`);
    if (command.path.length === 1) lines.push(`complete -c ${program} -n ${at} -s v -l version -d 'Print the version'`);
    const positional = command.positionals[0];
    if (positional && !command.subcommands.length) {
      const kind = valueKind(positional);
      if (kind.kind === "files") lines.push(`complete -c ${program} -n ${at} -F`);
      else if (kind.kind !== "none")
        lines.push(`complete -c ${program} -n ${at} ${valueArgs(kind).replace(/^-[xr] /, "")}`);
    }
  }
  return `# ${program} completion for fish, made by '${program} completion fish'.
# Load it:  ${program} completion fish | source
# or save it as ~/.config/fish/completions/${program}.fish
set -g ${fn}_subcommands ${subs.join(" ")}
set -g ${fn}_value_flags ${valueFlags.join(" ")}
function ${fn}_path --description 'the ${program} command typed so far'
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l path ''
    set -l skip 0
    for t in $tokens
        if test $skip -eq 1
            set skip 0
        else if string match -q -- '-*' $t
            if not string match -q -- '*=*' $t; and contains -- "$path|$t" $${fn}_value_flags
                set skip 1
            end
        else if contains -- "$path|$t" $${fn}_subcommands
            set path (string trim -- "$path $t")
        end
    end
    echo $path
end
function ${fn}_at --argument-names want
    set -l path (${fn}_path)
    test "$path" = "$want"
end
complete -c ${program} -f
${lines.join("\n")}
`;
}
