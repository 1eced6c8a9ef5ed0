#!/usr/bin/env bash
# Turns a developer's machine back into the bare machine image, so that the next `bash .ci/run`
# or `npm test` is a cold run: whatever a session installed by hand and no install step of the
# project provides is gone, and the run must install it itself or fail.
#
#   bash scripts/cold-machine.sh BASELINE            show what would be removed
#   bash scripts/cold-machine.sh BASELINE --apply    remove it (root; stops every test engine)
#
# BASELINE: the Debian packages of the bare machine image, one a line: a plain name, or
# "apt<TAB>name<TAB>version" as the workplace's package lists give them (for this project's
# machine kind, the list whose first line names "node").
# --apply stops every test engine (the primary too), purges each Debian package the baseline
# does not have, and removes what the engines and the tests keep outside the packages: the
# engines' data and state folders, the rootless engine's user, the base and util images with
# the engine that held them. The npm packages of the checkout stay: CI runs `npm ci` first.
set -euo pipefail
source "$(dirname "$0")/engines/lib.sh"

baseline_file=${1:-}
[[ -n $baseline_file && -r $baseline_file ]] || die "usage: $0 BASELINE [--apply]  (BASELINE: the bare machine image's package list)"
apply=${2:-}

baseline=$(awk -F'\t' 'NF >= 3 && $1 == "apt" { sub(/:.*/, "", $2); print $2; next } NF == 1 && $1 !~ /^#/ { print $1 }' "$baseline_file" | sort -u)
[[ $(wc -l <<<"$baseline") -gt 100 ]] || die "$baseline_file lists fewer than 100 packages: not a machine image's list"
extra=$(comm -23 <(dpkg-query -W -f='${Package}\n' | sed 's/:.*//' | sort -u) <(printf '%s\n' "$baseline"))

# What the engines and tests leave outside the packages.
LEFTOVER_PATHS=(
  /var/lib/docker /var/lib/containerd /etc/docker /run/docker /run/containerd /var/run/docker.sock
  /var/lib/containers /etc/containers "$STATE_ROOT" /etc/ssh/sshd_not_to_be_run
)
ROOTLESS_USER=aicage-rootless

if [[ $apply != --apply ]]; then
  echo "packages not in the baseline: ${extra//$'\n'/ }"
  for path in "${LEFTOVER_PATHS[@]}"; do [[ -e $path ]] && echo "left over: $path"; done
  getent passwd "$ROOTLESS_USER" >/dev/null && echo "left over: user $ROOTLESS_USER"
  echo "(nothing changed; add --apply to remove these)"
  exit 0
fi
((EUID == 0)) || die "--apply needs root"

log "stopping every test engine"
for name in docker26 podman4 rootless podman5 remote26; do
  "$ENGINES_DIR/$name.sh" stop --purge >/dev/null 2>&1 || log "$name: stop failed; its processes are ended below"
done
"$ENGINES_DIR/docker20.sh" stop >/dev/null 2>&1 || true
# Engines started by hand or by another checkout: end them by name.
for program in dockerd containerd podman rootlesskit slirp4netns socat conmon; do
  pkill -TERM -x "$program" 2>/dev/null || true
done
sleep 3
for program in dockerd containerd podman rootlesskit slirp4netns socat conmon containerd-shim-runc-v2; do
  pkill -KILL -x "$program" 2>/dev/null || true
done

installed_baseline=$(comm -12 <(dpkg-query -W -f='${Package}\n' | sed 's/:.*//' | sort -u) <(printf '%s\n' "$baseline"))
if [[ -n $extra ]]; then
  log "purging $(wc -l <<<"$extra") packages not in the baseline: ${extra//$'\n'/ }"
  # shellcheck disable=SC2086 # package names have no spaces
  DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq $extra >&2
fi

# A new machine has read no package list yet: the first install step must update them itself.
find /var/lib/apt/lists -mindepth 1 -maxdepth 1 -type f -name '*_*' -delete 2>/dev/null || true
for path in "${LEFTOVER_PATHS[@]}"; do
  [[ -e $path ]] || continue
  unmount_below "$path"
  # A folder that is itself a mount point (a disk of its own for /var/lib/docker) stays: emptied.
  if mountpoint -q "$path"; then
    find "$path" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
  else
    rm -rf "$path"
  fi
done
if getent passwd "$ROOTLESS_USER" >/dev/null; then
  pkill -KILL -u "$ROOTLESS_USER" 2>/dev/null || true
  userdel --remove "$ROOTLESS_USER" 2>/dev/null || userdel "$ROOTLESS_USER"
  sed -i "/^$ROOTLESS_USER:/d" /etc/subuid /etc/subgid 2>/dev/null || true
fi

left=$(comm -23 <(dpkg-query -W -f='${Package}\n' | sed 's/:.*//' | sort -u) <(printf '%s\n' "$baseline"))
[[ -z $left ]] || die "still installed, not in the baseline: ${left//$'\n'/ }"
lost=$(comm -23 <(printf '%s\n' "$installed_baseline") <(dpkg-query -W -f='${Package}\n' | sed 's/:.*//' | sort -u))
[[ -z $lost ]] || die "the purge also removed packages of the baseline: ${lost//$'\n'/ }; reinstall them"
log "cold: every package is the baseline's, no engine state, no test user"
