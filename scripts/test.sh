#!/usr/bin/env bash
# The test command (`npm test`): sets up what it needs, typechecks, then runs the unit tests in
# parallel and the tests that start real servers (Temporal, kube-apiserver, the simulated cloud)
# one file at a time, so two cores are not oversubscribed. Extra arguments go to vitest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/ensure-deps.sh
echo "[capstan test] typecheck" >&2
npx tsc --noEmit -p .
if [[ $# -gt 0 ]]; then
  exec npx vitest run "$@"
fi
echo "[capstan test] unit tests" >&2
npx vitest run test/unit api providers/kubeadm activities
echo "[capstan test] tests against real servers" >&2
npx vitest run --no-file-parallelism test/support test/sim test/workflow test/e2e
