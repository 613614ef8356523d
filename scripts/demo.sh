#!/usr/bin/env bash
# The demo network: private InfluxDB under .hazri/demo, embedded broker, server
# with its API, two simulated centers with their edge agents. Ctrl-C stops it all.
set -euo pipefail
cd "$(dirname "$0")/.."
HAZRI_SKIP_CHROMIUM=1 bash scripts/ensure-system-deps.sh
bash scripts/npm-deps.sh
exec node bin/hazri.mjs demo "$@"
