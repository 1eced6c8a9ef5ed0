#!/usr/bin/env bash
# The test command (`npm test`): prepares the engine and base image, runs every test
# file with Bun, and ends with the summary line CI reads: "tests: N passed, N failed".
# Extra arguments go to `bun test` (e.g. a file or -t NAME).
set -uo pipefail
cd "$(dirname "$0")/.."

[[ -x node_modules/.bin/bun ]] || npm install --no-audit --no-fund >&2 || exit 1

env_lines=$(bash scripts/test-engine.sh) || { echo "tests: 0 passed, 1 failed"; exit 1; }
while IFS='=' read -r name value; do
  [[ $name == AICAGE_TEST_* ]] && export "$name=$value"
done <<<"$env_lines"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Test files run one after another in one process; tests inside a file in order.
node_modules/.bin/bun test --timeout 300000 "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

passed=$(grep -Eo '^ *[0-9]+ pass$' "$log" | tail -n 1 | grep -Eo '[0-9]+' || true)
failed=$(grep -Eo '^ *[0-9]+ fail$' "$log" | tail -n 1 | grep -Eo '[0-9]+' || true)
passed=${passed:-0}
failed=${failed:-0}
# A runner that died before its summary, or exited non-zero with no failed test, counts as one failure.
if ((status != 0 && failed == 0)); then failed=1; fi
echo "tests: $passed passed, $failed failed"
exit "$status"
