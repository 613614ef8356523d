import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { HazriError } from "../../protocol/errors.ts";

/**
 * Server config (style guide lesson 12): zod `.strict()` so a typo is an
 * error, every problem reported at once as `path: problem` lines, numeric
 * ranges with human-readable bounds. Sources: a YAML file, then CLI overrides.
 */
const Port = z.number().int().min(0, "must be a port between 0 and 65535").max(65535, "must be a port between 0 and 65535");
const HttpUrl = z.string().regex(/^https?:\/\/[^\s]+$/, "must be an http:// or https:// URL");
const DbName = z.string().min(1).max(128).regex(/^[A-Za-z0-9_.-]+$/, "must be 1-128 of [A-Za-z0-9_.-]");

const InfluxV1 = z
  .object({
    kind: z.literal("v1"),
    url: HttpUrl,
    database: DbName,
    retentionPolicy: DbName.optional(),
    username: z.string().optional(),
    password: z.string().optional(),
    timeoutMs: z.number().int().min(100).max(600_000).optional(),
    /**
     * gzip the write bodies (off by default). InfluxDB next to the server (one host, a LAN, docker-compose):
     * compression only costs CPU on both ends (≈ 25 ms per 5,000-line write here, plus InfluxDB's gunzip).
     * Across a WAN (InfluxDB Cloud) turn it on: a write shrinks ≈ 8×.
     */
    gzip: z.boolean().optional(),
  })
  .strict();
const InfluxV2 = z
  .object({
    kind: z.literal("v2"),
    url: HttpUrl,
    token: z.string().min(1),
    org: z.string().min(1),
    bucket: z.string().min(1),
    database: DbName.optional(),
    timeoutMs: z.number().int().min(100).max(600_000).optional(),
    /**
     * gzip the write bodies (off by default). InfluxDB next to the server (one host, a LAN, docker-compose):
     * compression only costs CPU on both ends (≈ 25 ms per 5,000-line write here, plus InfluxDB's gunzip).
     * Across a WAN (InfluxDB Cloud) turn it on: a write shrinks ≈ 8×.
     */
    gzip: z.boolean().optional(),
  })
  .strict();

const BrokerEmbedded = z
  .object({
    embedded: z
      .object({
        host: z.string().min(1).default("127.0.0.1"),
        port: Port.default(18830),
        /**
         * "centers": username = center id, password from the registry (needs registry.path).
         * "none": explicitly insecure dev mode. Omitted: "centers" when registry.path is set, else "none"
         * (logged as a warning) so the existing demo keeps working — see docs/broker.md.
         */
        auth: z.enum(["centers", "none"]).optional(),
        /** The server client's secret on the embedded broker; generated at each start when omitted. */
        serverPassword: z.string().min(16, "must be at least 16 characters").optional(),
        /** Additional MQTT-over-TLS listener (docs/broker.md for the certificate setup). */
        tls: z
          .object({ host: z.string().min(1).optional(), port: Port, certFile: z.string().min(1), keyFile: z.string().min(1) })
          .strict()
          .optional(),
      })
      .strict(),
  })
  .strict();
const BrokerExternal = z
  .object({
    url: z.string().regex(/^(mqtts?|tcp|ssl|wss?):\/\//, "must be an mqtt://, mqtts://, tcp://, ws:// or wss:// URL"),
    username: z.string().optional(),
    password: z.string().optional(),
    /** Shared subscription group (MQTT 5 §4.8.2) so several servers split the load. */
    sharedGroup: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional(),
  })
  .strict();

export const ServerConfig = z
  .object({
    http: z
      .object({
        host: z.string().min(1).default("127.0.0.1"),
        port: Port.default(8080),
        /** Behind a reverse proxy (server/src/app.ts): true, or the proxies' addresses/CIDRs. */
        trustProxy: z.union([z.boolean(), z.array(z.string().min(1)).min(1)]).optional(),
      })
      .strict()
      .default({ host: "127.0.0.1", port: 8080 }),
    broker: z.union([BrokerEmbedded, BrokerExternal]),
    mqtt: z
      .object({
        /** Stable client id → persistent session (clean: false) so QoS 1 uplinks queue while we restart. */
        clientId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional(),
        keepaliveS: z.number().int().min(1).max(600).default(15),
      })
      .strict()
      .default({ keepaliveS: 15 }),
    influx: z.discriminatedUnion("kind", [InfluxV1, InfluxV2]),
    ingest: z
      .object({
        maxBatchDelayMs: z.number().int().min(0, "must be between 0 and 10000 milliseconds").max(10_000, "must be between 0 and 10000 milliseconds").default(20),
        maxPendingEvents: z.number().int().min(1).max(10_000_000).default(20_000),
        maxWriteEvents: z.number().int().min(1).max(100_000).default(5_000),
        /** InfluxDB writes in flight at once (server/src/ingest/ingest.ts). */
        writeConcurrency: z.number().int().min(1).max(8).default(2),
      })
      .strict()
      .default({ maxBatchDelayMs: 20, maxPendingEvents: 20_000, maxWriteEvents: 5_000, writeConcurrency: 2 }),
    /** The SQLite registry (centers and their broker credentials, members, users). */
    registry: z.object({ path: z.string().min(1) }).strict().optional(),
    /** SLA / occupancy reports (issue 6, docs/sla.md): the SLA config file; defaults when omitted. */
    reports: z.object({ slaConfig: z.string().min(1).optional(), chromiumPath: z.string().min(1).optional() }).strict().optional(),
    /** Live state: rebuilt from InfluxDB at start; people-in emptied at a daily cut-off (local time). */
    live: z
      .object({
        checkoutAt: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be HH:MM (24 h)").default("04:00"),
        timeZone: z.string().min(1).default("Asia/Karachi"),
        rebuild: z.boolean().default(true),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if ("embedded" in c.broker && c.broker.embedded.auth === "centers" && !c.registry)
      ctx.addIssue({ code: "custom", path: ["broker", "embedded", "auth"], message: 'auth "centers" needs registry.path' });
  });

export type ServerConfig = z.infer<typeof ServerConfig>;
export type ServerConfigInput = z.input<typeof ServerConfig>;

function formatIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string[] {
  return issues.map((i) => `${i.path.length ? i.path.map(String).join(".") : "(root)"}: ${i.message}`);
}

/** Validate; throws HazriError CONFIG_INVALID listing every problem. */
export function parseServerConfig(raw: unknown, source = "server config"): ServerConfig {
  const r = ServerConfig.safeParse(raw);
  if (r.success) return r.data;
  const lines = formatIssues(r.error.issues);
  throw new HazriError("CONFIG_INVALID", `${source} is invalid:\n${lines.map((l) => `  ${l}`).join("\n")}`, { issues: lines });
}

export async function loadServerConfigFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw new HazriError("CONFIG_NOT_FOUND", `cannot read config ${file}: ${(e as Error).message}`, { file }, { cause: e });
  }
  try {
    return parseYaml(text) ?? {};
  } catch (e) {
    throw new HazriError("CONFIG_PARSE", `cannot parse YAML in ${file}: ${(e as Error).message}`, { file }, { cause: e });
  }
}

export interface ConfigOverrides {
  httpPort?: number;
  mqttPort?: number;
  influxUrl?: string;
  influxDb?: string;
}

/** Apply CLI overrides onto a raw (unvalidated) config object; validation happens after. */
export function applyOverrides(raw: unknown, o: ConfigOverrides): unknown {
  const c = structuredClone((raw ?? {}) as Record<string, unknown>) as Record<string, Record<string, unknown> | undefined>;
  if (o.httpPort !== undefined) c.http = { ...(c.http ?? {}), port: o.httpPort };
  if (o.mqttPort !== undefined) {
    const b = c.broker ?? {};
    const emb = (b as { embedded?: Record<string, unknown> }).embedded;
    if (typeof b.url === "string") {
      const u = new URL(b.url);
      u.port = String(o.mqttPort);
      c.broker = { ...b, url: u.toString().replace(/\/$/, "") };
    } else c.broker = { embedded: { ...(emb ?? {}), port: o.mqttPort } };
  }
  if (o.influxUrl !== undefined || o.influxDb !== undefined) {
    const i = { kind: "v1", ...(c.influx ?? {}) } as Record<string, unknown>;
    if (o.influxUrl !== undefined) i.url = o.influxUrl;
    // v1: the database written to; v2: the DBRP-mapped name used for InfluxQL.
    if (o.influxDb !== undefined) i.database = o.influxDb;
    c.influx = i;
  }
  return c;
}
