# shellcheck shell=bash
# The runner of a version-check container: it runs the version.sh scripts of many agents, each
# as a user of its own. run-in-image.ts embeds this file (an import as text, as util-images/
# embeds the Dockerfiles) and starts it as root: bash -c "<this file>" aicage-version-check ARGS.
# It is never a file in the container, so shellcheck reads it here.
#
# ARGS, in order (run-in-image.ts builds them from its constants and check-files.ts's, the one
# home of every value; a unit test runs the lines that read them):
#   ROOT ID_BASE STARTED_PREFIX RESULT_PREFIX READ_CHARS GRACE PREPARE CA_VARIABLES VARIABLES
#   NPROC DATA_KIB OOM_SCORE_ADJ JOBS LIMIT CAP NAMES [FILE CRLF]...
#   ROOT            the check's folder (agents/<n>, home/<n>, tmp/<n>, results)
#   ID_BASE         script n runs as uid = gid = ID_BASE + n
#   STARTED_PREFIX  the word of the line that says a script started
#   RESULT_PREFIX   the word of a result record
#   READ_CHARS      a record this short is read by this shell, a longer one printed by cat
#   GRACE           seconds between the deadline's TERM and its KILL
#   PREPARE         the script run as root before any agent (the host's CAs), when it exists
#   CA_VARIABLES    the CA variables, space-separated, unset when PREPARE fails
#   VARIABLES       the root-only folder holding one file per host variable the scripts get
#   NPROC           processes (threads count) each agent's user may have at once
#   DATA_KIB        memory (data segment and private mappings) each of its processes may take
#   OOM_SCORE_ADJ   each agent's processes go first when the container runs out of memory
#   JOBS            scripts running at once; LIMIT: seconds each may take; CAP: bytes kept of
#                   each output stream
#   NAMES           the names of those variables, space-separated (never a value: values are
#                   files, so that no secret is in the container's configuration)
#   FILE CRLF       per script n: its file in its folder, and 1 if it has CRLF line ends
#
# Per script n: say that it starts (STARTED_PREFIX n), open its output files in its own
# root-only results folder (a small tmpfs: a flood fills only its own), cd to its copy, drop to
# its user with setpriv (no capabilities, no supplementary groups, no-new-privs) under its own
# process and memory limits, and keep its deadline from this root shell: the agent can neither
# stop nor signal a root process. At the deadline its user's processes get TERM, after GRACE
# seconds KILL; when it ends, whatever it left running is killed the same way, its files in
# HOME, TMPDIR (its own tmpfs mounts) and the shared /tmp go, and its result record is written:
#   RESULT_PREFIX <n> <exit code> <ms> <stdout base64> <stderr base64>
# exit code 124: the deadline struck. Each stream's first CAP+1 bytes: one more than is kept
# tells that it was cut. base64 keeps non-UTF-8 bytes intact through the engine's log driver.
# Whenever a script has ended, the main shell prints the records that are complete (marked by
# a .done file written after them), one at a time: records of scripts that end together never
# interleave, and the host sees each agent finish as it does (and keeps what arrived, whatever
# happens to the container later).
set -u
umask 077
root=$1 id_base=$2 started_prefix=$3 result_prefix=$4 read_chars=$5 grace=$6 prepare=$7 ca_variables=$8
variables=$9 nproc=${10} data_kib=${11} oom_score_adj=${12} jobs=${13} limit=${14} cap=${15} names=${16}
shift 16
count=$(($# / 2))
results=$root/results
if ! command -v setpriv >/dev/null; then
  echo "the image has no setpriv (util-linux), which runs each script as a user of its own" >&2
  exit 125
fi
# wait -p (bash 5.1) tells which of an agent and its deadline ended first.
if ((BASH_VERSINFO[0] < 5 || (BASH_VERSINFO[0] == 5 && BASH_VERSINFO[1] < 1))); then
  echo "the image's bash is ${BASH_VERSION%%(*}; the check runner needs bash 5.1 or newer" >&2
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
# variables are exported, not set through env(1), an empty output is not read, and an agent's
# processes are found through /proc by this shell itself.
# The base64 of an output file's first cap+1 bytes; an empty one starts nothing.
capped() {
  [ -s "$1" ] && head -c "$((cap + 1))" "$1" | base64 -w0
}
# The world-writable folders of the root file system that are no tmpfs of the container's own
# (run-in-image.ts mounts /tmp and /var/tmp): closed, so that no agent writes to the engine's disk.
chmod o-w /run/lock /var/lock 2>/dev/null
# Reads the user and state of the process whose /proc folder is $1 into status_uid and
# status_state (the caller's locals); answers whether it could. A process that ends while it
# is read (one just killed, or another agent's) may open its status and then fail to read it:
# both are then empty, never the last process's values, and never unset (under set -u that
# ended the agent's subshell, and its result was lost).
read_status() {
  local key='' value='' rest=''
  status_uid='' status_state=''
  {
    while read -r key value rest; do
      case $key in
      State:) status_state=$value ;;
      Uid:)
        status_uid=$value
        break
        ;;
      esac
    done
  } 2>/dev/null <"$1/status"
  [ -n "$status_uid" ]
}
# Sends a signal to every process of user $1 (not a zombie: it has ended, its parent reaps it).
# Answers whether there was any. Root may signal them (KILL capability); they cannot signal it.
signal_user() {
  local uid=$1 signal=$2 p found=1 status_uid='' status_state=''
  for p in /proc/[0-9]*; do
    # Root's own (the runner, tini) need no reading: a /proc folder belongs to its process's user.
    [ -O "$p" ] && continue
    read_status "$p" || continue
    if [ "$status_uid" = "$uid" ] && [ "$status_state" != Z ]; then
      kill "-$signal" "${p#/proc/}" 2>/dev/null && found=0
    fi
  done
  return $found
}
# Kills every process of user $1 until none is left: one forked while the list was read is
# caught by the next round (the user's process limit bounds how many there can be).
kill_user() {
  local round
  for ((round = 0; round < 50; round++)); do
    signal_user "$1" KILL || return 0
  done
}
# Starts a script. Its arguments: NAME=value words, "--", then the command. In a subshell of its
# own, which exports the host's variables first (so their names cannot clash with the runner's
# own: after them, only positional parameters are read), then the words (which win over the
# host's), sets the agent's limits, then becomes the command.
launch() {
  (
    for name in "${!forwarded[@]}"; do export "$name=${forwarded[$name]}"; done
    while [ "$1" != -- ]; do export "${1?}"; shift; done
    shift
    ulimit -u "$nproc" -d "$data_kib" 2>/dev/null || exit 126
    echo "$oom_score_adj" >/proc/self/oom_score_adj 2>/dev/null
    exec "$@"
  )
}
# Runs the started agent (pid $1, user $2) to its end or its deadline, whichever comes first;
# answers its exit code, 124 when the deadline struck. The deadline is a root process (sleep)
# this shell waits on beside the agent.
await_agent() {
  local agent=$1 id=$2 timer ended='' rc
  sleep "$limit" &
  timer=$!
  wait -n -p ended "$agent" "$timer"
  rc=$?
  if [ "$ended" = "$agent" ]; then
    kill "$timer" 2>/dev/null
    wait "$timer" 2>/dev/null
    return $rc
  fi
  signal_user "$id" TERM
  sleep "$grace" &
  timer=$!
  wait -n -p ended "$agent" "$timer"
  [ "$ended" = "$agent" ] && kill "$timer" 2>/dev/null
  kill_user "$id"
  wait "$agent" "$timer" 2>/dev/null
  return 124
}
# Runs in a background subshell of its own: it may cd, and runs its commands with one further
# subshell (launch) and no "$(…)": each is a process more per script.
run_one() {
  local n=$1 file=$2 crlf=$3 id=$((id_base + $1)) start end rc=126
  local dir=$root/agents/$1 home=$root/home/$1 tmp=$root/tmp/$1 out=$results/$1
  set -- bash "$dir/$file"
  # shellcheck disable=SC2016 # $0 and $(…) are the inner bash's: it strips the CRs and runs the script
  [ "$crlf" = 1 ] && set -- bash -c 'eval "$(sed "s/\r\$//" "$0")"' "$dir/$file"
  set -- "HOME=$home" "TMPDIR=$tmp" "USER=aicage-agent-$n" "LOGNAME=aicage-agent-$n" \
    "NPM_CONFIG_CACHE=$home/.npm" "PIP_CACHE_DIR=$home/.cache/pip" -- \
    setpriv --reuid=$id --regid=$id --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs "$@"
  start=${EPOCHREALTIME/./}
  # Its tmpfs folders are root's until now where the engine knows no tmpfs uid= option (-O:
  # owned by this shell's user, root).
  if { ! [ -O "$home" ] || chown "$id:$id" "$home" "$tmp" 2>"$out/err"; } && cd "$dir" 2>"$out/err"; then
    launch "$@" >"$out/out" 2>"$out/err" </dev/null &
    await_agent $! $id
    rc=$?
  fi
  end=${EPOCHREALTIME/./}
  # What the script left running (a background job, a daemon that left its process group)
  # ends with it; what it wrote to its tmpfs folders and the shared ones goes, so that memory
  # (tmpfs is memory) is free for the next agents. Its user has no process left to stop this.
  kill_user $id
  setpriv --reuid=$id --regid=$id --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs \
    find "$home" "$tmp" /tmp /var/tmp /dev/shm -xdev -mindepth 1 -user $id -delete >/dev/null 2>&1
  {
    printf '%s %s %s %s ' "$result_prefix" "$n" "$rc" "$(((end - start) / 1000))"
    capped "$out/out"
    printf ' '
    capped "$out/err"
    printf '\n'
  } >"$results/$n.rec"
  : >"$out/out"
  : >"$out/err"
  : >"$results/$n.done"
}
# Prints the record of every started script that has ended since the last call (live[k]: k
# started and not yet printed; first: the lowest such k). A record is read by this shell
# (no process started) when it fits in READ_CHARS characters; a longer one (a big output) is
# printed by cat.
live=() first=0
report() {
  local k rec='' rest=''
  for ((k = first; k < n; k++)); do
    if ! ((live[k])) || [ ! -e "$results/$k.done" ]; then continue; fi
    live[k]=0
    if { IFS= read -r -n "$read_chars" rec; ! IFS= read -r -n 1 rest; } <"$results/$k.rec"; then
      printf '%s\n' "$rec"
    else
      cat "$results/$k.rec"
    fi
    : >"$results/$k.rec"
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
