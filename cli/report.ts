/**
 * `hazri report`: the monthly SLA (or occupancy) report from InfluxDB, as
 * CSV, JSON, HTML or PDF. Reads the same InfluxDB the server writes; computed
 * on demand, so late data from an edge's backlog is always included.
 */
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { silentLogger, systemClock } from "../protocol/clock.ts";
import type { Clock } from "../protocol/clock.ts";
import { isHazriError } from "../protocol/errors.ts";
import { createInfluxAdapter } from "../server/src/influx/adapter.ts";
import type { InfluxAdapter, InfluxConfig } from "../server/src/influx/adapter.ts";
import { applyOverrides, loadServerConfigFile, parseServerConfig } from "../server/src/config.ts";
import { loadSlaConfig, parseSlaConfig } from "../server/src/sla/config.ts";
import { renderReport } from "../server/src/sla/render.ts";
import type { RegisteredCenter } from "../server/src/sla/report.ts";
import { createCenterStore } from "../server/src/registry/centers.ts";
import Database from "better-sqlite3";
import type { ReportFormat, ReportKind } from "../server/src/sla/render.ts";

export const USAGE = `usage: hazri report --month YYYY-MM [--center <id>]... [--format csv|json|html|pdf] [--out <file>]
                    [--kind sla|occupancy] [--table summary|outages] [--sla-config <file.yaml>] [--registry <file.sqlite>]
                    [--config <server.yaml> | --influx-url <url> [--influx-db <name>] [--influx-user <u> --influx-password <p>]]

  --month      PKT calendar month (Asia/Karachi)
  --center     repeat for several centers; default: every center with data, in the SLA config or registered
  --registry   the server's registry (read only): registered centers that sent nothing are listed as no_data;
               default: the server config's registry.path
  --format     csv (default; --table picks the league summary or the outage list), json, html, pdf
  --out        file to write (pdf requires it); default stdout
  --sla-config targets, thresholds, operating hours, holidays, closures (docs/sla.md); default: the server
               config's reports.slaConfig, else 09:00–21:00 daily, target 99%

Exit codes: 0 written, 2 usage or configuration error, 1 InfluxDB or rendering failed.`;

/** The registry's centers, opened read only (the running server owns the file; nothing is migrated or written). */
function readRegisteredCenters(file: string): RegisteredCenter[] {
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (e) {
    throw new Error(`cannot open registry ${file}: ${(e as Error).message}`);
  }
  try {
    return createCenterStore(db).listCenters();
  } catch (e) {
    throw new Error(`registry ${file} has no centers table: ${(e as Error).message}`);
  } finally {
    db.close();
  }
}

export async function main(argv: string[], deps: { clock?: Clock; stdout?: (s: string | Buffer) => void } = {}): Promise<number> {
  const out = deps.stdout ?? ((s: string | Buffer) => process.stdout.write(s));
  let v: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values: v } = parseArgs({
      args: argv,
      options: {
        month: { type: "string" },
        center: { type: "string", multiple: true },
        format: { type: "string", default: "csv" },
        out: { type: "string" },
        kind: { type: "string", default: "sla" },
        table: { type: "string", default: "summary" },
        "sla-config": { type: "string" },
        registry: { type: "string" },
        config: { type: "string" },
        "influx-url": { type: "string" },
        "influx-db": { type: "string" },
        "influx-user": { type: "string" },
        "influx-password": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (e) {
    process.stderr.write(`hazri report: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (v.help) {
    out(`${USAGE}\n`);
    return 0;
  }
  const fail = (msg: string) => {
    process.stderr.write(`hazri report: ${msg}\n${USAGE}\n`);
    return 2;
  };
  const month = v.month as string | undefined;
  if (!month || !/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) return fail("--month YYYY-MM is required");
  const format = v.format as string;
  const kind = v.kind as string;
  const table = v.table as string;
  if (!["csv", "json", "html", "pdf"].includes(format)) return fail(`--format must be csv, json, html or pdf, got ${format}`);
  if (!["sla", "occupancy"].includes(kind)) return fail(`--kind must be sla or occupancy, got ${kind}`);
  if (!["summary", "outages"].includes(table)) return fail(`--table must be summary or outages, got ${table}`);
  if (format === "pdf" && !v.out) return fail("--format pdf needs --out <file>");

  let influxCfg: InfluxConfig;
  let slaConfig;
  let registryFile: string | undefined;
  let registered: RegisteredCenter[] | undefined;
  try {
    let slaFile = typeof v["sla-config"] === "string" ? v["sla-config"] : undefined;
    registryFile = typeof v.registry === "string" ? v.registry : undefined;
    if (typeof v.config === "string") {
      const raw = applyOverrides(await loadServerConfigFile(v.config), {
        ...(typeof v["influx-url"] === "string" ? { influxUrl: v["influx-url"] } : {}),
        ...(typeof v["influx-db"] === "string" ? { influxDb: v["influx-db"] } : {}),
      });
      const server = parseServerConfig(raw, v.config);
      influxCfg = server.influx as InfluxConfig;
      // The server's own SLA file, so the CLI and the API report the same figures.
      slaFile ??= server.reports?.slaConfig;
      registryFile ??= server.registry?.path;
    } else {
      if (typeof v["influx-url"] !== "string") return fail("give --config <server.yaml> or --influx-url <url>");
      influxCfg = {
        kind: "v1",
        url: v["influx-url"],
        database: typeof v["influx-db"] === "string" ? v["influx-db"] : "hazri",
        username: v["influx-user"] as string | undefined,
        password: v["influx-password"] as string | undefined,
      };
    }
    slaConfig = slaFile ? await loadSlaConfig(slaFile) : parseSlaConfig({});
    if (registryFile) registered = readRegisteredCenters(registryFile);
  } catch (e) {
    return fail((e as Error).message);
  }

  let influx: InfluxAdapter | null = null;
  try {
    influx = await createInfluxAdapter(influxCfg, { logger: silentLogger });
    const centers = (v.center as string[] | undefined) ?? "all";
    const r = await renderReport(
      { influx, clock: deps.clock ?? systemClock, config: slaConfig, ...(registered ? { registeredCenters: () => registered } : {}) },
      { kind: kind as ReportKind, month, centers, format: format as ReportFormat, table: table as "summary" | "outages" },
    );
    if (typeof v.out === "string") {
      await writeFile(v.out, r.body);
      process.stderr.write(`hazri report: wrote ${v.out} (${r.body.length} bytes, ${r.contentType})\n`);
    } else out(r.body);
    return 0;
  } catch (e) {
    if (isHazriError(e) && e.code === "API_BAD_REQUEST") return fail(e.message);
    process.stderr.write(`hazri report: ${isHazriError(e) ? `${e.code}: ` : ""}${(e as Error).message}\n`);
    return 1;
  } finally {
    await influx?.close();
  }
}
