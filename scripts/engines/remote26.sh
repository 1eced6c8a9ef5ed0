#!/usr/bin/env bash
# A remote engine for the tests: Docker 26 (Debian trixie's docker.io) inside a container of the
# primary engine that, unlike docker26, does NOT see the tests' folders: neither /tmp nor the
# checkout is mounted, only its own state folder (data root, a unix socket for these scripts,
# certificates, keys, logs). Host network, every network feature of its dockerd off. The tests
# reach it as a user reaches an engine on another machine:
#   - tcp://127.0.0.1:$TLS_PORT with TLS (--tlsverify; CA, server and client certificates made
#     here with openssl),
#   - ssh://root@127.0.0.1:$SSH_PORT through Debian's sshd in the same container (a key made
#     here, the docker CLI on the far side for `docker system dial-stdio`); the user `nodocker`
#     logs in with the same key but finds no docker on its PATH.
#   start | stop [--purge: also its data] | env | status
set -euo pipefail
source "$(dirname "$0")/lib.sh"

NAME=remote26
DIR=$STATE_ROOT/$NAME
RUN_DIR=$DIR/run
DATA_DIR=$DIR/data
TLS_DIR=$DIR/tls
CLIENT_CERTS=$DIR/client-certs
SSH_DIR=$DIR/ssh
SOCKET=$RUN_DIR/docker.sock
TLS_PORT=23765
SSH_PORT=23722
IMAGE=$DOCKER26_IMAGE
CONTAINER=aicage-test-engine-$NAME
LOG=$DIR/dockerd.log

# The image is docker26's (lib.sh): its docker CLI answers `docker system dial-stdio` for ssh
# sessions; its user nodocker finds no docker command (sshd_config below).
prepare() {
  apt_install docker.io curl jq openssl openssh-client
  start_primary
  build_docker26_image
}

# A CA, the server's certificate for 127.0.0.1 and a client certificate in DOCKER_CERT_PATH's
# layout (ca.pem, cert.pem, key.pem); kept across starts.
make_certificates() {
  [[ -f $CLIENT_CERTS/key.pem && -f $TLS_DIR/server-key.pem ]] && return 0
  log "$NAME: making TLS certificates in $TLS_DIR"
  rm -rf "$TLS_DIR" "$CLIENT_CERTS"
  mkdir -p "$TLS_DIR" "$CLIENT_CERTS"
  chmod 700 "$TLS_DIR" "$CLIENT_CERTS"
  (
    cd "$TLS_DIR"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=aicage test CA $NAME" \
      -keyout ca-key.pem -out ca.pem 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server-key.pem -out server.csr 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 3650 \
      -extfile server.ext -out server-cert.pem 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj /CN=aicage-test-client -keyout client-key.pem -out client.csr 2>/dev/null
    printf 'extendedKeyUsage=clientAuth\n' >client.ext
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 3650 \
      -extfile client.ext -out client-cert.pem 2>/dev/null
    cp ca.pem "$CLIENT_CERTS/ca.pem"
    cp client-cert.pem "$CLIENT_CERTS/cert.pem"
    cp client-key.pem "$CLIENT_CERTS/key.pem"
    rm -f ./*.csr ./*.ext ca.srl
  )
}

# sshd's host key, the client key (authorized for root and nodocker), known_hosts with the host
# key, an ssh_config for clients, and sshd_config: loopback only, keys only.
make_ssh_files() {
  if [[ ! -f $SSH_DIR/id_ed25519 ]]; then
    log "$NAME: making ssh keys in $SSH_DIR"
    rm -rf "$SSH_DIR"
    mkdir -p "$SSH_DIR"
    ssh-keygen -q -t ed25519 -N '' -C "aicage-test-$NAME-host" -f "$SSH_DIR/host_key"
    ssh-keygen -q -t ed25519 -N '' -C "aicage-test-$NAME-client" -f "$SSH_DIR/id_ed25519"
  fi
  # nodocker's session reads authorized_keys with its own rights; the private keys are 0600.
  chmod 755 "$SSH_DIR"
  cp "$SSH_DIR/id_ed25519.pub" "$SSH_DIR/authorized_keys"
  printf '[127.0.0.1]:%s %s\n' "$SSH_PORT" "$(cut -d' ' -f1,2 "$SSH_DIR/host_key.pub")" >"$SSH_DIR/known_hosts"
  cat >"$SSH_DIR/ssh_config" <<EOF
Host *
  IdentityFile $SSH_DIR/id_ed25519
  IdentitiesOnly yes
  IdentityAgent none
  UserKnownHostsFile $SSH_DIR/known_hosts
  GlobalKnownHostsFile /dev/null
EOF
  cat >"$SSH_DIR/sshd_config" <<EOF
ListenAddress 127.0.0.1:$SSH_PORT
HostKey $SSH_DIR/host_key
AuthorizedKeysFile $SSH_DIR/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile $RUN_DIR/sshd.pid
Match User nodocker
  SetEnv PATH=/usr/local/nodocker/bin
EOF
}

# What runs in the container: sshd (which forks itself away), then dockerd in the foreground on
# its own socket inside (for dial-stdio), the state folder's socket and TLS on loopback.
# shellcheck disable=SC2016 # expanded by the container's sh
ENTRYPOINT='/usr/sbin/sshd -f "$1" -E "$2" && shift 2 && exec dockerd "$@" >>"$0" 2>&1'

start() {
  prepare
  mkdir -p "$RUN_DIR" "$DATA_DIR"
  if answers "$SOCKET"; then
    log "$NAME: engine already answers on $SOCKET"
    return 0
  fi
  make_certificates
  make_ssh_files
  docker_at "$PRIMARY_SOCKET" rm -f "$CONTAINER" >/dev/null 2>&1 || true
  rm -f "$SOCKET"
  log "$NAME: starting dockerd and sshd in container $CONTAINER (log: $LOG)"
  # Only the state folder is mounted: the tests' temporary folders and the checkout stay invisible.
  docker_at "$PRIMARY_SOCKET" run -d --name "$CONTAINER" --label "$ENGINE_LABEL=$NAME" \
    --network host "${ENGINE_CONTAINER_FLAGS[@]}" \
    -v "$DIR:$DIR" \
    --entrypoint sh "$IMAGE" -c "$ENTRYPOINT" "$LOG" "$SSH_DIR/sshd_config" "$DIR/sshd.log" \
    "${DOCKERD_NO_NETWORK[@]}" --exec-opt native.cgroupdriver=cgroupfs \
    --data-root "$DATA_DIR" --storage-driver overlay2 --cgroup-parent "/aicage-$NAME" \
    -H unix:///var/run/docker.sock -H "unix://$SOCKET" -H "tcp://127.0.0.1:$TLS_PORT" \
    --tlsverify --tlscacert "$TLS_DIR/ca.pem" --tlscert "$TLS_DIR/server-cert.pem" --tlskey "$TLS_DIR/server-key.pem" \
    >/dev/null
  wait_answers "$SOCKET" 90 "$LOG"
  log "$NAME: engine is up"
}

# shellcheck disable=SC2120 # engine_main (lib.sh) passes --purge on
stop() {
  # dockerd stops its containers on TERM; then the container (sshd and its sessions too) ends.
  remove_engine_container 60
  rm -f "$SOCKET" "$RUN_DIR/sshd.pid"
  unmount_below "$DATA_DIR"
  # The cgroups its containers had (cgroup v1: one folder per controller), now empty.
  find /sys/fs/cgroup/*/"aicage-$NAME" -depth -type d -exec rmdir {} + 2>/dev/null || true
  if [[ ${1:-} == --purge ]]; then
    rm -rf "$DATA_DIR" "$TLS_DIR" "$CLIENT_CERTS" "$SSH_DIR"
    docker_at "$PRIMARY_SOCKET" rmi "$IMAGE" >/dev/null 2>&1 || true
  fi
  log "$NAME: stopped"
}

# The socket is for these scripts (copying images in) and for the tests' own checks; the tool
# under test goes through AICAGE_TEST_REMOTE_TLS_HOST or AICAGE_TEST_REMOTE_SSH_HOST. The TCP
# address is the TLS one: it answers only with the client certificates.
env_lines() {
  print_engine_env "$NAME" "$SOCKET" "127.0.0.1:$TLS_PORT"
  echo "AICAGE_TEST_REMOTE_TLS_HOST=tcp://127.0.0.1:$TLS_PORT"
  echo "AICAGE_TEST_REMOTE_CERT_PATH=$CLIENT_CERTS"
  echo "AICAGE_TEST_REMOTE_SSH_HOST=ssh://root@127.0.0.1:$SSH_PORT"
  echo "AICAGE_TEST_REMOTE_SSH_CONFIG=$SSH_DIR/ssh_config"
  echo "AICAGE_TEST_REMOTE_SSH_DIR=$SSH_DIR"
}

engine_main "$SOCKET" "$@"
