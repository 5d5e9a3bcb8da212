#!/usr/bin/env bash
# Makes a checkout runnable: npm packages (from the lock file) and the real servers in .tools/.
# Both steps are cached: on a warm checkout this takes about a second.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "[capstan setup] installing npm packages (npm ci)..." >&2
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
fi
bash scripts/setup-tools.sh
