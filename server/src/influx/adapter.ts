import { HttpError, InfluxDB } from "@influxdata/influxdb-client";
import type { Transport, WriteApi } from "@influxdata/influxdb-client";
import { HazriError } from "../../../protocol/errors.ts";
import type { Logger } from "../../../protocol/clock.ts";
import { createV1Transport } from "./transport-v1.ts";

export type InfluxConfig =
  | {
      kind: "v1";
      url: string;
      database: string;
      retentionPolicy?: string | undefined;
      username?: string | undefined;
      password?: string | undefined;
      timeoutMs?: number | undefined;
      /** gzip write bodies (server/src/config.ts explains when). */
      gzip?: boolean | undefined;
    }
  | {
      kind: "v2";
      url: string;
      token: string;
      org: string;
      bucket: string;
      /** DBRP-mapped database name for InfluxQL over /query (defaults to the bucket). */
      database?: string | undefined;
      timeoutMs?: number | undefined;
      /** gzip write bodies (server/src/config.ts explains when). */
      gzip?: boolean | undefined;
    };

export interface InfluxSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

export interface InfluxAdapter {
  /** v1: CREATE DATABASE if missing; a configured retention policy is created as (or made) the DEFAULT. v2: checks the server answers (buckets are provisioned). */
  ensureDatabase(): Promise<void>;
  /** Resolves only after InfluxDB confirmed the write (HTTP 204); rejects with HazriError INGEST_INFLUX_WRITE. */
  writeLines(lines: string[]): Promise<void>;
  /** InfluxQL over /query; statement errors reject with HazriError INGEST_INFLUX_QUERY. */
  query(influxql: string, params?: Record<string, string | number | boolean>): Promise<InfluxSeries[]>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface AdapterOptions {
  /** Lines per HTTP write; larger writeLines() calls are split and written one after another. */
  maxLinesPerRequest?: number;
  /**
   * writeLines() calls that may be in flight at once (default 1), each on its own WriteApi, so a failure
   * stays attributable to exactly one call. InfluxDB takes ≈ 1.4× the lines/s with two writers than with one
   * (BENCHMARKS.md, ingest ceilings), so the ingest keeps two in flight.
   */
  lanes?: number;
}

const quoteIdent = (s: string) => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;

export async function createInfluxAdapter(
  cfg: InfluxConfig,
  deps: { logger: Logger },
  opts: AdapterOptions = {},
): Promise<InfluxAdapter> {
  const log = deps.logger.child({ component: "influx" });
  const timeout = cfg.timeoutMs ?? 10_000;
  const transport: Transport =
    cfg.kind === "v1"
      ? createV1Transport({ url: cfg.url, username: cfg.username, password: cfg.password, timeoutMs: timeout })
      : new InfluxDB({ url: cfg.url, token: cfg.token, timeout }).transport;
  const client = new InfluxDB({ url: cfg.url, transport });
  const org = cfg.kind === "v1" ? "" : cfg.org;
  const bucket =
    cfg.kind === "v1" ? (cfg.retentionPolicy ? `${cfg.database}/${cfg.retentionPolicy}` : cfg.database) : cfg.bucket;
  const database = cfg.kind === "v1" ? cfg.database : (cfg.database ?? cfg.bucket);
  const perRequest = Math.max(1, opts.maxLinesPerRequest ?? 5_000);

  /*
   * WriteApi pitfalls (read in node_modules/@influxdata/influxdb-client
   * src/impl/WriteApiImpl.ts, v1.35):
   *  - flushInterval defaults to 60 s; we flush explicitly, so 0 disables the timer.
   *  - WriteBuffer.add() fires an un-awaited flush once batchSize lines are
   *    buffered, so we never hand it more than batchSize lines per flush().
   *  - flush() rejects on the first failure, but a retriable failure has already
   *    put the lines in the RetryBuffer, which would write them later "behind our
   *    back" — after we told the edge nothing was stored. The durable retry loop
   *    is the edge's outbox (re-send until acked), so client-side retries are off
   *    (maxRetries 0) and after ANY failed flush the WriteApi is disposed and
   *    replaced, discarding whatever it still holds.
   */
  const newWriteApi = (): WriteApi =>
    client.getWriteApi(org, bucket, "ns", {
      flushInterval: 0,
      batchSize: perRequest,
      maxBatchBytes: 256 * 1024 * 1024,
      maxRetries: 0,
      maxBufferLines: perRequest,
      // The client gzips every body above gzipThreshold (default 1,000 bytes); see config.ts `influx.gzip`.
      gzipThreshold: cfg.gzip === true ? 64 * 1024 : Number.POSITIVE_INFINITY,
      // Returning a promise takes over the failure (WriteApiImpl.sendBatch):
      // no RetryBuffer entry and no console logging from the client; we wrap,
      // count and log the error ourselves.
      writeFailed: (error: Error) => Promise.reject(error),
    });
  // One write in flight per lane: a failure is attributable to exactly one call.
  interface Lane {
    api: WriteApi;
    chain: Promise<unknown>;
    queued: number;
  }
  const lanes: Lane[] = Array.from({ length: Math.max(1, opts.lanes ?? 1) }, () => ({ api: newWriteApi(), chain: Promise.resolve(), queued: 0 }));
  let closed = false;

  async function writeChunk(lane: Lane, chunk: string[]): Promise<void> {
    lane.api.writeRecords(chunk);
    try {
      await lane.api.flush();
    } catch (e) {
      const dropped = lane.api.dispose();
      lane.api = newWriteApi();
      const status = e instanceof HttpError ? e.statusCode : undefined;
      log.debug({ dropped, status }, "write failed; WriteApi disposed and replaced");
      throw new HazriError(
        "INGEST_INFLUX_WRITE",
        `InfluxDB write failed${status ? ` (HTTP ${status})` : ""}: ${(e as Error).message}`,
        { status, body: e instanceof HttpError ? e.body : undefined },
        { cause: e },
      );
    }
  }

  async function rawQuery(q: string, params?: Record<string, unknown>, db: string | null = database) {
    const form = new URLSearchParams({ q });
    if (db) form.set("db", db);
    if (params && Object.keys(params).length > 0) form.set("params", JSON.stringify(params));
    let res: unknown;
    try {
      res = await transport.request("/query", form.toString(), {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      });
    } catch (e) {
      const status = e instanceof HttpError ? e.statusCode : undefined;
      throw new HazriError("INGEST_INFLUX_QUERY", `InfluxQL query failed: ${(e as Error).message}`, { q, status }, { cause: e });
    }
    const body = res as { error?: string; results?: Array<{ error?: string; series?: InfluxSeries[] }> } | undefined;
    if (body?.error) throw new HazriError("INGEST_INFLUX_QUERY", `InfluxQL error: ${body.error}`, { q });
    const out: InfluxSeries[] = [];
    for (const r of body?.results ?? []) {
      if (r.error) throw new HazriError("INGEST_INFLUX_QUERY", `InfluxQL error: ${r.error}`, { q });
      for (const s of r.series ?? []) out.push({ ...s, values: s.values ?? [] });
    }
    return out;
  }

  /**
   * The configured RP is made the database's DEFAULT (created with DEFAULT, or
   * ALTERed to DEFAULT when it exists). Why not qualify every read as
   * "db"."rp"."m" instead: InfluxQL resolves a bare measurement name to the
   * DEFAULT RP (autogen unless changed), and the readers are many — the live
   * rebuild, the API's events and access log, the SLA reader, the Grafana
   * dashboards, an operator's ad-hoc query. Making the RP the default serves
   * them all, including tools Hazri does not control; writes still name the RP
   * explicitly (`/write?db=&rp=`), so they never depend on the default.
   * The one cost: points an older setup wrote to the former default RP are no
   * longer what a bare read sees (logged once when we switch).
   */
  async function ensureDefaultRp(db: string, rp: string): Promise<void> {
    const series = await rawQuery(`SHOW RETENTION POLICIES ON ${quoteIdent(db)}`, undefined, null);
    let found: { isDefault: boolean } | null = null;
    let previousDefault: string | null = null;
    for (const s of series) {
      const name = s.columns.indexOf("name");
      const def = s.columns.indexOf("default");
      for (const v of s.values) {
        if (v[def] === true && v[name] !== rp) previousDefault = String(v[name]);
        if (v[name] === rp) found = { isDefault: v[def] === true };
      }
    }
    if (!found) {
      await rawQuery(`CREATE RETENTION POLICY ${quoteIdent(rp)} ON ${quoteIdent(db)} DURATION INF REPLICATION 1 DEFAULT`, undefined, null);
      log.info({ database: db, rp, previousDefault }, "retention policy created as the database default");
    } else if (!found.isDefault) {
      await rawQuery(`ALTER RETENTION POLICY ${quoteIdent(rp)} ON ${quoteIdent(db)} DEFAULT`, undefined, null);
      log.warn(
        { database: db, rp, previousDefault },
        "retention policy made the database default so that reads without an RP see what Hazri writes; points in the former default RP are no longer read",
      );
    }
  }

  async function ping(): Promise<boolean> {
    try {
      await transport.request("/ping", "", { method: "GET" });
      return true;
    } catch {
      return false;
    }
  }

  return {
    async ensureDatabase() {
      if (cfg.kind === "v2") {
        if (!(await ping())) throw new HazriError("INGEST_INFLUX_QUERY", `InfluxDB at ${cfg.url} does not answer /ping`);
        return;
      }
      // "database not found" is a 404 the client never retries: create first.
      // CREATE DATABASE is idempotent in 1.x (no error when it exists).
      await rawQuery(`CREATE DATABASE ${quoteIdent(cfg.database)}`, undefined, null);
      if (cfg.retentionPolicy) await ensureDefaultRp(cfg.database, cfg.retentionPolicy);
      log.info({ database: cfg.database, rp: cfg.retentionPolicy }, "database ready");
    },
    writeLines(lines) {
      if (closed) return Promise.reject(new HazriError("INGEST_INFLUX_WRITE", "InfluxDB adapter is closed"));
      if (lines.length === 0) return Promise.resolve();
      // The least busy lane (a free one when there is one); calls on one lane run one after another.
      const lane = lanes.reduce((a, b) => (b.queued < a.queued ? b : a));
      const run = async () => {
        for (let i = 0; i < lines.length; i += perRequest) await writeChunk(lane, lines.slice(i, i + perRequest));
      };
      lane.queued++;
      const p = lane.chain.then(run, run).finally(() => lane.queued--);
      lane.chain = p.catch(() => undefined);
      return p;
    },
    query(influxql, params) {
      return rawQuery(influxql, params);
    },
    ping,
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all(lanes.map((l) => l.chain));
      for (const l of lanes) l.api.dispose();
    },
  };
}
