#!/usr/bin/env bash
# Podman 5 (Debian trixie's podman) for the tests, inside a container of the primary engine
# with no network of its own (--network none): whatever its Docker API does with networks
# (bridges, firewall rules, ip_forward) happens in that container's namespace, never the
# host's. The capabilities this VM allows (no --privileged: root here lacks CAP_SYS_RESOURCE);
# storage and socket in a folder bind-mounted from the host; /tmp and the checkout mounted at
# the same paths, so bind mounts the tests ask for resolve inside it. As for podman4:
# slirp4netns (run by root on the host, attached to the container's namespace) gives it
# outbound access in user space, and the TCP front and the tests' upstream port are
# forwarded into that namespace.
#   start | stop [--purge: also its storage] | env | status
set -euo pipefail
source "$(dirname "$0")/lib.sh"

NAME=podman5
DIR=$STATE_ROOT/$NAME
SOCKET=$DIR/run/podman.sock
TCP_PORT=23754
UPSTREAM_PORT=23762
IMAGE=aicage-test-engine:$NAME
CONTAINER=aicage-test-engine-$NAME
LOG=$DIR/service.log

build_image() {
  # The settings this VM needs: no systemd or journald, cgroup v1 (crun refuses the hybrid
  # layout here: runc), an open-files limit that root here may set; nft for netavark's
  # rules inside the container's own namespace.
  build_engine_image <<DOCKERFILE
FROM $BASE_IMAGE
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends podman catatonit runc nftables ca-certificates \\
    && rm -rf /var/lib/apt/lists/*
RUN printf '%s\n' '[containers]' 'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]' \\
      '[engine]' 'cgroup_manager = "cgroupfs"' 'events_logger = "file"' 'runtime = "runc"' > /etc/containers/containers.conf
LABEL $ENGINE_LABEL=$NAME
DOCKERFILE
}

container_pid() {
  docker_at "$PRIMARY_SOCKET" inspect --format '{{.State.Pid}}' "$CONTAINER" 2>/dev/null | grep -v '^0$'
}

prepare() {
  apt_install docker.io slirp4netns curl jq socat
  start_primary
  build_image
}

start() {
  prepare
  mkdir -p "$DIR/run" "$DIR/storage" "$DIR/runroot"
  if ! container_engine_ready "$SOCKET" "$CONTAINER"; then
    docker_at "$PRIMARY_SOCKET" rm -f "$CONTAINER" >/dev/null 2>&1 || true
    rm -f "$SOCKET"
    printf '[storage]\ndriver = "overlay"\ngraphroot = "%s"\nrunroot = "%s"\n' "$DIR/storage" "$DIR/runroot" >"$DIR/storage.conf"
    log "$NAME: starting podman system service in container $CONTAINER (log: $LOG)"
    docker_at "$PRIMARY_SOCKET" run -d --name "$CONTAINER" --label "$ENGINE_LABEL=$NAME" \
      --network none "${ENGINE_CONTAINER_FLAGS[@]}" \
      -v "$DIR:$DIR" -v /tmp:/tmp -v "$REPO_ROOT:$REPO_ROOT:ro" \
      -e CONTAINERS_STORAGE_CONF="$DIR/storage.conf" \
      --entrypoint sh "$IMAGE" -c 'exec podman system service --time=0 "unix://$1" >>"$0" 2>&1' "$LOG" "$SOCKET" >/dev/null
    wait_answers "$SOCKET" 90 "$LOG"
    log "$NAME: engine is up"
  fi
  local pid
  pid=$(container_pid) || die "$NAME: answers on $SOCKET but container $CONTAINER is not running"
  if ! live_pid "$DIR/slirp4netns.pid" >/dev/null; then
    detached slirp4netns --configure --mtu=65520 --disable-host-loopback "$pid" tap0 \
      >"$DIR/slirp4netns.log" 2>&1 </dev/null &
    echo $! >"$DIR/slirp4netns.pid"
  fi
  start_tcp_forward "$TCP_PORT" "$SOCKET" "$DIR/tcp.pid"
  start_tcp_forward "$TCP_PORT" "$SOCKET" "$DIR/tcp-netns.pid" "$pid"
  start_upstream_forward "$UPSTREAM_PORT" "$pid" "$DIR"
}

# shellcheck disable=SC2120 # engine_main (lib.sh) passes --purge on
stop() {
  stop_pid_file "$DIR/tcp.pid" 5
  stop_pid_file "$DIR/tcp-netns.pid" 5
  stop_upstream_forward "$DIR"
  if answers "$SOCKET"; then
    local id
    for id in $(curl -fsS --max-time 10 --unix-socket "$SOCKET" 'http://localhost/containers/json?all=1' | jq -r '.[].Id'); do
      curl -fsS --max-time 60 --unix-socket "$SOCKET" -X DELETE "http://localhost/containers/$id?force=1" >/dev/null || true
    done
  fi
  remove_engine_container 30
  stop_pid_file "$DIR/slirp4netns.pid" 5
  rm -f "$SOCKET"
  unmount_below "$DIR"
  if [[ ${1:-} == --purge ]]; then
    rm -rf "$DIR/storage" "$DIR/runroot"
    docker_at "$PRIMARY_SOCKET" rmi "$IMAGE" >/dev/null 2>&1 || true
  fi
  log "$NAME: stopped"
}

env_lines() {
  print_engine_env "$NAME" "$SOCKET" "127.0.0.1:$TCP_PORT" "$UPSTREAM_PORT"
}

engine_main "$SOCKET" "$@"
