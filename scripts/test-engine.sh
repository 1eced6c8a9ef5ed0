#!/usr/bin/env bash
# Prepares the Docker-API engine the integration tests talk to, on a fresh machine or a warm
# one. AICAGE_TEST_ENGINE picks it (scripts/engines/engine.sh list):
#   docker20  (default) Debian's Docker 20.10 on /var/run/docker.sock, also on 127.0.0.1:23750
#   docker26  Docker 26 in a container of docker20     podman4   Podman 4.3, own network namespace
#   rootless  rootless Docker 20.10 of a user of its own   podman5   Podman 5 in a container of docker20
#   remote26  Docker 26 in a container of docker20 that sees none of the tests' folders, for
#             test/integration/remote-engine.test.ts: tcp+TLS and ssh (AICAGE_TEST_REMOTE_*)
# Steps:
#   1. installs the test tools (debootstrap, shellcheck, wget, jq, curl, minisign) when missing (apt, root),
#   2. starts the primary engine (docker20) unless one answers on its socket; every engine runs
#      with its network features off, so nothing touches the host's firewall, bridges, routing,
#   3. builds the local Debian base image the tests use instead of ubuntu:latest on the primary
#      (no registry is reachable from CI), reusing it when it already exists, and the util
#      images of this checkout from it,
#   4. for another engine: starts it (scripts/engines/NAME.sh), copies the base image and the
#      util images of this checkout into it (docker save | load: faster than building there,
#      and Podman's network namespace has no package archive), checks the host's network.
#   5. removes the test containers an interrupted earlier run left (older than 10 min); younger
#      ones are named in AICAGE_TEST_PREEXISTING_CONTAINERS and not counted as this run's leaks.
# Prints the variables the tests read on stdout: AICAGE_TEST_BASE_IMAGE, AICAGE_TEST_ENGINE,
# AICAGE_TEST_SOCKET, AICAGE_TEST_TCP_HOST, AICAGE_TEST_PREEXISTING_CONTAINERS (remote26: also
# AICAGE_TEST_REMOTE_*).
set -euo pipefail
source "$(dirname "$0")/engines/lib.sh"

ENGINE=${AICAGE_TEST_ENGINE:-docker20}
# The list is read whole first: `grep -q` in a pipe may stop reading early, and with pipefail
# the writer's SIGPIPE would fail the check now and then.
known=$("$ENGINES_DIR/engine.sh" list)
grep -qx -- "$ENGINE" <<<"$known" || die "AICAGE_TEST_ENGINE='$ENGINE' is not a test engine; use one of: ${known//$'\n'/ }"

# The installer tests lint scripts/install.sh and try the wget path.
# openssh-server: the ssh:// tests run their own sshd on 127.0.0.1 (test/helpers/sshd.ts).
# zsh, fish: the completion tests load the scripts in each shell; script(1) (bsdutils) gives the terminal tests a pty.
# python3-pip: the registry tests ask the host's pip too.
# minisign: the release tests verify signed releases with it, and the installer checks them with it.
apt_install debootstrap curl shellcheck wget jq openssh-server zsh fish bsdutils python3-pip minisign "${NETWORK_CHECK_PACKAGES[@]}"
start_primary
ensure_base_image

# Every test file finds the util images in place, whatever the order the files run in (a test
# that times a Ctrl-C must not wait for a first build); the one test of a missing image removes
# it itself.
util_images=$(ensure_util_images_on_primary) || { log "could not prepare the util images on the primary engine; the tests build them"; util_images=; }
prune_stale_util_images "$PRIMARY_SOCKET"

if [[ $ENGINE != docker20 ]]; then
  "$ENGINES_DIR/$ENGINE.sh" start
  socket=$("$ENGINES_DIR/$ENGINE.sh" env | sed -n 's/^AICAGE_TEST_SOCKET=//p')
  # shellcheck disable=SC2086 # image names have no spaces
  copy_images "$PRIMARY_SOCKET" "$socket" "$BASE_IMAGE" $util_images
  prune_stale_util_images "$socket"
  check_host_network
fi

engine_env=$("$ENGINES_DIR/$ENGINE.sh" env)
socket=$(sed -n 's/^AICAGE_TEST_SOCKET=//p' <<<"$engine_env")
preexisting=$(sweep_leftover_test_containers "${socket:-$PRIMARY_SOCKET}" 10)

echo "AICAGE_TEST_BASE_IMAGE=$BASE_IMAGE"
echo "AICAGE_TEST_PREEXISTING_CONTAINERS=$preexisting"
echo "$engine_env"
