#!/usr/bin/env bash
# The test command (`npm test`): lints (`npm run lint`), prepares the engine and base image,
# runs every test file with Bun, and ends with the summary line CI reads: "tests: N passed, N failed".
# Extra arguments go to `bun test` (e.g. a file or -t NAME).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

[[ -x node_modules/.bin/bun ]] || npm install --no-audit --no-fund >&2 || exit 1

# Formatting and lint findings count as one failed test; the tests still run.
lint_failed=0
npm run --silent lint || lint_failed=1

env_lines=$(bash scripts/test-engine.sh) || { echo "tests: 0 passed, $((1 + lint_failed)) failed"; exit 1; }
while IFS='=' read -r name value; do
  [[ $name == AICAGE_TEST_* ]] && export "$name=$value"
done <<<"$env_lines"

log=$(mktemp)
# The run gets a temporary folder of its own, so what a test or the tool leaves there is found
# (and another session's files on the same machine are not). 1777: container users and the
# tests that run as `nobody` must reach the folders made in it, as in /tmp.
run_tmp=$(mktemp -d "${TMPDIR:-/tmp}/aicage-test-run-XXXXXX")
chmod 1777 "$run_tmp"
trap 'rm -f "$log"; rm -rf "$run_tmp"' EXIT
# Test files run one after another in one process; tests inside a file in order.
TMPDIR=$run_tmp node_modules/.bin/bun test --timeout 300000 "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

passed=$(grep -Eo '^ *[0-9]+ pass$' "$log" | tail -n 1 | grep -Eo '[0-9]+' || true)
failed=$(grep -Eo '^ *[0-9]+ fail$' "$log" | tail -n 1 | grep -Eo '[0-9]+' || true)
passed=${passed:-0}
failed=${failed:-0}
# Everything the tests made in the temporary folder is gone when their process ends.
leftovers=$(find "$run_tmp" -mindepth 1 -maxdepth 1 -printf '%f ' 2>/dev/null)
if [[ -n $leftovers ]]; then
  echo "left in the temporary folder after the tests: $leftovers"
  failed=$((failed + 1))
  status=1
fi
# A runner that died before its summary, or exited non-zero with no failed test, counts as one failure.
if ((status != 0 && failed == 0)); then failed=1; fi
if ((lint_failed)); then
  echo "npm run lint found formatting or lint problems (above); npm run format fixes the formatting"
  failed=$((failed + 1))
  status=1
fi
echo "tests: $passed passed, $failed failed"
exit "$status"
