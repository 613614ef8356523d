#!/usr/bin/env bash
# Installs the npm dependencies when node_modules is missing or older than the lockfile.
set -euo pipefail
cd "$(dirname "$0")/.."
node -e 'const [a]=process.versions.node.split(".").map(Number); if (a < 20) { console.error(`hazri: Node >= 20 needed, found ${process.versions.node}`); process.exit(3) }'
# better-sqlite3 compiles from source when its prebuilt binary cannot be downloaded; point node-gyp at the
# headers the distribution's Node ships instead of downloading them.
if [ -f /usr/include/node/node.h ] && [ -z "${npm_config_nodedir:-}" ]; then export npm_config_nodedir=/usr; fi
stamp=node_modules/.hazri-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  echo "hazri: installing npm dependencies (npm ci)" >&2
  npm ci --no-audit --no-fund
  touch "$stamp"
fi
