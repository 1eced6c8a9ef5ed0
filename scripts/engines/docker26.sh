#!/usr/bin/env bash
# Docker 26 (Debian trixie's docker.io) for the tests, inside a container of the primary
# engine: host network (its dockerd runs with every network feature off, as the primary's),
# the capabilities this VM allows (no --privileged: root here lacks CAP_SYS_RESOURCE), its
# own data root and a socket in a folder bind-mounted from the host. /tmp and the checkout
# are mounted at the same paths, so bind mounts the tests ask for resolve inside it.
#   start | stop [--purge: also its data] | env | status
set -euo pipefail
source "$(dirname "$0")/lib.sh"

NAME=docker26
DIR=$STATE_ROOT/$NAME
RUN_DIR=$DIR/run
DATA_DIR=$DIR/data
SOCKET=$RUN_DIR/docker.sock
TCP_PORT=23751
IMAGE=$DOCKER26_IMAGE
CONTAINER=aicage-test-engine-$NAME
LOG=$DIR/dockerd.log

prepare() {
  apt_install docker.io curl jq socat
  start_primary
  build_docker26_image
}

start() {
  prepare
  mkdir -p "$RUN_DIR" "$DATA_DIR"
  if ! container_engine_ready "$SOCKET" "$CONTAINER"; then
    docker_at "$PRIMARY_SOCKET" rm -f "$CONTAINER" >/dev/null 2>&1 || true
    rm -f "$SOCKET"
    log "$NAME: starting dockerd in container $CONTAINER (log: $LOG)"
    docker_at "$PRIMARY_SOCKET" run -d --name "$CONTAINER" --label "$ENGINE_LABEL=$NAME" \
      --network host "${ENGINE_CONTAINER_FLAGS[@]}" \
      -v "$DIR:$DIR" -v /tmp:/tmp -v "$REPO_ROOT:$REPO_ROOT:ro" \
      --entrypoint sh "$IMAGE" -c 'exec dockerd "$@" >>"$0" 2>&1' "$LOG" \
      "${DOCKERD_NO_NETWORK[@]}" --exec-opt native.cgroupdriver=cgroupfs \
      --data-root "$DATA_DIR" --storage-driver overlay2 --cgroup-parent "/aicage-$NAME" \
      -H "unix://$SOCKET" >/dev/null
    wait_answers "$SOCKET" 90 "$LOG"
    log "$NAME: engine is up"
  fi
  start_tcp_forward "$TCP_PORT" "$SOCKET" "$DIR/tcp.pid"
}

# shellcheck disable=SC2120 # engine_main (lib.sh) passes --purge on
stop() {
  stop_pid_file "$DIR/tcp.pid" 5
  # dockerd stops its containers on TERM; then the container (and all in it) ends.
  remove_engine_container 60
  rm -f "$SOCKET"
  # The cgroups its containers had (cgroup v1: one folder per controller), now empty.
  find /sys/fs/cgroup/*/"aicage-$NAME" -depth -type d -exec rmdir {} + 2>/dev/null || true
  if [[ ${1:-} == --purge ]]; then
    rm -rf "$DATA_DIR"
    docker_at "$PRIMARY_SOCKET" rmi "$IMAGE" >/dev/null 2>&1 || true
  fi
  log "$NAME: stopped"
}

env_lines() {
  print_engine_env "$NAME" "$SOCKET" "127.0.0.1:$TCP_PORT"
}

engine_main "$SOCKET" "$@"
