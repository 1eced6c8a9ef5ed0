#!/usr/bin/env bash
# Rootless Docker 20.10 for the tests: Debian's dockerd-rootless.sh run by an unprivileged user
# of its own (aicage-rootless), socket /run/user/UID/docker.sock. RootlessKit shares the
# host's network namespace (DOCKERD_ROOTLESS_ROOTLESSKIT_NET=host): /dev/net/tun is 0600 here,
# so slirp4netns cannot run, and an unprivileged user cannot change the host's network anyway;
# dockerd still gets every network feature off. A loopback TCP front (socat) serves the
# tcp:// tests.
#   start | stop [--purge: also its data and the user] | env | status
set -euo pipefail
source "$(dirname "$0")/lib.sh"

NAME=rootless
USER_NAME=aicage-rootless
DIR=$STATE_ROOT/$NAME
TCP_PORT=23753
LOG=$DIR/dockerd.log
PIDFILE=$DIR/runuser.pid

user_id() { id -u "$USER_NAME" 2>/dev/null; }
socket_path() {
  local uid
  uid=$(user_id) || uid=UID
  echo "/run/user/$uid/docker.sock"
}

ensure_user() {
  if ! user_id >/dev/null; then
    log "$NAME: creating user $USER_NAME"
    useradd --create-home --shell /usr/sbin/nologin --comment "aicage rootless Docker for tests" "$USER_NAME"
  fi
  # Subordinate ids for its user namespace (useradd adds them on most systems; not always).
  local range
  for file in /etc/subuid /etc/subgid; do
    grep -q "^$USER_NAME:" "$file" 2>/dev/null && continue
    range=$(awk -F: 'BEGIN { n = 100000 } { if ($2 + $3 > n) n = $2 + $3 } END { print n }' "$file" 2>/dev/null || echo 100000)
    echo "$USER_NAME:$range:65536" >>"$file"
  done
  local uid
  uid=$(user_id)
  install -d -m 0700 -o "$USER_NAME" -g "$USER_NAME" "/run/user/$uid"
}

start() {
  apt_install docker.io rootlesskit uidmap slirp4netns curl jq socat
  ensure_user
  local uid socket
  uid=$(user_id)
  socket=$(socket_path)
  mkdir -p "$DIR"
  if answers "$socket"; then
    log "$NAME: engine already answers on $socket"
  else
    : >"$LOG"
    chown "$USER_NAME" "$LOG"
    log "$NAME: starting dockerd-rootless.sh as $USER_NAME (log: $LOG)"
    # A clean environment: the user's own HOME and runtime folder, nothing of root's.
    setsid runuser -u "$USER_NAME" -- env -i \
      HOME="$(getent passwd "$USER_NAME" | cut -d: -f6)" USER="$USER_NAME" LOGNAME="$USER_NAME" \
      PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin XDG_RUNTIME_DIR="/run/user/$uid" \
      DOCKERD_ROOTLESS_ROOTLESSKIT_NET=host DOCKERD_ROOTLESS_ROOTLESSKIT_PORT_DRIVER=none \
      /usr/share/docker.io/contrib/dockerd-rootless.sh "${DOCKERD_NO_NETWORK[@]}" \
      >>"$LOG" 2>&1 </dev/null &
    echo $! >"$PIDFILE"
    wait_answers "$socket" 90 "$LOG"
    log "$NAME: engine is up"
  fi
  start_tcp_forward "$TCP_PORT" "$socket" "$DIR/tcp.pid"
}

stop() {
  local uid pids i
  stop_pid_file "$DIR/tcp.pid" 5
  if uid=$(user_id); then
    # Every process of this user is part of the engine: RootlessKit first (it stops dockerd
    # and, with it, the containers), then whatever remains.
    pids=$(pgrep -u "$uid" -x rootlesskit || true)
    [[ -n $pids ]] && kill -TERM $pids 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do
      [[ -z $(pgrep -u "$uid" || true) ]] && break
      sleep 0.2
    done
    pids=$(pgrep -u "$uid" || true)
    if [[ -n $pids ]]; then
      log "$NAME: still running after 30 s, killed: $(echo $pids)"
      kill -KILL $pids 2>/dev/null || true
    fi
    rm -f "/run/user/$uid/docker.sock"
  fi
  stop_pid_file "$PIDFILE" 5
  if [[ ${1:-} == --purge ]] && uid=$(user_id); then
    # Its data root holds files of subordinate ids: remove it from inside its namespace.
    runuser -u "$USER_NAME" -- rootlesskit rm -rf "$(getent passwd "$USER_NAME" | cut -d: -f6)/.local/share/docker" 2>/dev/null || true
    userdel --remove "$USER_NAME" 2>/dev/null || true
    sed -i "/^$USER_NAME:/d" /etc/subuid /etc/subgid
    rm -rf "/run/user/$uid"
  fi
  log "$NAME: stopped"
}

env_lines() {
  echo "AICAGE_TEST_ENGINE=$NAME"
  echo "AICAGE_TEST_SOCKET=$(socket_path)"
  echo "AICAGE_TEST_TCP_HOST=tcp://127.0.0.1:$TCP_PORT"
}

case ${1:-} in
  start) start ;;
  stop) stop "${2:-}" ;;
  env) env_lines ;;
  status) answers "$(socket_path)" ;;
  *) echo "usage: $0 start|stop [--purge]|env|status" >&2; exit 2 ;;
esac
