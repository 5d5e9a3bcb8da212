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
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
echo "[capstan test] unit tests" >&2
npx vitest run --reporter=default --reporter=json --outputFile="$results/unit.json" test/unit api activities providers
echo "[capstan test] tests against real servers" >&2
npx vitest run --reporter=default --reporter=json --outputFile="$results/servers.json" --no-file-parallelism test/support test/sim test/workflow test/management test/e2e
# One closing line over both runs, in the plain form any CI reads.
node -e '
const fs = require("node:fs");
let p = 0, f = 0, s = 0;
for (const file of process.argv.slice(1)) {
  const r = JSON.parse(fs.readFileSync(file, "utf8"));
  p += r.numPassedTests; f += r.numFailedTests; s += r.numPendingTests + r.numTodoTests;
}
console.log(`${p} passed, ${f} failed, ${s} skipped`);
' "$results/unit.json" "$results/servers.json"
