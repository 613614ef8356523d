/**
 * The Grafana dashboards as data: one place that lists every panel and its
 * InfluxQL query, from which the provisioned JSON files are generated
 * (`node --import tsx dashboards/grafana/panels.ts` rewrites them) and which
 * test/grafana-queries.test.ts runs against a real InfluxDB.
 *
 * Measurements, tags and fields are those of protocol/influx.ts: tags are
 * `center` plus bounded enums / configured device ids (door, zone, seat,
 * direction, decision, reason); member and card ids are fields.
 *
 * All queries are raw InfluxQL (`rawQuery: true`) with Grafana's macros
 * `$timeFilter` and `$__interval` and the multi-value variable `$center`
 * (Grafana formats a multi-value variable used in a regex as `(a|b)`).
 */
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

export const DATASOURCE = { type: "influxdb", uid: "hazri-influx" } as const;

export interface PanelSpec {
  title: string;
  type: "timeseries" | "state-timeline" | "table" | "barchart" | "stat";
  query: string;
  /** Grafana legend alias, e.g. `$tag_center`. */
  alias?: string;
  unit?: string;
  resultFormat?: "time_series" | "table";
  description: string;
  /** Repeat the panel per value of this template variable. */
  repeat?: string;
  /** Grafana transformations applied to the query result. */
  transformations?: { id: string; options: Record<string, unknown> }[];
}

export interface DashboardSpec {
  uid: string;
  title: string;
  file: string;
  panels: PanelSpec[];
}

const C = `"center" =~ /^$center$/`;

export const DASHBOARDS: DashboardSpec[] = [
  {
    uid: "hazri-occupancy",
    title: "Hazri — occupancy",
    file: "occupancy.json",
    panels: [
      {
        title: "Seats occupied",
        type: "timeseries",
        description: "Seats whose latest reading in each interval is occupied (one panel per center).",
        // Each seat's last reading per interval, carried forward; Grafana sums the seats per row
        // (joinByField + calculateField reduceRow). Not an outer sum() over a subquery: InfluxDB 1.x
        // (1.6.7, tested) does not merge the series of an inner fill(previous) in the outer aggregate.
        query: `SELECT last("occupied") AS "occ" FROM "seat" WHERE ${C} AND $timeFilter GROUP BY time($__interval), "center", "seat" fill(previous)`,
        alias: "$tag_seat",
        repeat: "center",
        transformations: [
          { id: "joinByField", options: { byField: "Time", mode: "outer" } },
          { id: "calculateField", options: { mode: "reduceRow", reduce: { reducer: "sum" }, alias: "occupied", replaceFields: true } },
        ],
      },
      {
        title: "Seat occupancy",
        type: "state-timeline",
        description: "Each seat's state over time: occupied, vacant, unknown (sensor offline).",
        query: `SELECT last("state") AS "state" FROM "seat" WHERE ${C} AND $timeFilter GROUP BY time($__interval), "center", "seat" fill(previous)`,
        alias: "$tag_center $tag_seat",
      },
      {
        title: "Check-ins",
        type: "timeseries",
        description: "Granted badge taps at an in-reader, per interval and center.",
        query: `SELECT sum("granted") AS "check_ins" FROM "access" WHERE ${C} AND "direction" = 'in' AND $timeFilter GROUP BY time($__interval), "center" fill(0)`,
        alias: "$tag_center",
      },
      {
        title: "Denied taps by reason",
        type: "barchart",
        description: "Denied badge taps in the time range, by the edge's reason code.",
        query: `SELECT count("seq") AS "denied" FROM "access" WHERE ${C} AND "decision" = 'denied' AND $timeFilter GROUP BY "reason"`,
        alias: "$tag_reason",
        resultFormat: "table",
      },
      {
        title: "Seat states (latest)",
        type: "table",
        description: "Each seat's latest reported state in the time range (unknown = sensor offline).",
        query: `SELECT last("state") AS "state" FROM "seat" WHERE ${C} AND $timeFilter GROUP BY "center", "zone", "seat"`,
        resultFormat: "table",
      },
    ],
  },
  {
    uid: "hazri-power",
    title: "Hazri — power",
    file: "power.json",
    panels: [
      {
        title: "Power source",
        type: "state-timeline",
        description: "mains / generator / battery / low_battery / down / unknown, as the edge saw it.",
        query: `SELECT last("source") AS "source" FROM "power" WHERE ${C} AND $timeFilter GROUP BY time($__interval), "center" fill(previous)`,
        alias: "$tag_center",
      },
      {
        title: "UPS battery charge",
        type: "timeseries",
        unit: "percent",
        description: "NUT battery.charge.",
        query: `SELECT last("charge_pct") AS "charge" FROM "power" WHERE ${C} AND $timeFilter GROUP BY time($__interval), "center" fill(previous)`,
        alias: "$tag_center",
      },
      {
        title: "UPS runtime left",
        type: "timeseries",
        unit: "m",
        description: "NUT battery.runtime, in minutes.",
        query: `SELECT last("runtime_s") / 60 AS "runtime_min" FROM "power" WHERE ${C} AND $timeFilter GROUP BY time($__interval), "center" fill(previous)`,
        alias: "$tag_center",
      },
      {
        title: "Mains input voltage",
        type: "timeseries",
        unit: "volt",
        description: "NUT input.voltage (0 V during load-shedding).",
        query: `SELECT mean("input_v") AS "input_v" FROM "power" WHERE ${C} AND $timeFilter GROUP BY time($__interval), "center" fill(null)`,
        alias: "$tag_center",
      },
    ],
  },
  {
    uid: "hazri-uptime",
    title: "Hazri — uptime",
    file: "uptime.json",
    panels: [
      {
        title: "Internet uplink",
        type: "state-timeline",
        description: "1 = up, 0 = down, from the edge's own uplink ledger (carried forward).",
        query: `SELECT last("up") AS "up" FROM "uplink" WHERE ${C} AND $timeFilter GROUP BY time($__interval), "center" fill(previous)`,
        alias: "$tag_center",
      },
      {
        title: "Heartbeats received",
        type: "timeseries",
        description: "Edge heartbeats stored per interval; a gap is an edge or uplink outage.",
        query: `SELECT count("seq") AS "heartbeats" FROM "edge_heartbeat" WHERE ${C} AND $timeFilter GROUP BY time($__interval), "center" fill(0)`,
        alias: "$tag_center",
      },
      {
        title: "Edge outbox depth",
        type: "timeseries",
        description: "Events waiting for the server's ack at the edge (max per interval).",
        query: `SELECT max("outbox_depth") AS "outbox" FROM "edge_heartbeat" WHERE ${C} AND $timeFilter GROUP BY time($__interval), "center" fill(null)`,
        alias: "$tag_center",
      },
      {
        title: "Uplink round trip",
        type: "timeseries",
        unit: "ms",
        description: "Mean MQTT round trip reported in heartbeats (-1 = unknown, excluded).",
        query: `SELECT mean("rtt_ms") AS "rtt" FROM "edge_heartbeat" WHERE ${C} AND "rtt_ms" >= 0 AND $timeFilter GROUP BY time($__interval), "center" fill(null)`,
        alias: "$tag_center",
      },
    ],
  },
];

/** The template variable every dashboard carries. */
export const CENTER_VARIABLE_QUERY = `SHOW TAG VALUES WITH KEY = "center"`;

function panelJson(p: PanelSpec, id: number) {
  const w = 12;
  const h = 8;
  return {
    id,
    type: p.type,
    title: p.title,
    description: p.description,
    datasource: DATASOURCE,
    gridPos: { x: ((id - 1) % 2) * w, y: Math.floor((id - 1) / 2) * h, w, h },
    fieldConfig: { defaults: p.unit ? { unit: p.unit } : {}, overrides: [] },
    options: {},
    ...(p.repeat ? { repeat: p.repeat, repeatDirection: "h", maxPerRow: 4 } : {}),
    ...(p.transformations ? { transformations: p.transformations } : {}),
    targets: [
      {
        refId: "A",
        datasource: DATASOURCE,
        rawQuery: true,
        query: p.query,
        resultFormat: p.resultFormat ?? "time_series",
        ...(p.alias ? { alias: p.alias } : {}),
      },
    ],
  };
}

export function dashboardJson(d: DashboardSpec) {
  return {
    uid: d.uid,
    title: d.title,
    tags: ["hazri"],
    timezone: "browser",
    schemaVersion: 39,
    version: 1,
    editable: true,
    refresh: "30s",
    time: { from: "now-24h", to: "now" },
    templating: {
      list: [
        {
          name: "center",
          label: "Center",
          type: "query",
          datasource: DATASOURCE,
          query: CENTER_VARIABLE_QUERY,
          refresh: 2,
          multi: true,
          includeAll: true,
          current: { text: "All", value: "$__all" },
          sort: 1,
        },
      ],
    },
    panels: d.panels.map((p, i) => panelJson(p, i + 1)),
  };
}

export function renderDashboardFile(d: DashboardSpec): string {
  return `${JSON.stringify(dashboardJson(d), null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const d of DASHBOARDS) {
    await writeFile(new URL(`./dashboards/${d.file}`, import.meta.url), renderDashboardFile(d));
  }
}
