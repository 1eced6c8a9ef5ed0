# Shared helpers of the test engines (sourced by scripts/engines/*.sh and scripts/test-engine.sh).
# Every engine keeps its state, pid files and logs under $STATE_ROOT/<engine>/, and writes
# nothing to stdout but the variables its `env` command prints.
# shellcheck shell=bash disable=SC2034 # the settings below are read by the scripts that source this

STATE_ROOT=${AICAGE_TEST_STATE_DIR:-/var/tmp/aicage-test-engine}
PRIMARY_SOCKET=${AICAGE_TEST_SOCKET_PRIMARY:-/var/run/docker.sock}
BASE_IMAGE=${AICAGE_TEST_BASE_IMAGE:-aicage-test-base:trixie}
SUITE=${AICAGE_TEST_SUITE:-trixie}
# Everything these scripts create on the primary engine carries this label.
ENGINE_LABEL=org.aicage.test-engine
# Flags that keep a dockerd away from the host's firewall, bridges and routing.
DOCKERD_NO_NETWORK=(--iptables=false --ip6tables=false --bridge=none --ip-forward=false --ip-masq=false)
ENGINES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$ENGINES_DIR/../.." && pwd)

log() { printf 'test-engine: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# Answers whether an engine answers /_ping on the unix socket $1.
answers() {
  curl -fsS --max-time 3 --unix-socket "$1" http://localhost/_ping >/dev/null 2>&1
}

# Waits up to $2 seconds for the socket $1 to answer; on failure prints the tail of log $3.
wait_answers() {
  local socket=$1 seconds=$2 logfile=${3:-} i
  for ((i = 0; i < seconds * 2; i++)); do
    answers "$socket" && return 0
    sleep 0.5
  done
  log "no engine answered on $socket within $seconds s"
  [[ -n $logfile && -f $logfile ]] && { log "last lines of $logfile:"; tail -n 20 "$logfile" >&2; }
  return 1
}

# Installs the Debian packages among "$@" that are not installed yet.
apt_install() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  if ((EUID != 0)) || ! command -v apt-get >/dev/null; then
    die "missing Debian packages: ${missing[*]}; run the tests as root on Debian (they install them), or install them first"
  fi
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Updated within six hours, and the lists are still there (a purge of them leaves the mark).
  local lists
  lists=$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -print -quit 2>/dev/null)
  if [[ -z $lists || ! -f $STATE_ROOT/.apt-updated ]] || [[ -n $(find "$STATE_ROOT/.apt-updated" -mmin +360 2>/dev/null) ]]; then
    apt-get update -qq >&2 || die "apt-get update failed (its error is above)"
    mkdir -p "$STATE_ROOT" && touch "$STATE_ROOT/.apt-updated"
  fi
  # A package's own service (openssh-server's sshd on every interface) must not start: the
  # tests run their own on loopback. policy-rc.d forbids starting services during the install,
  # sshd_not_to_be_run keeps sshd off at boot.
  local policy=/usr/sbin/policy-rc.d made_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    made_policy=1
  fi
  [[ " ${missing[*]} " == *" openssh-server "* ]] && mkdir -p /etc/ssh && touch /etc/ssh/sshd_not_to_be_run
  local status=0
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 || status=$?
  ((made_policy)) && rm -f "$policy"
  ((status == 0)) || die "apt-get could not install ${missing[*]} (its error is above)"
  return 0
}

# The Debian packages the network check reads with: nft lists the nftables tables (those that
# iptables-nft makes too), iptables-legacy-save the rules of the legacy x_tables backend.
NETWORK_CHECK_PACKAGES=(nftables iptables)

# Legacy iptables rules of family $1 (ip or ip6) beyond the empty defaults: appended rules, chains
# of their own, built-in chains whose policy is not ACCEPT. A family with no table loaded (an
# empty /proc/net/<family>_tables_names, which stat calls 0 bytes long however full) has none,
# and needs no tool to say so.
legacy_iptables_rules() {
  local family=$1
  [[ -r /proc/net/${family}_tables_names && -n $(<"/proc/net/${family}_tables_names") ]] || return 0
  "${family}tables-legacy-save" 2>&1 | grep -E '^(-A |:[^ ]+ [^A])' || true
}

# The host's network must look as it did: no forwarding (IPv4, IPv6), no nftables tables (made
# by nft or iptables-nft), no legacy iptables rules. Prints one line; exit status 1 when
# something changed or cannot be read.
check_host_network() {
  # In a subshell: a failed install (apt_install dies) must end in this check's own line.
  (apt_install "${NETWORK_CHECK_PACKAGES[@]}") || {
    log "HOST NETWORK UNKNOWN: cannot install ${NETWORK_CHECK_PACKAGES[*]} (needed to read the firewall); install them as root"
    return 1
  }
  local changes=() value tables family rules
  value=$(</proc/sys/net/ipv4/ip_forward)
  [[ $value == 0 ]] || changes+=("ip_forward=$value")
  if [[ -r /proc/sys/net/ipv6/conf/all/forwarding ]]; then
    value=$(</proc/sys/net/ipv6/conf/all/forwarding)
    [[ $value == 0 ]] || changes+=("ipv6 forwarding=$value")
  fi
  if ! tables=$(nft list tables 2>&1); then
    changes+=("nft cannot list tables: ${tables//$'\n'/; }")
  elif [[ -n $tables ]]; then
    changes+=("nftables ${tables//$'\n'/, }")
  fi
  for family in ip ip6; do
    rules=$(legacy_iptables_rules "$family")
    [[ -z $rules ]] || changes+=("legacy ${family}tables rules: ${rules//$'\n'/, }")
  done
  if ((${#changes[@]} == 0)); then
    log "host network unchanged: no forwarding, no nftables tables, no legacy iptables rules"
    return 0
  fi
  local joined
  joined=$(printf '%s; ' "${changes[@]}")
  log "HOST NETWORK CHANGED: ${joined%; }"
  return 1
}

# Runs "$@" as a daemon of the engines: in a session of its own (it must outlive the script and
# not get the test runner's signals), holding none of the caller's file descriptors but 0-2. A
# daemon that kept one would keep it open for good: a lock the caller held (flock), or a pipe
# whose reader then never sees its end. Called with & like a command; $! is the daemon's pid.
detached() {
  local fd
  for fd in /proc/"$BASHPID"/fd/*; do
    fd=${fd##*/}
    ((fd > 2)) && eval "exec ${fd}>&-" 2>/dev/null
  done
  # Nor the caller's folder: Podman's conmon writes a file named "oom" into its working folder
  # when a container runs out of memory (it landed in the checkout).
  mkdir -p "$STATE_ROOT" && cd "$STATE_ROOT" || cd /
  exec setsid "$@"
}

# Reads a pid file; answers the pid when that process still runs.
live_pid() {
  local file=$1 pid
  [[ -f $file ]] || return 1
  pid=$(<"$file")
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && { echo "$pid"; return 0; }
  return 1
}

# Ends the process of pid file $1 (TERM, then KILL after $2 seconds) and removes the file.
stop_pid_file() {
  local file=$1 grace=${2:-20} pid i
  if pid=$(live_pid "$file"); then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 5; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -0 "$pid" 2>/dev/null && { log "pid $pid still runs after $grace s: KILL"; kill -KILL "$pid" 2>/dev/null || true; }
  fi
  rm -f "$file"
}

# A loopback TCP front for a unix socket: socat on 127.0.0.1:$1 to $2, pid in $3. With $4
# (a pid), it listens in that process's network namespace instead of the host's.
start_tcp_forward() {
  local port=$1 socket=$2 pidfile=$3 netns_of=${4:-} logfile=${3%.pid}.log
  live_pid "$pidfile" >/dev/null && return 0
  local cmd=(socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork" "UNIX-CONNECT:$socket")
  [[ -n $netns_of ]] && cmd=(nsenter "--net=/proc/$netns_of/ns/net" "${cmd[@]}")
  detached "${cmd[@]}" >"$logfile" 2>&1 </dev/null &
  echo $! >"$pidfile"
}

# Makes host loopback port $1 reachable on 127.0.0.1:$1 inside the network namespace of pid $2
# (an engine whose "host" network is a namespace of its own), through the unix socket
# $3/upstream.sock: the tests' upstream server, for containers on the "host" network.
start_upstream_forward() {
  local port=$1 netns_of=$2 dir=$3
  if ! live_pid "$dir/upstream-host.pid" >/dev/null; then
    rm -f "$dir/upstream.sock"
    detached socat "UNIX-LISTEN:$dir/upstream.sock,fork,mode=600" "TCP:127.0.0.1:$port" \
      >"$dir/upstream-host.log" 2>&1 </dev/null &
    echo $! >"$dir/upstream-host.pid"
  fi
  if ! live_pid "$dir/upstream-netns.pid" >/dev/null; then
    detached nsenter "--net=/proc/$netns_of/ns/net" \
      socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork" "UNIX-CONNECT:$dir/upstream.sock" \
      >"$dir/upstream-netns.log" 2>&1 </dev/null &
    echo $! >"$dir/upstream-netns.pid"
  fi
}

stop_upstream_forward() {
  local dir=$1
  stop_pid_file "$dir/upstream-netns.pid" 5
  stop_pid_file "$dir/upstream-host.pid" 5
  rm -f "$dir/upstream.sock"
}

# Whether container $1 of the primary engine sees this checkout at its own path (an engine in a
# container resolves the tests' bind mounts in its own file system; one started from another
# checkout does not have this one, unless it lies under /tmp).
container_sees_checkout() {
  [[ $REPO_ROOT == /tmp/* ]] && return 0
  docker_at "$PRIMARY_SOCKET" inspect --format '{{range .Mounts}}{{println .Destination}}{{end}}' "$1" 2>/dev/null |
    grep -qxF "$REPO_ROOT"
}

# The docker CLI against the unix socket $1.
docker_at() {
  local socket=$1
  shift
  docker -H "unix://$socket" "$@"
}

# The image ID of $2 on the engine at socket $1, or nothing.
image_id_at() {
  docker_at "$1" image inspect --format '{{.Id}}' "$2" 2>/dev/null || true
}

# Copies images "${@:3}" from the engine at socket $1 to the one at $2 (docker save | load),
# skipping those the target already has with the same ID.
copy_images() {
  local from=$1 to=$2 image id
  shift 2
  for image in "$@"; do
    id=$(image_id_at "$from" "$image")
    [[ -n $id ]] || { log "not on the source engine, not copied: $image"; continue; }
    if [[ $(image_id_at "$to" "$image") == "$id" ]]; then
      log "already there: $image"
      continue
    fi
    log "copying $image"
    docker_at "$from" save "$image" | docker_at "$to" load >/dev/null || return 1
    # Podman loads a docker archive under its short name with a registry prefix; tag it
    # as the tests name it when the load did not keep the name.
    [[ -n $(image_id_at "$to" "$image") ]] || docker_at "$to" tag "$id" "$image"
  done
}

# Starts engine $1 and copies in what the primary has of the base and util images, building
# nothing: for CI, which readies the next engines while the primary's suite runs. Whatever
# fails here the engine's own test run does again (and says why).
warm_engine() {
  local name=$1 socket names
  "$ENGINES_DIR/$name.sh" start
  socket=$("$ENGINES_DIR/$name.sh" env | sed -n 's/^AICAGE_TEST_SOCKET=//p')
  names=$(util_image_listing | jq -r '.images[] | select(.expected and .present) | .name') || names=
  # shellcheck disable=SC2086 # image names have no spaces
  copy_images "$PRIMARY_SOCKET" "$socket" "$BASE_IMAGE" $names
}

# Util images no tag names any more on the engine at socket $1: what a rebuild from a changed
# Dockerfile (another checkout, another branch) left behind. Nothing can use them, and
# `images ls` would list them beside the current ones.
prune_stale_util_images() {
  local socket=$1 ids
  ids=$(docker_at "$socket" images -q --filter dangling=true --filter label=org.aicage.util.kind 2>/dev/null | sort -u)
  [[ -n $ids ]] || return 0
  log "removing util images no tag names any more: ${ids//$'\n'/ }"
  # shellcheck disable=SC2086 # image IDs have no spaces
  docker_at "$socket" rmi -f $ids >/dev/null 2>&1 || log "some could not be removed (in use?)"
  return 0
}

# The primary engine: Docker 20.10 on $PRIMARY_SOCKET (and loopback TCP), started if needed.
start_primary() {
  "$ENGINES_DIR/docker20.sh" start
}

# Containers an interrupted earlier test run left on the engine at socket $1: the tool's own
# (aicage-util-…, labelled managed) and those the tests make (labelled org.aicage.test.run).
# Those older than $2 minutes are removed (no test runs that long: 300 s is the longest
# timeout); a younger one may belong to a run still going on this engine, so it is only named.
# Prints the names left in place, comma-separated, for the leak checks to ignore.
sweep_leftover_test_containers() {
  local socket=$1 minutes=$2 ids now created name age kept=()
  ids=$( {
    docker_at "$socket" ps -aq --filter label=org.aicage.util.managed=true --filter name=aicage-util-
    docker_at "$socket" ps -aq --filter label=org.aicage.test.run
  } 2>/dev/null | sort -u)
  [[ -n $ids ]] || return 0
  now=$(date +%s)
  while read -r id; do
    read -r name created < <(docker_at "$socket" container inspect --format '{{.Name}} {{.Created}}' "$id" 2>/dev/null) || continue
    name=${name#/}
    age=$(( (now - $(date -d "$created" +%s)) / 60 ))
    if ((age >= minutes)); then
      log "removing container $name, left $age min ago by an interrupted test run"
      docker_at "$socket" rm -f "$id" >/dev/null 2>&1 || log "could not remove container $name"
    else
      kept+=("$name")
    fi
  done <<<"$ids"
  ((${#kept[@]} == 0)) || log "not counted as leaks, younger than $minutes min (another run?): ${kept[*]}"
  local IFS=,
  printf '%s' "${kept[*]}"
}

# The Debian base image on the primary engine (debootstrap + docker import; no registry here).
ensure_base_image() {
  if [[ -n $(image_id_at "$PRIMARY_SOCKET" "$BASE_IMAGE") ]]; then
    log "base image $BASE_IMAGE already present"
    return 0
  fi
  apt_install debootstrap
  mkdir -p "$STATE_ROOT"
  local root
  root=$(mktemp -d /var/tmp/aicage-rootfs.XXXXXX)
  log "debootstrap $SUITE into $root"
  debootstrap --variant=minbase "$SUITE" "$root" >"$STATE_ROOT/debootstrap.log" 2>&1 || {
    tail -n 20 "$STATE_ROOT/debootstrap.log" >&2
    rm -rf "$root"
    return 1
  }
  # Images built from this base run apt inside: clean caches keep the import small.
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | docker_at "$PRIMARY_SOCKET" import - "$BASE_IMAGE" >/dev/null
  rm -rf "$root"
  log "imported $BASE_IMAGE"
}

# The util images (version-check, builder) of this checkout, as the tests' ensure finds them,
# present and current on the primary engine; prints their names. Engines that cannot reach the
# package archive from a build (Podman in its own network namespace) get them copied from there.
# The util images of this checkout on the primary (images ls --json).
util_image_listing() {
  env NO_COLOR=1 "$REPO_ROOT/node_modules/.bin/bun" "$REPO_ROOT/src/cli.ts" images ls --json --host "unix://$PRIMARY_SOCKET"
}

ensure_util_images_on_primary() {
  local bun=$REPO_ROOT/node_modules/.bin/bun cli=(--host "unix://$PRIMARY_SOCKET")
  local env=(env AICAGE_UTIL_BASE_IMAGE="$BASE_IMAGE" AICAGE_UTIL_BUILD_NETWORK=host NO_COLOR=1)
  local listing
  listing=$(util_image_listing) || return 1
  local stale
  stale=$(jq -r '.images[] | select(.expected and (.current | not)) | .kind' <<<"$listing")
  if [[ -n $stale ]]; then
    log "building util images on the primary engine: ${stale//$'\n'/ }"
    # shellcheck disable=SC2086 # kinds are single words from the tool's own listing
    "${env[@]}" "$bun" "$REPO_ROOT/src/cli.ts" images build $stale --network host --base-image "$BASE_IMAGE" --json "${cli[@]}" >/dev/null || return 1
  fi
  jq -r '.images[] | select(.expected) | .name' <<<"$listing"
}

# What an engine in a container of the primary needs, as far as this VM allows (no --privileged:
# root here lacks CAP_SYS_RESOURCE).
ENGINE_CONTAINER_FLAGS=(
  --cap-add ALL --cap-drop SYS_RESOURCE
  --security-opt seccomp=unconfined --security-opt apparmor=unconfined --security-opt systempaths=unconfined
  --device-cgroup-rule 'a *:* rwm'
  -v /sys/fs/cgroup:/sys/fs/cgroup
)

# Builds $IMAGE (engine $NAME, state in $DIR) on the primary from the Dockerfile on stdin, unless
# it is there, built from the same Dockerfile (its hash is a label): from $BASE_IMAGE, with the
# host network (the package archive is reachable only so).
# shellcheck disable=SC2153 # NAME, DIR and IMAGE are the engine script's
build_engine_image() {
  local dockerfile hash
  dockerfile=$(cat)
  hash=$(sha256sum <<<"$dockerfile" | cut -c1-16)
  [[ $(docker_at "$PRIMARY_SOCKET" image inspect --format "{{index .Config.Labels \"$ENGINE_LABEL.dockerfile\"}}" "$IMAGE" 2>/dev/null) == "$hash" ]] && return 0
  ensure_base_image
  log "$NAME: building $IMAGE on the primary engine (log: $DIR/image-build.log)"
  mkdir -p "$DIR/empty"
  DOCKER_BUILDKIT=0 docker_at "$PRIMARY_SOCKET" build --network host --label "$ENGINE_LABEL.dockerfile=$hash" -t "$IMAGE" -f - "$DIR/empty" \
    <<<"$dockerfile" >"$DIR/image-build.log" 2>&1 || { tail -n 20 "$DIR/image-build.log" >&2; return 1; }
}

# The image both Docker 26 engines run (docker26, remote26), built once: trixie's docker.io, the
# docker CLI (remote26's ssh sessions run `docker system dial-stdio`) and sshd with the login
# `nodocker` ('*' unlocks it, no password), which remote26 starts and docker26 leaves off.
DOCKER26_IMAGE=aicage-test-engine:docker26
build_docker26_image() {
  IMAGE=$DOCKER26_IMAGE build_engine_image <<DOCKERFILE
FROM $BASE_IMAGE
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends docker.io docker-cli ca-certificates openssh-server \\
    && rm -rf /var/lib/apt/lists/* /etc/ssh/ssh_host_* \\
    && useradd --create-home --shell /bin/sh --password '*' nodocker && mkdir -p /run/sshd
LABEL $ENGINE_LABEL=docker26
DOCKERFILE
}

# Stops and removes the engine's container $CONTAINER, giving it $1 seconds to stop its own.
# shellcheck disable=SC2153 # CONTAINER is the engine script's
remove_engine_container() {
  docker_at "$PRIMARY_SOCKET" container inspect "$CONTAINER" >/dev/null 2>&1 || return 0
  docker_at "$PRIMARY_SOCKET" stop -t "$1" "$CONTAINER" >/dev/null || true
  docker_at "$PRIMARY_SOCKET" rm -f "$CONTAINER" >/dev/null
}

# Unmounts what is still mounted below a folder (overlay mounts of containers an engine did
# not clean up), deepest first.
unmount_below() {
  findmnt -rn -o TARGET | grep -F "$1/" | sort -r | while read -r target; do umount -l "$target" || true; done || true
}

# The command line every engine script takes: prepare | start | stop [--purge] | env | status.
# The script defines prepare (what takes minutes on a fresh machine and needs no engine of its
# own: packages, its image on the primary; start runs it first), start, stop and env_lines;
# status asks the socket given.
engine_main() {
  local socket=$1
  shift
  case ${1:-} in
    prepare) prepare ;;
    start) start ;;
    stop) stop "${2:-}" ;;
    env) env_lines ;;
    status) answers "$socket" ;;
    *) echo "usage: $0 prepare|start|stop [--purge]|env|status" >&2; exit 2 ;;
  esac
}

# The variables the tests read for an engine: name, socket, loopback TCP address, and the
# port the tests' upstream server uses when the engine sits in a namespace of its own.
print_engine_env() {
  echo "AICAGE_TEST_ENGINE=$1"
  echo "AICAGE_TEST_SOCKET=$2"
  echo "AICAGE_TEST_TCP_HOST=tcp://$3"
  [[ -n ${4:-} ]] && echo "AICAGE_TEST_UPSTREAM_PORT=$4"
  return 0
}

# For an engine in a container of the primary: true when it answers and sees this checkout
# (its bind mounts are this checkout's); one started from another checkout is stopped first.
container_engine_ready() {
  local socket=$1 container=$2
  if answers "$socket" && ! container_sees_checkout "$container"; then
    log "$NAME: the running engine was started from another checkout; restarting it for $REPO_ROOT"
    stop
  fi
  if answers "$socket"; then
    log "$NAME: engine already answers on $socket"
    return 0
  fi
  return 1
}
