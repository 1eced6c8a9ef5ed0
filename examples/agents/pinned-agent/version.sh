#!/usr/bin/env bash
# An agent whose newest version is published as a file next to this script (as a vendor
# mirror or an offline bundle would be). Works with no network, in the image and on the host.
set -euo pipefail
head -n 1 "$(dirname "$0")/LATEST"
