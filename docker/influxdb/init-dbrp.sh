#!/bin/bash
# Runs once, after the influxdb:2.x image's DOCKER_INFLUXDB_INIT_MODE=setup created the
# org, bucket and admin token (scripts in /docker-entrypoint-initdb.d run with the CLI
# already configured). Grafana's InfluxQL datasource and `GET /query` go through the v1
# compatibility API, which needs a database/retention-policy → bucket (DBRP) mapping:
# `hazri/autogen` → the hazri bucket (InfluxDB 2.x docs, "Query with InfluxQL" → DBRP).
set -euo pipefail
bucket_id="$(influx bucket list --name "${DOCKER_INFLUXDB_INIT_BUCKET}" --hide-headers | awk '{print $1}')"
influx v1 dbrp create --db hazri --rp autogen --bucket-id "${bucket_id}" --default
echo "hazri: DBRP hazri/autogen -> bucket ${DOCKER_INFLUXDB_INIT_BUCKET} (${bucket_id})"
