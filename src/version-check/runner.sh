# shellcheck shell=bash
# The runner of a version-check container: it runs the version.sh scripts of many agents, each
# as a user of its own. run-in-image.ts embeds this file (an import as text, as util-images/
# embeds the Dockerfiles) and starts it as root: bash -c "<this file>" aicage-version-check ARGS.
# It is never a file in the container, so shellcheck reads it here.
#
# ARGS, in order (run-in-image.ts builds them from its constants and check-files.ts's, the one
# home of every value; a unit test runs the lines that read them):
#   ROOT ID_BASE STARTED_PREFIX RESULT_PREFIX READ_CHARS GRACE PREPARE CA_VARIABLES VARIABLES
#   JOBS LIMIT CAP NAMES [FILE CRLF]...
#   ROOT            the check's folder (agents/<n>, home/<n>, tmp/<n>, results)
#   ID_BASE         script n runs as uid = gid = ID_BASE + n
#   STARTED_PREFIX  the word of the line that says a script started
#   RESULT_PREFIX   the word of a result record
#   READ_CHARS      a record this short is read by this shell, a longer one printed by cat
#   GRACE           seconds between timeout's TERM and its KILL
#   PREPARE         the script run as root before any agent (the host's CAs), when it exists
#   CA_VARIABLES    the CA variables, space-separated, unset when PREPARE fails
#   VARIABLES       the root-only folder holding one file per host variable the scripts get
#   JOBS            scripts running at once; LIMIT: seconds each may take; CAP: bytes kept of
#                   each output stream
#   NAMES           the names of those variables, space-separated (never a value: values are
#                   files, so that no secret is in the container's configuration)
#   FILE CRLF       per script n: its file in its folder, and 1 if it has CRLF line ends
#
# Per script n: say that it starts (STARTED_PREFIX n), open its output files, cd to its copy,
# drop to its user with setpriv (no capabilities, no supplementary groups, no-new-privs), run
# it under `timeout`, then kill whatever of that user is still running, and write its result
# record to a file:
#   RESULT_PREFIX <n> <exit code> <ms> <stdout base64> <stderr base64>
# each stream's first CAP+1 bytes: one more than is kept tells that it was cut. base64 keeps
# non-UTF-8 bytes intact through the engine's log driver. Whenever a script has ended, the
# main shell prints the records that are complete (marked by a .done file written after
# them), one at a time: records of scripts that end together never interleave, and the host
# sees each agent finish as it does.
set -u
umask 077
root=$1 id_base=$2 started_prefix=$3 result_prefix=$4 read_chars=$5 grace=$6 prepare=$7 ca_variables=$8
variables=$9 jobs=${10} limit=${11} cap=${12} names=${13}
shift 13
count=$(($# / 2))
results=$root/results
if ! command -v setpriv >/dev/null; then
  echo "the image has no setpriv (util-linux), which runs each script as a user of its own" >&2
  exit 125
fi
# Names for the agents' users: some tools look theirs up.
for ((n = 0; n < count; n++)); do
  printf 'aicage-agent-%d:x:%d:%d::%s:/bin/bash\n' $n $((id_base + n)) $((id_base + n)) "$root/home/$n" >&3
  printf 'aicage-agent-%d:x:%d:\n' $n $((id_base + n)) >&4
done 3>>/etc/passwd 4>>/etc/group
# The host's CAs join the image's bundle (host-registries/), readable by every agent. Should
# that fail, no tool may point at a missing file: the CA variables go.
# shellcheck source=/dev/null # PREPARE is made on the host (host-registries/) and copied in
if [ -f "$prepare" ] && ! (umask 022; . "$prepare") >/dev/null 2>&1; then
  read -r -a ca_names <<<"$ca_variables"
  unset "${ca_names[@]}"
fi
# The host variables every script gets (GitHub tokens, proxies, --env): read from files only root
# can read into this shell, unexported (the runner's own processes never see them), and the
# files removed. Each script's subshell exports them for that script alone, whose environment
# only its own user can read.
declare -A forwarded=()
read -r -a variable_names <<<"$names"
for name in "${variable_names[@]}"; do
  value=
  [ -f "$variables/$name" ] && IFS= read -r -d '' value <"$variables/$name"
  forwarded[$name]=$value
done
unset value
((${#variable_names[@]} == 0)) || rm -rf "$variables"
# Every process started costs a few ms in a container (twenty scripts started about 260): times
# come from bash's clock ($EPOCHREALTIME without its dot: microseconds), not date(1), the
# variables are exported, not set through env(1), and an empty output is not read. (Looking
# through /proc for a leftover before starting the kill cost more than the kill once twenty
# scripts ran: every agent's processes are read.)
# The base64 of an output file's first cap+1 bytes; an empty one starts nothing.
capped() {
  [ -s "$1" ] && head -c "$((cap + 1))" "$1" | base64 -w0
}
# Starts a script. Its arguments: NAME=value words, "--", then the command. In a subshell of its
# own, which exports the host's variables first (so their names cannot clash with the runner's
# own: after them, only positional parameters are read), then the words (which win over the
# host's), then becomes the command.
launch() {
  (
    for name in "${!forwarded[@]}"; do export "$name=${forwarded[$name]}"; done
    while [ "$1" != -- ]; do export "${1?}"; shift; done
    shift
    exec "$@"
  )
}
# Runs in a background subshell of its own: it may cd, and runs its commands with one further
# subshell (launch) and no "$(…)": each is a process more per script.
run_one() {
  local n=$1 file=$2 crlf=$3 id=$((id_base + $1)) start end rc=126
  local dir=$root/agents/$1 home=$root/home/$1
  set -- bash "$dir/$file"
  # shellcheck disable=SC2016 # $0 and $(…) are the inner bash's: it strips the CRs and runs the script
  [ "$crlf" = 1 ] && set -- bash -c 'eval "$(sed "s/\r\$//" "$0")"' "$dir/$file"
  set -- "HOME=$home" "TMPDIR=$root/tmp/$n" "USER=aicage-agent-$n" "LOGNAME=aicage-agent-$n" \
    "NPM_CONFIG_CACHE=$home/.npm" "PIP_CACHE_DIR=$home/.cache/pip" -- \
    setpriv --reuid=$id --regid=$id --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs \
    timeout -k "$grace" "$limit" "$@"
  start=${EPOCHREALTIME/./}
  if cd "$dir" 2>"$results/$n.err"; then
    launch "$@" >"$results/$n.out" 2>"$results/$n.err" </dev/null
    rc=$?
  fi
  end=${EPOCHREALTIME/./}
  # What the script left running (a background job, a daemon that left its process group)
  # ends with it: kill(-1) as the agent's own user reaches exactly that user's processes.
  setpriv --reuid=$id --regid=$id --clear-groups --inh-caps=-all --bounding-set=-all \
    sh -c 'kill -KILL -1' >/dev/null 2>&1
  {
    printf '%s %s %s %s ' "$result_prefix" "$n" "$rc" "$(((end - start) / 1000))"
    capped "$results/$n.out"
    printf ' '
    capped "$results/$n.err"
    printf '\n'
  } >"$results/$n.rec"
  : >"$results/$n.done"
}
# Prints the record of every started script that has ended since the last call (live[k]: k
# started and not yet printed; first: the lowest such k). A record is read by this shell
# (no process started) when it fits in READ_CHARS characters; a longer one (a big output) is
# printed by cat.
live=() first=0
report() {
  local k rec rest
  for ((k = first; k < n; k++)); do
    if ! ((live[k])) || [ ! -e "$results/$k.done" ]; then continue; fi
    live[k]=0
    if { IFS= read -r -n "$read_chars" rec; ! IFS= read -r -n 1 rest; } <"$results/$k.rec"; then
      printf '%s\n' "$rec"
    else
      cat "$results/$k.rec"
    fi
  done
  while ((first < n && !live[first])); do first=$((first + 1)); done
}
n=0 running=0
while [ $# -gt 0 ]; do
  if [ $running -ge "$jobs" ]; then wait -n; running=$((running - 1)); report; fi
  printf '%s %d\n' "$started_prefix" "$n"
  live[n]=1
  run_one "$n" "$1" "$2" &
  n=$((n + 1)) running=$((running + 1))
  shift 2
done
while [ $running -gt 0 ]; do wait -n; running=$((running - 1)); report; done
wait
report
