#!/usr/bin/env bash
# Podman 4.3 (Debian bookworm's podman, with catatonit for containers that ask for an init)
# for the tests. Its Docker-compatible API puts a container without NetworkMode on a bridge,
# and netavark then changes the firewall and ip_forward of the network namespace it runs in:
# so the service runs in a network namespace of its own (loopback only, no package archive:
# images it needs are copied in from the primary engine). Config and storage live in a
# folder of its own (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF), nothing under /etc or
# /var/lib/containers is touched.
# What makes that namespace usable for the tests, without touching the host's network:
#   - slirp4netns gives it outbound access in user space (a tap device inside it, NAT in a
#     process; host loopback not reachable), so builds reach the package archive;
#   - the TCP front (socat on 127.0.0.1:23752) exists twice, on the host and in the namespace,
#     so the same tcp:// address works from the tests and from containers on "host" network;
#   - the tests' upstream server listens on the fixed host port 23760
#     (AICAGE_TEST_UPSTREAM_PORT), forwarded into the namespace through a unix socket.
#   start | stop [--purge: also its storage] | env | status
set -euo pipefail
source "$(dirname "$0")/lib.sh"

NAME=podman4
DIR=$STATE_ROOT/$NAME
SOCKET=$DIR/run/podman.sock
TCP_PORT=23752
UPSTREAM_PORT=23760
LOG=$DIR/service.log
PIDFILE=$DIR/service.pid
export CONTAINERS_CONF=$DIR/containers.conf
export CONTAINERS_STORAGE_CONF=$DIR/storage.conf

write_config() {
  mkdir -p "$DIR/run" "$DIR/storage" "$DIR/runroot" "$DIR/tmp"
  cat >"$CONTAINERS_CONF" <<CONF
# Written by scripts/engines/$NAME.sh
[containers]
# The default open-files limit (1048576) cannot be set on this VM.
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
# No systemd, no journald, cgroup v1 here.
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$DIR/events.log"
runtime = "runc"
tmp_dir = "$DIR/tmp"
CONF
  cat >"$CONTAINERS_STORAGE_CONF" <<CONF
# Written by scripts/engines/$NAME.sh
[storage]
driver = "overlay"
graphroot = "$DIR/storage"
runroot = "$DIR/runroot"
CONF
}

prepare() {
  apt_install podman catatonit netavark runc iptables slirp4netns curl jq socat iproute2 docker.io
}

start() {
  prepare
  if answers "$SOCKET"; then
    log "$NAME: engine already answers on $SOCKET"
  else
    write_config
    rm -f "$SOCKET"
    log "$NAME: starting podman system service in its own network namespace (log: $LOG)"
    # shellcheck disable=SC2016 # $0 is expanded by the inner shell
    detached unshare --net sh -c 'ip link set lo up && exec podman system service --time=0 "unix://$0"' "$SOCKET" \
      >"$LOG" 2>&1 </dev/null &
    echo $! >"$PIDFILE"
    wait_answers "$SOCKET" 60 "$LOG"
    log "$NAME: engine is up"
  fi
  local pid
  pid=$(live_pid "$PIDFILE") || die "$NAME: answers on $SOCKET but not started by this script (no $PIDFILE)"
  if ! live_pid "$DIR/slirp4netns.pid" >/dev/null; then
    detached slirp4netns --configure --mtu=65520 --disable-host-loopback "$pid" tap0 \
      >"$DIR/slirp4netns.log" 2>&1 </dev/null &
    echo $! >"$DIR/slirp4netns.pid"
  fi
  start_tcp_forward "$TCP_PORT" "$SOCKET" "$DIR/tcp.pid"
  start_tcp_forward "$TCP_PORT" "$SOCKET" "$DIR/tcp-netns.pid" "$pid"
  start_upstream_forward "$UPSTREAM_PORT" "$pid" "$DIR"
}

# Pids of every process in the network namespace of pid $1 (the service's).
pids_in_netns_of() {
  local ns proc
  ns=$(readlink "/proc/$1/ns/net" 2>/dev/null) || return 0
  for proc in /proc/[0-9]*; do
    [[ $(readlink "$proc/ns/net" 2>/dev/null) == "$ns" ]] && echo "${proc#/proc/}"
  done
}

# shellcheck disable=SC2120 # engine_main (lib.sh) passes --purge on
stop() {
  local pid id
  stop_pid_file "$DIR/tcp.pid" 5
  stop_upstream_forward "$DIR"
  if pid=$(live_pid "$PIDFILE"); then
    # Containers first, through the service (so netavark tears down inside its namespace).
    for id in $(curl -fsS --max-time 10 --unix-socket "$SOCKET" 'http://localhost/containers/json?all=1' | jq -r '.[].Id'); do
      curl -fsS --max-time 60 --unix-socket "$SOCKET" -X DELETE "http://localhost/containers/$id?force=1" >/dev/null || true
    done
    local left
    left=$(pids_in_netns_of "$pid" | grep -vx "$pid" || true)
    stop_pid_file "$PIDFILE" 30
    # Anything still in that namespace (the TCP front, a conmon) was started for it.
    for id in $left; do kill -TERM "$id" 2>/dev/null || true; done
    sleep 1
    for id in $left; do kill -KILL "$id" 2>/dev/null || true; done
  fi
  # The namespace's TCP front is stopped by its own pid too: the service may have died first,
  # and then its namespace's processes were not found above.
  stop_pid_file "$DIR/tcp-netns.pid" 5
  stop_pid_file "$DIR/slirp4netns.pid" 5
  rm -f "$PIDFILE" "$SOCKET"
  # Overlay mounts of containers that were not cleaned up.
  unmount_below "$DIR"
  if [[ ${1:-} == --purge ]]; then
    rm -rf "$DIR/storage" "$DIR/runroot" "$DIR/tmp"
  fi
  log "$NAME: stopped"
}

env_lines() {
  print_engine_env "$NAME" "$SOCKET" "127.0.0.1:$TCP_PORT" "$UPSTREAM_PORT"
}

engine_main "$SOCKET" "$@"
