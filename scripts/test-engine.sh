#!/usr/bin/env bash
# Prepares a Docker engine for the integration tests, on a fresh machine or a warm one:
#   1. installs dockerd, debootstrap and the test tools (shellcheck, wget, zsh, fish) when missing
#      (apt, needs root),
#   2. starts dockerd unless an engine already answers on the socket, with every network
#      feature off so the engine never touches the host's firewall, bridges or routing,
#      and also listening on loopback TCP for the tcp:// transport tests,
#   3. builds the local Debian base image the tests use instead of ubuntu:latest
#      (no registry is reachable from CI), reusing it when it already exists.
# Prints the variables the tests read (AICAGE_TEST_BASE_IMAGE, AICAGE_TEST_TCP_HOST) on stdout.
set -euo pipefail

SOCKET=${AICAGE_TEST_SOCKET:-/var/run/docker.sock}
TCP_ADDR=${AICAGE_TEST_TCP_ADDR:-127.0.0.1:23750}
BASE_IMAGE=${AICAGE_TEST_BASE_IMAGE:-aicage-test-base:trixie}
SUITE=${AICAGE_TEST_SUITE:-trixie}
STATE_DIR=${AICAGE_TEST_STATE_DIR:-/var/tmp/aicage-test-engine}
DOCKERD_LOG=$STATE_DIR/dockerd.log

log() { printf 'test-engine: %s\n' "$*" >&2; }

engine_answers() {
  curl -fsS --max-time 3 --unix-socket "$SOCKET" http://localhost/_ping >/dev/null 2>&1
}

install_missing() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v curl >/dev/null || missing+=(curl)
  # The installer tests lint scripts/install.sh and try the wget path.
  command -v shellcheck >/dev/null || missing+=(shellcheck)
  command -v wget >/dev/null || missing+=(wget)
  # The completion tests load the scripts in each shell; script(1) gives the terminal tests a pty.
  command -v zsh >/dev/null || missing+=(zsh)
  command -v fish >/dev/null || missing+=(fish)
  command -v script >/dev/null || missing+=(bsdutils)
  ((${#missing[@]} == 0)) && return 0
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

start_engine() {
  if engine_answers; then
    log "engine already answers on $SOCKET"
    return 0
  fi
  mkdir -p "$STATE_DIR"
  log "starting dockerd (log: $DOCKERD_LOG)"
  # setsid: the engine must outlive this script and not get the test runner's signals.
  setsid dockerd \
    --iptables=false --ip6tables=false --bridge=none --ip-forward=false --ip-masq=false \
    -H "unix://$SOCKET" -H "tcp://$TCP_ADDR" \
    >"$DOCKERD_LOG" 2>&1 </dev/null &
  for _ in $(seq 1 120); do
    engine_answers && { log "engine is up"; return 0; }
    sleep 0.5
  done
  log "dockerd did not answer within 60 s; last lines of its log:"
  tail -n 20 "$DOCKERD_LOG" >&2
  return 1
}

build_base_image() {
  if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    log "base image $BASE_IMAGE already present"
    return 0
  fi
  local root
  root=$(mktemp -d /var/tmp/aicage-rootfs.XXXXXX)
  log "debootstrap $SUITE into $root"
  debootstrap --variant=minbase "$SUITE" "$root" >"$STATE_DIR/debootstrap.log" 2>&1 || {
    tail -n 20 "$STATE_DIR/debootstrap.log" >&2
    rm -rf "$root"
    return 1
  }
  # Images built from this base run apt inside: clean caches keep the import small.
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | docker import - "$BASE_IMAGE" >/dev/null
  rm -rf "$root"
  log "imported $BASE_IMAGE"
}

install_missing
start_engine
build_base_image
echo "AICAGE_TEST_BASE_IMAGE=$BASE_IMAGE"
echo "AICAGE_TEST_TCP_HOST=tcp://$TCP_ADDR"
