#!/usr/bin/env bash
# Rootless Docker 20.10 for the tests: Debian's dockerd-rootless.sh run by an unprivileged user
# of its own (aicage-rootless), socket /run/user/UID/docker.sock, dockerd with every network
# feature off. Two network set-ups, by AICAGE_TEST_ROOTLESS_NET:
#   slirp4netns (default)  as rootless Docker runs on users' machines: RootlessKit's own network
#                   namespace, outbound through slirp4netns in user space. /dev/net/tun is 0600
#                   on these VMs, so the user gets an ACL entry on it while the engine runs
#                   (removed by stop); the host's network itself is never touched. The tests'
#                   upstream port (AICAGE_TEST_UPSTREAM_PORT) and the TCP front are forwarded
#                   into that namespace, as for podman4.
#   host            RootlessKit shares the host's network namespace
#                   (DOCKERD_ROOTLESS_ROOTLESSKIT_NET=host, port driver none), no ACL needed. But
#                   containers on the "host" network cannot start there ("failed to create
#                   default sandbox ... operation not permitted": Docker does not support
#                   RootlessKit's host network, moby/moby#51363), nor can builds with
#                   --network host reach anything: most of the suite fails for that alone.
# A loopback TCP front (socat, 127.0.0.1:23753) serves the tcp:// tests.
#   start | stop [--purge: also its data and the user] | env | status
set -euo pipefail
source "$(dirname "$0")/lib.sh"

NAME=rootless
USER_NAME=aicage-rootless
DIR=$STATE_ROOT/$NAME
TCP_PORT=23753
UPSTREAM_PORT=23761
NET=${AICAGE_TEST_ROOTLESS_NET:-slirp4netns}
[[ $NET == host || $NET == slirp4netns ]] || die "AICAGE_TEST_ROOTLESS_NET must be host or slirp4netns, not '$NET'"
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

prepare() {
  apt_install docker.io rootlesskit uidmap slirp4netns curl jq socat acl
  ensure_user
}

start() {
  prepare
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
    local net_env=(DOCKERD_ROOTLESS_ROOTLESSKIT_NET=host DOCKERD_ROOTLESS_ROOTLESSKIT_PORT_DRIVER=none)
    if [[ $NET == slirp4netns ]]; then
      net_env=(DOCKERD_ROOTLESS_ROOTLESSKIT_NET=slirp4netns)
      setfacl -m "u:$USER_NAME:rw" /dev/net/tun
    fi
    echo "$NET" >"$DIR/net"
    # A clean environment: the user's own HOME and runtime folder, nothing of root's.
    detached runuser -u "$USER_NAME" -- env -i \
      HOME="$(getent passwd "$USER_NAME" | cut -d: -f6)" USER="$USER_NAME" LOGNAME="$USER_NAME" \
      PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin XDG_RUNTIME_DIR="/run/user/$uid" \
      "${net_env[@]}" \
      /usr/share/docker.io/contrib/dockerd-rootless.sh "${DOCKERD_NO_NETWORK[@]}" \
      >>"$LOG" 2>&1 </dev/null &
    echo $! >"$PIDFILE"
    wait_answers "$socket" 90 "$LOG"
    log "$NAME: engine is up"
  fi
  start_tcp_forward "$TCP_PORT" "$socket" "$DIR/tcp.pid"
  if [[ $(cat "$DIR/net" 2>/dev/null) == slirp4netns ]]; then
    local dockerd
    dockerd=$(pgrep -u "$uid" -x dockerd | head -n 1) || die "$NAME: no dockerd of $USER_NAME found"
    start_tcp_forward "$TCP_PORT" "$socket" "$DIR/tcp-netns.pid" "$dockerd"
    start_upstream_forward "$UPSTREAM_PORT" "$dockerd" "$DIR"
  fi
}

# shellcheck disable=SC2120 # engine_main (lib.sh) passes --purge on
stop() {
  local uid pids i
  stop_pid_file "$DIR/tcp.pid" 5
  stop_pid_file "$DIR/tcp-netns.pid" 5
  stop_upstream_forward "$DIR"
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
  if [[ $(cat "$DIR/net" 2>/dev/null) == slirp4netns ]] && command -v setfacl >/dev/null; then
    setfacl -x "u:$USER_NAME" /dev/net/tun 2>/dev/null || true
  fi
  rm -f "$DIR/net"
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
  local upstream=""
  [[ $(cat "$DIR/net" 2>/dev/null || echo "$NET") == slirp4netns ]] && upstream=$UPSTREAM_PORT
  print_engine_env "$NAME" "$(socket_path)" "127.0.0.1:$TCP_PORT" "$upstream"
}

engine_main "$(socket_path)" "$@"
