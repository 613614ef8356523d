#!/usr/bin/env bash
# Installs the Debian packages that Hazri's demo and test suite run for real
# (InfluxDB 1.x, Mosquitto, socat ptys, NUT upsd + dummy-ups, Chromium,
# docker-compose for validating the compose file, poppler-utils' pdftoppm).
# Idempotent: does nothing when every binary is already present.
# Services are never started by the packages: a policy-rc.d forbids it, so the
# system daemons never take the default ports our tests and demo avoid anyway.
set -euo pipefail

need=()
have() { command -v "$1" >/dev/null 2>&1 || [ -x "$1" ]; }
have influxd || need+=(influxdb)
have mosquitto || have /usr/sbin/mosquitto || need+=(mosquitto)
have mosquitto_pub || need+=(mosquitto-clients)
have socat || need+=(socat)
have /lib/nut/upsd || need+=(nut-server)
have /lib/nut/dummy-ups || need+=(nut-server)
have upsc || need+=(nut-client)
# `docker-compose config` validates docker-compose.yml in the tests (no engine needed).
have docker-compose || need+=(docker-compose)
# pdftoppm rasterises a generated PDF page to PNG in the SLA report test (the PDF itself, not the HTML).
have pdftoppm || need+=(poppler-utils)
if [ "${HAZRI_SKIP_CHROMIUM:-0}" != 1 ]; then have /usr/bin/chromium || need+=(chromium); fi

if [ ${#need[@]} -eq 0 ]; then exit 0; fi
# de-duplicate
mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)

if ! command -v apt-get >/dev/null 2>&1; then
  echo "hazri: missing system packages and no apt-get here. Install these Debian/Ubuntu packages (or their equivalents):" >&2
  echo "  ${need[*]}" >&2
  exit 3
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "hazri: missing packages (${need[*]}) and not root; run: sudo apt-get install --no-install-recommends ${need[*]}" >&2
    exit 3
  fi
fi

echo "hazri: installing Debian packages: ${need[*]}" >&2
# Forbid maintainer scripts from starting services (invoke-rc.d honours exit 101).
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod 755 "$policy"
  created_policy=1
  # Remove it again however apt ends (a failed install must not leave services disabled for good).
  trap '$SUDO rm -f "$policy"' EXIT
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Ubuntu has no "chromium" deb (its chromium-browser is a snap wrapper): say so instead of a bare apt error.
if printf '%s\n' "${need[@]}" | grep -qx chromium && ! apt-cache show chromium >/dev/null 2>&1; then
  echo "hazri: this distribution has no 'chromium' Debian package (Ubuntu ships it as a snap). Install Chromium" >&2
  echo "  so that /usr/bin/chromium exists (e.g. Debian's package, or a symlink to your Chromium binary), or set" >&2
  echo "  HAZRI_SKIP_CHROMIUM=1 to install the rest (the browser and PDF tests then fail with a clear message)." >&2
  exit 3
fi
if ! $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; then
  echo "hazri: apt-get install failed for: ${need[*]}" >&2
  exit 3
fi
echo "hazri: system packages ready" >&2
