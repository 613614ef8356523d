#!/usr/bin/env bash
# The whole test suite: installs what it needs, typechecks, then runs unit and
# integration tests (real influxd, aedes, Mosquitto, socat ptys, NUT, Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-system-deps.sh
bash scripts/npm-deps.sh
echo "hazri: typecheck" >&2
npx tsc -p tsconfig.json
echo "hazri: tests" >&2
npx vitest run "$@"
