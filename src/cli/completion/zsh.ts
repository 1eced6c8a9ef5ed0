// The zsh completion script: one _arguments function per command, with each flag's text and
// each value's completion; a dispatcher walks the words typed so far to the command, shifts
// them as if that command were run alone, and calls its function.
import { type CommandSpec, type FlagSpec, flagForm } from "../command-tree.ts";
import { type ValueKind, allCommands, flagNames, pathKey, valueKind } from "./values.ts";

/** A zsh word in single quotes. */
const q = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
/** Text inside an _arguments [explanation]: brackets and colons escaped. */
const explain = (text: string) => text.replace(/([\\[\]:])/g, "\\$1");

function action(kind: ValueKind): string {
  switch (kind.kind) {
    case "words":
      return `(${kind.words.map((w) => w.replace(/([\\ ()])/g, "\\$1")).join(" ")})`;
    case "files":
      return "_files";
    case "dirs":
      return "_files -/";
    case "env":
      return '_parameters -g "*export*"';
    case "none":
      return " ";
  }
}

function flagSpecs(flag: FlagSpec): string[] {
  const text = explain(
    flag.type === "boolean" && flag.default === true
      ? (flag.negativeDescription ?? flag.description)
      : flag.description,
  );
  return flagNames(flag, flagForm(flag)).map((name) => {
    if (flag.type === "boolean") return q(`${name}[${text}]`);
    const message = (flag.valueHint ?? flag.name).replace(/:/g, "");
    // --flag=[…] takes its value after "=" or as the next word; every value flag may repeat.
    return q(`*${name}${name.startsWith("--") ? "=" : ""}[${text}]:${message}:${action(valueKind(flag))}`);
  });
}

function commandFunction(command: CommandSpec, name: string): string {
  const specs = [...command.flags.flatMap(flagSpecs), q("(- *)--help[Show this help]"), q("(- *)-h[Show this help]")];
  if (command.path.length === 1) specs.push(q("(- *)--version[Print the version]"), q("(- *)-v[Print the version]"));
  if (command.subcommands.length) {
    const items = command.subcommands.map((s) => q(`${s.name.replace(/:/g, "\\:")}:${s.description}`));
    return `${name}() {
  local -a subcommands
  subcommands=(${items.join(" ")})
  _arguments -s ${specs.join(" ")} '1:command:{_describe -t commands command subcommands}'
}`;
  }
  const positional = command.positionals[0];
  if (positional)
    specs.push(q(`*:${(positional.valueHint ?? positional.name).replace(/:/g, "")}:${action(valueKind(positional))}`));
  return `${name}() {
  _arguments -s ${specs.join(" ")}
}`;
}

export function zshScript(root: CommandSpec, program: string): string {
  const fn = `_${program.replace(/[^A-Za-z0-9]/g, "_")}`;
  const commands = allCommands(root);
  const nameOf = (c: CommandSpec) => `${fn}_cmd_${pathKey(c).replace(/[^A-Za-z0-9]/g, "_")}`;
  const subArms = commands
    .filter((c) => c.subcommands.length)
    .map((c) => `    ${q(pathKey(c))}) REPLY=${q(c.subcommands.map((s) => s.name).join(" "))} ;;`);
  const valueFlags = commands.flatMap((c) =>
    c.flags
      .filter((f) => f.type !== "boolean")
      .flatMap((f) => flagNames(f, flagForm(f)).map((n) => q(`${pathKey(c)}|${n}`))),
  );
  const dispatch = commands.map((c) => `    ${q(pathKey(c))}) ${nameOf(c)} ;;`);
  return `#compdef ${program}
# ${program} completion for zsh, made by '${program} completion zsh'.
# Load it in ~/.zshrc after compinit:  source <(${program} completion zsh)
# or save it as _${program} in a folder on $fpath.
${commands.map((c) => commandFunction(c, nameOf(c))).join("\n")}
${fn}_subcommands() {
  REPLY=
  case $1 in
${subArms.join("\n")}
  esac
}
${fn}() {
  local -a value_flags
  value_flags=(${valueFlags.join(" ")})
  local i=2 start=1 word path=
  while (( i < CURRENT )); do
    word=\${words[i]}
    if [[ $word == -* && $word != *=* ]]; then
      (( \${value_flags[(Ie)$path|$word]} )) && (( i++ ))
    elif [[ $word != -* ]]; then
      ${fn}_subcommands "$path"
      if (( \${\${=REPLY}[(Ie)$word]} )); then
        path=\${path:+$path }$word
        start=$i
      fi
    fi
    (( i++ ))
  done
  if (( start > 1 )); then
    words=("\${words[1]}" "\${(@)words[start+1,-1]}")
    (( CURRENT -= start - 1 ))
  fi
  case $path in
${dispatch.join("\n")}
  esac
}
if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then
  ${fn} "$@"
else
  compdef ${fn} ${program}
fi
`;
}
