#!/usr/bin/env bash
# One entry for every test engine:
#   scripts/engines/engine.sh NAME prepare|start|stop [--purge]|env|status
#                                             (prepare: packages and its image, no engine started)
#   scripts/engines/engine.sh warm NAME       starts NAME and copies in the primary's base and
#                                             util images (no build: what is missing is skipped)
#   scripts/engines/engine.sh list            the engine names
#   scripts/engines/engine.sh stop-all        stops every engine but the primary (docker20)
#   scripts/engines/engine.sh check-network   fails when the host's network was changed
# NAME: docker20 (the primary, /var/run/docker.sock), docker26, podman4, rootless, podman5,
# remote26 (Docker 26 that sees none of the tests' folders; tcp+TLS and ssh).
# Logs and state: /var/tmp/aicage-test-engine/ (AICAGE_TEST_STATE_DIR).
set -euo pipefail
DIR=$(cd "$(dirname "$0")" && pwd)
source "$DIR/lib.sh"

ENGINES=(docker20 docker26 podman4 rootless podman5 remote26)

is_engine() {
  local name
  for name in "${ENGINES[@]}"; do [[ $name == "$1" ]] && return 0; done
  return 1
}

case ${1:-} in
  list) printf '%s\n' "${ENGINES[@]}" ;;
  stop-all)
    for name in "${ENGINES[@]:1}"; do "$DIR/$name.sh" stop; done
    check_host_network
    ;;
  check-network) check_host_network ;;
  warm)
    is_engine "${2:-}" && [[ $2 != docker20 ]] || { echo "usage: $0 warm NAME (NAME: ${ENGINES[*]:1})" >&2; exit 2; }
    warm_engine "$2"
    ;;
  *)
    name=${1:-}
    is_engine "$name" || { echo "usage: $0 NAME prepare|start|stop|env|status | list | stop-all | check-network (NAME: ${ENGINES[*]})" >&2; exit 2; }
    shift
    "$DIR/$name.sh" "$@"
    ;;
esac
