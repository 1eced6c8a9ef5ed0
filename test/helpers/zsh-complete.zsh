#!/usr/bin/env zsh
# Asks a real interactive zsh for the completions of a command line, as Tab would give them:
#   zsh -f zsh-complete.zsh SCRIPT OUT 'aicage-util images '
# SCRIPT is loaded after compinit; every match compadd adds is written to OUT, one a line,
# "match -- description" where there is one. The inner shell runs on a pty (zsh/zpty) and
# exits right after the completion, so this script ends on its own.
emulate -L zsh
zmodload zsh/zpty || { print -u2 "zsh has no zsh/zpty module"; exit 2 }
local script=$1 out=$2 line=$3
: >| $out
zpty z zsh -f -i
zpty -w z "PROMPT= RPROMPT= PS2="
zpty -w z "autoload -Uz compinit && compinit -u -d ${(q)out}.zcompdump"
zpty -w z "source ${(q)script}"
zpty -w z "bindkey '^I' complete-word"
zpty -w z "zstyle ':completion:*' list-grouped false; zstyle ':completion:*' insert-tab false"
zpty -w z "__out=${(q)out}"
# Matches added for real (not into an array for later) are written out with their descriptions.
zpty -w z 'compadd() {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return $?; fi
  local -a __hits __dscr
  if (( $@[(I)-d] )); then local __t=${@[$[${@[(i)-d]}+1]]}; if [[ $__t == \(* ]]; then eval "__dscr=$__t"; else __dscr=( "${(@P)__t}" ); fi; fi
  builtin compadd -A __hits -D __dscr "$@"
  local i; for i in {1..$#__hits}; do print -r -- "$__hits[$i]${__dscr[$i]:+ -- ${__dscr[$i]}}" >> $__out; done
  builtin compadd "$@"
}'
zpty -w z 'comppostfuncs=( exit )'
zpty -w z "$line"$'\t'
# Read until the inner shell has exited (or give up after 20 s).
local chunk deadline=$(( SECONDS + 20 ))
zmodload zsh/zselect
while zpty -r -t z chunk 2>/dev/null || (( SECONDS < deadline )) && zpty -t z 2>/dev/null; do zselect -t 1; done
zpty -d z 2>/dev/null
exit 0
