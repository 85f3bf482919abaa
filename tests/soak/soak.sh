#!/usr/bin/env bash
# The fault tests of tests/e2e/faults.sh, longer: ROUNDS (5) rounds of
# ITERATIONS (200) random kill -9 of iep-send each, plus the hub killed
# mid-PATCH, proxy cuts and receiver kills of every round, each round with a
# new random seed (printed, so a failing round can be repeated with
# IEP_FAULT_SEED=SEED IEP_FAULT_ITERATIONS=N bash tests/e2e/faults.sh).
# Not part of CTest: about a minute per 20 iterations on 2 cores.
#
# usage: tests/soak/soak.sh [BUILD_DIR]   (default: build)
# env: ROUNDS, ITERATIONS
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$repo/build}" && pwd)
rounds=${ROUNDS:-5}
iterations=${ITERATIONS:-200}
export IEP_BIN=$build IEP_SRC=$repo IEP_FAULT_ITERATIONS=$iterations
failed=0
for ((r = 1; r <= rounds; r++)); do
  seed=$((RANDOM * 32768 + RANDOM))
  echo "soak: round $r of $rounds, seed $seed, $iterations iterations" >&2
  if IEP_FAULT_SEED=$seed bash "$repo/tests/e2e/faults.sh"; then
    echo "soak: round $r passed" >&2
  else
    echo "soak: round $r FAILED (seed $seed)" >&2
    failed=$((failed + 1))
  fi
done
echo "soak: $((rounds - failed)) of $rounds rounds passed"
[[ $failed -eq 0 ]]
