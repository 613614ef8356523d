#!/bin/bash
# Container entrypoint: renders the YAML config of a role from environment
# variables (the server and edge configs take no env interpolation themselves),
# then execs the role. HAZRI_RENDER_ONLY=1 prints the rendered config and exits
# (test/compose-config.test.ts validates it with the real config schemas).
set -euo pipefail
role="${1:-server}"
shift || true
conf_dir="${HAZRI_CONF_DIR:-/tmp/hazri}"
mkdir -p "$conf_dir"
need() { if [ -z "${!1:-}" ]; then echo "hazri entrypoint: $1 is required" >&2; exit 2; fi; }

case "$role" in
  server)
    need HAZRI_INFLUX_TOKEN; need HAZRI_MQTT_PASSWORD
    cat > "$conf_dir/server.yaml" <<YAML
http: { host: 0.0.0.0, port: ${HAZRI_HTTP_PORT:-8080} }
broker:
  url: ${HAZRI_MQTT_URL:-mqtt://mosquitto:1883}
  username: hazri-server
  password: "${HAZRI_MQTT_PASSWORD}"
  sharedGroup: hazri
mqtt: { clientId: ${HAZRI_MQTT_CLIENT_ID:-hazri-server-1} }
influx:
  kind: v2
  url: ${HAZRI_INFLUX_URL:-http://influxdb:8086}
  token: "${HAZRI_INFLUX_TOKEN}"
  org: ${HAZRI_INFLUX_ORG:-hazri}
  bucket: ${HAZRI_INFLUX_BUCKET:-hazri}
  database: hazri
registry: { path: ${HAZRI_REGISTRY:-/data/registry.sqlite} }
reports: { chromiumPath: ${HAZRI_CHROMIUM:-/usr/bin/chromium} }
YAML
    if [ "${HAZRI_RENDER_ONLY:-}" = 1 ]; then cat "$conf_dir/server.yaml"; exit 0; fi
    exec node /app/bin/hazri.mjs server --config "$conf_dir/server.yaml" "$@"
    ;;
  center)
    # A simulated center: `hazri sim` makes the devices (ptys, seat sensors on the
    # edge's LAN broker), then the edge agent opens them and uplinks to Mosquitto.
    need HAZRI_CENTER; need HAZRI_MQTT_PASSWORD
    data="${HAZRI_DATA:-/data}"
    lan_port="${HAZRI_LAN_PORT:-18830}"
    if [ "${HAZRI_RENDER_ONLY:-}" = 1 ]; then
      node /app/docker/hazri/edge-config.mjs "${HAZRI_SIM_CENTER_JSON:-$data/sim/sim-center.json}"
      exit 0
    fi
    rm -f "$data/sim/sim-center.json"
    node /app/bin/hazri.mjs sim --center "$HAZRI_CENTER" --dir "$data/sim" --seed "${HAZRI_SEED:-1}" \
      --speed "${HAZRI_SPEED:-60}" --lan "mqtt://127.0.0.1:${lan_port}" &
    sim_pid=$!
    # sim-center.json appears once the ptys exist (firmware-sim README): the ready signal.
    for _ in $(seq 1 300); do
      [ -f "$data/sim/sim-center.json" ] && break
      kill -0 "$sim_pid" 2>/dev/null || { echo "hazri entrypoint: sim exited" >&2; exit 1; }
      sleep 0.2
    done
    node /app/docker/hazri/edge-config.mjs "$data/sim/sim-center.json" > "$conf_dir/edge.yaml"
    node /app/bin/hazri.mjs edge --config "$conf_dir/edge.yaml" &
    edge_pid=$!
    trap 'kill -TERM "$edge_pid" "$sim_pid" 2>/dev/null; wait' TERM INT
    wait -n "$edge_pid" "$sim_pid"
    code=$?
    kill -TERM "$edge_pid" "$sim_pid" 2>/dev/null || true
    wait || true
    exit "$code"
    ;;
  *)
    exec node /app/bin/hazri.mjs "$role" "$@"
    ;;
esac
