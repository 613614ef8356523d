import { InfluxDB } from "@influxdata/influxdb-client";
import type { CommunicationObserver, SendOptions, Transport } from "@influxdata/influxdb-client";

/**
 * InfluxDB 1.x (1.6.7 here and in CI) has no `/api/v2/write` (the v2
 * compatibility endpoints arrived in 1.8), so this transport maps the path the
 * official client's WriteApi produces onto the 1.x `/write` endpoint and
 * passes everything else (`/query`, `/ping`) through unchanged.
 *
 * The v2 "bucket" carries `db` or `db/rp` (the same convention the 1.8+ compat
 * API uses), so the mapping is a pure function of the path.
 */

/**
 * 1.x `/write?precision=` accepts n, u, ms, s, m, h — and silently treats any
 * other value as nanoseconds (InfluxDB 1.6 HTTP API reference, /write
 * parameters), which would shift every point by 10^3..10^9. So the mapping is
 * explicit and anything unknown throws.
 */
const PRECISION: Record<string, string> = { ns: "n", us: "u", ms: "ms", s: "s" };

export function mapPrecision(p: string): string {
  const mapped = PRECISION[p];
  if (mapped === undefined) throw new RangeError(`unsupported write precision for InfluxDB 1.x: ${JSON.stringify(p)}`);
  return mapped;
}

/** Map `/api/v2/write?org=&bucket=db[/rp]&precision=` to `/write?db=&rp=&precision=`; other paths unchanged. */
export function mapV2Path(path: string): string {
  const q = path.indexOf("?");
  const pathname = q < 0 ? path : path.slice(0, q);
  if (pathname !== "/api/v2/write") return path;
  const params = new URLSearchParams(q < 0 ? "" : path.slice(q + 1));
  const bucket = params.get("bucket") ?? "";
  if (bucket === "") throw new RangeError("v2 write path without a bucket");
  const slash = bucket.indexOf("/");
  const db = slash < 0 ? bucket : bucket.slice(0, slash);
  const rp = slash < 0 ? "" : bucket.slice(slash + 1);
  if (db === "") throw new RangeError(`v2 write bucket names no database: ${JSON.stringify(bucket)}`);
  const out = new URLSearchParams({ db });
  if (rp !== "") out.set("rp", rp);
  out.set("precision", mapPrecision(params.get("precision") ?? "ns"));
  const consistency = params.get("consistency");
  if (consistency) out.set("consistency", consistency);
  return `/write?${out.toString()}`;
}

export function basicAuthHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, "utf8").toString("base64")}`;
}

export interface V1TransportOptions {
  url: string;
  username?: string | undefined;
  password?: string | undefined;
  /** Request timeout in ms (client default 10 s). */
  timeoutMs?: number | undefined;
  /** For tests: the transport to wrap (default: the client's own Node HTTP transport). */
  inner?: Transport | undefined;
}

/** Wraps the client's Node transport: rewrites the path, adds Basic auth. */
export function createV1Transport(opts: V1TransportOptions): Transport {
  // The client does not export NodeHttpTransport; an InfluxDB instance without
  // a custom transport builds one for us from the same connection options.
  const inner = opts.inner ?? new InfluxDB({ url: opts.url, timeout: opts.timeoutMs ?? 10_000 }).transport;
  const auth = opts.username !== undefined ? basicAuthHeader(opts.username, opts.password ?? "") : undefined;
  const withAuth = (o: SendOptions): SendOptions =>
    auth === undefined ? o : { ...o, headers: { ...o.headers, authorization: auth } };
  return {
    send(path: string, body: string, options: SendOptions, callbacks?: Partial<CommunicationObserver<Uint8Array>>) {
      let mapped: string;
      try {
        mapped = mapV2Path(path);
      } catch (e) {
        // The Transport contract reports failures through callbacks, never throws.
        callbacks?.error?.(e as Error);
        return;
      }
      inner.send(mapped, body, withAuth(options), callbacks);
    },
    request(path: string, body: unknown, options: SendOptions, responseStarted?) {
      return Promise.resolve().then(() => inner.request(mapV2Path(path), body, withAuth(options), responseStarted));
    },
    iterate(path: string, body: unknown, options: SendOptions) {
      return inner.iterate(mapV2Path(path), body, withAuth(options));
    },
    get chunkCombiner() {
      return inner.chunkCombiner;
    },
  };
}
