// The bash completion script: plain bash (4.0 or newer), no bash-completion package needed.
// The command tree is written into it as case tables; the function walks the words typed so
// far to find the command, then completes a subcommand, a flag, or a value.
import { type CommandSpec, flagForm } from "../command-tree.ts";
import { type ValueKind, allCommands, builtinFlags, flagNames, pathKey, valueKind } from "./values.ts";

/** A bash word in single quotes. */
const q = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/** How the completion function produces a kind of value: "w:WORDS", "f", "d", "e" or "". */
function valueCode(kind: ValueKind): string {
  switch (kind.kind) {
    case "words":
      return `w:${kind.words.join(" ")}`;
    case "files":
      return "f";
    case "dirs":
      return "d";
    case "env":
      return "e";
    case "none":
      return "";
  }
}

function caseTable(name: string, rows: Array<[string, string]>): string {
  const arms = rows.filter(([, value]) => value !== "").map(([key, value]) => `    ${q(key)}) REPLY=${q(value)} ;;`);
  return [`${name}() {`, "  REPLY=", '  case "$1" in', ...arms, "  esac", "}"].join("\n");
}

export function bashScript(root: CommandSpec, program: string): string {
  const commands = allCommands(root);
  const fn = `_${program.replace(/[^A-Za-z0-9]/g, "_")}`;
  const subs: Array<[string, string]> = commands.map((c) => [pathKey(c), c.subcommands.map((s) => s.name).join(" ")]);
  const flags: Array<[string, string]> = commands.map((c) => [
    pathKey(c),
    [...c.flags.flatMap((f) => flagNames(f, flagForm(f))), ...builtinFlags(c)].join(" "),
  ]);
  const values: Array<[string, string]> = commands.flatMap((c) =>
    c.flags
      .filter((f) => f.type !== "boolean")
      .flatMap((f) =>
        flagNames(f, flagForm(f)).map((name): [string, string] => [
          `${pathKey(c)}|${name}`,
          valueCode(valueKind(f)) || "-",
        ]),
      ),
  );
  const positional: Array<[string, string]> = commands.map((c) => [
    pathKey(c),
    c.positionals[0] ? valueCode(valueKind(c.positionals[0])) : "",
  ]);

  return `# ${program} completion for bash, made by '${program} completion bash'.
# Load it in ~/.bashrc:  source <(${program} completion bash)
${caseTable(`${fn}_subcommands`, subs)}
${caseTable(`${fn}_flags`, flags)}
# The flags that take a value; REPLY says how to complete it ("-": free text).
${caseTable(`${fn}_flag_value`, values)}
${caseTable(`${fn}_positional`, positional)}
${fn}_complete_value() {
  local cur=$2
  case $1 in
    w:*) COMPREPLY=($(compgen -W "\${1#w:}" -- "$cur")) ;;
    f) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")) ;;
    d) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur")) ;;
    e) COMPREPLY=($(compgen -e -- "$cur")) ;;
    *) COMPREPLY=() ;;
  esac
}
${fn}() {
  local cur=\${COMP_WORDS[COMP_CWORD]} path= word flag= prefix= i=1
  # The command path: every word before the current one that names a subcommand of the path so far.
  while ((i < COMP_CWORD)); do
    word=\${COMP_WORDS[i]}
    if [[ $word == -* && $word != *=* ]]; then
      ${fn}_flag_value "$path|$word"
      # Skip the flag's value; "--flag=value" arrives as three words ("=" breaks words).
      if [[ -n $REPLY && \${COMP_WORDS[i + 1]-} == = ]]; then
        ((i += 2))
      elif [[ -n $REPLY ]]; then
        ((i++))
      fi
    elif [[ $word != -* ]]; then
      ${fn}_subcommands "$path"
      [[ " $REPLY " == *" $word "* ]] && path=\${path:+$path }$word
    fi
    ((i++))
  done
  local prev=\${COMP_WORDS[COMP_CWORD - 1]-}
  if [[ $cur == = ]]; then
    flag=$prev cur=
  elif [[ $prev == = ]]; then
    flag=\${COMP_WORDS[COMP_CWORD - 2]-}
  elif [[ $cur == --*=* ]]; then
    # "=" is not a word break here: the value keeps its "--flag=" in front
    flag=\${cur%%=*} prefix=\${cur%%=*}= cur=\${cur#*=}
  elif [[ $prev == -* ]]; then
    flag=$prev
  fi
  if [[ -n $flag ]]; then
    ${fn}_flag_value "$path|$flag"
    if [[ -n $REPLY ]]; then
      ${fn}_complete_value "$REPLY" "$cur"
      [[ -n $prefix ]] && COMPREPLY=("\${COMPREPLY[@]/#/$prefix}")
      return 0
    fi
  fi
  if [[ $cur == -* ]]; then
    ${fn}_flags "$path"
    COMPREPLY=($(compgen -W "$REPLY" -- "$cur"))
    return 0
  fi
  ${fn}_subcommands "$path"
  if [[ -n $REPLY ]]; then
    COMPREPLY=($(compgen -W "$REPLY" -- "$cur"))
    return 0
  fi
  ${fn}_positional "$path"
  ${fn}_complete_value "$REPLY" "$cur"
}
complete -F ${fn} ${program}
`;
}
