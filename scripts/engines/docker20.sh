#!/usr/bin/env bash
# The primary test engine: Debian's Docker 20.10 (docker.io) on /var/run/docker.sock, also on
# loopback TCP for the tcp:// transport tests, with every network feature off.
#   start  reuse the engine when one answers on the socket, else start dockerd
#   stop   end the dockerd this script started (none started elsewhere)
#   env    the variables the tests read
set -euo pipefail
source "$(dirname "$0")/lib.sh"

NAME=docker20
SOCKET=$PRIMARY_SOCKET
TCP_ADDR=${AICAGE_TEST_TCP_ADDR:-127.0.0.1:23750}
DIR=$STATE_ROOT
LOG=$DIR/dockerd.log
PIDFILE=$DIR/$NAME/dockerd.pid

prepare() {
  apt_install docker.io curl jq
}

start() {
  prepare
  if answers "$SOCKET"; then
    log "$NAME: engine already answers on $SOCKET"
    return 0
  fi
  ((EUID == 0)) || die "no Docker engine answers on $SOCKET, and only root can start one: run the tests as root, or start dockerd"
  mkdir -p "$DIR/$NAME"
  log "$NAME: starting dockerd (log: $LOG)"
  # detached (lib.sh): the engine outlives this script, gets none of its signals or descriptors.
  detached dockerd "${DOCKERD_NO_NETWORK[@]}" -H "unix://$SOCKET" -H "tcp://$TCP_ADDR" \
    >"$LOG" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  wait_answers "$SOCKET" 60 "$LOG"
  log "$NAME: engine is up"
}

# shellcheck disable=SC2120 # engine_main (lib.sh) passes --purge on
stop() {
  [[ -f $PIDFILE ]] || { log "$NAME: not started by these scripts; left alone"; return 0; }
  stop_pid_file "$PIDFILE" 60
  log "$NAME: stopped"
}

env_lines() {
  print_engine_env "$NAME" "$SOCKET" "$TCP_ADDR"
}

engine_main "$SOCKET" "$@"
