import { randomBytes } from "node:crypto";
import type net from "node:net";
import mqtt from "mqtt";
import type { FastifyInstance } from "fastify";
import type { Clock, Logger } from "../../protocol/clock.ts";
import { topics } from "../../protocol/topics.ts";
import type { UpKind } from "../../protocol/topics.ts";
import { buildApp } from "./app.ts";
import { parseServerConfig } from "./config.ts";
import type { ServerConfigInput } from "./config.ts";
import { startEmbeddedBroker } from "./broker/embedded.ts";
import type { EmbeddedBroker } from "./broker/embedded.ts";
import { createInfluxAdapter } from "./influx/adapter.ts";
import { keepDatabaseReady } from "./influx/readiness.ts";
import { createIngest } from "./ingest/ingest.ts";
import { createLiveState } from "./live/state.ts";
import { createCheckoutPolicy } from "./live/checkout.ts";
import { createCenterConfigStore } from "./registry/center-config.ts";
import { rebuildLiveState } from "./live/rebuild.ts";
import { openRegistry } from "./registry/db.ts";
import { createCenterStore, migrations as centerMigrations } from "./registry/centers.ts";
import type { CenterStore } from "./registry/centers.ts";
import type { RegistryDb } from "./registry/db.ts";
import { observeLive } from "./routes/stream.ts";
import { loadSlaConfig, parseSlaConfig } from "./sla/config.ts";
import { createSlaCache } from "./sla/cache.ts";
import { membersApiMigrations, setupMembersApi } from "./sync/setup.ts";
import type { MembersApi } from "./sync/setup.ts";
import type { LiveState } from "./live/state.ts";
import { createMetrics } from "./metrics.ts";
import type { Metrics } from "./metrics.ts";

export interface RunningServer {
  httpUrl: string;
  brokerUrl: string;
  app: FastifyInstance;
  live: LiveState;
  metrics: Metrics;
  /** Center credentials (null without `registry`). */
  centers: CenterStore | null;
  /** The embedded broker's TLS URL when a TLS listener is configured. */
  brokerTlsUrl: string | null;
  close(): Promise<void>;
}

/**
 * Wire InfluxDB, the broker (embedded or external), the MQTT ingest, the live
 * state and the HTTP app. Order matters: the first attempt to create the
 * database comes before we subscribe (so the first batch can be stored) and the
 * message handler is set before connecting (a persistent session may deliver
 * queued QoS 1 messages right after CONNACK). InfluxDB down at start does not
 * stop the start: the database is retried with back-off (influx/readiness.ts),
 * nothing is written or acked until it exists, /healthz answers 503 meanwhile.
 */
export async function startServer(config: ServerConfigInput, deps: { logger: Logger; clock: Clock }): Promise<RunningServer> {
  const cfg = parseServerConfig(config);
  // Read before anything starts: a bad SLA file fails the start, not a report later.
  const sla = cfg.reports?.slaConfig ? await loadSlaConfig(cfg.reports.slaConfig) : parseSlaConfig({});
  const log = deps.logger;
  const cleanups: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    for (const c of cleanups.splice(0).reverse()) {
      try {
        await c();
      } catch (e) {
        log.warn({ err: e }, "error while closing");
      }
    }
  };
  try {
    // One adapter lane per write the ingest may have in flight.
    const influx = await createInfluxAdapter(cfg.influx, { logger: log }, { lanes: cfg.ingest.writeConcurrency });
    cleanups.push(() => influx.close());
    const dbReady = keepDatabaseReady({ ensure: () => influx.ensureDatabase(), logger: log.child({ component: "influx" }) });
    cleanups.push(async () => dbReady.stop());
    const readyAtStart = await dbReady.firstAttempt;

    let centers: CenterStore | null = null;
    let registryDb: RegistryDb | null = null;
    if (cfg.registry) {
      const db = openRegistry(cfg.registry.path, [...centerMigrations, ...membersApiMigrations]);
      registryDb = db;
      cleanups.push(async () => {
        db.close();
      });
      centers = createCenterStore(db);
    }
    const store = centers;

    let broker: EmbeddedBroker | null = null;
    let brokerUrl: string;
    if ("embedded" in cfg.broker) {
      const { auth, serverPassword, ...emb } = cfg.broker.embedded;
      // Without a registry there are no center credentials: insecure dev mode, logged as a warning by the broker.
      const mode = auth ?? (store ? "centers" : "none");
      broker = await startEmbeddedBroker({
        ...emb,
        logger: log,
        auth:
          mode === "centers" && store
            ? { mode, verifyCenter: (id, pw) => store.verifyCenter(id, pw), ...(serverPassword ? { serverPassword } : {}) }
            : { mode: "none" },
      });
      const b = broker;
      cleanups.push(() => b.close());
      brokerUrl = broker.url;
    } else brokerUrl = cfg.broker.url;

    const liveCfg = cfg.live ?? { checkoutAt: "04:00", timeZone: "Asia/Karachi", rebuild: true };
    // The center config (registry) gives the live view each center's zones, seats and check-out time.
    const centerConfig = registryDb ? createCenterConfigStore(registryDb, { clock: deps.clock }) : null;
    const checkoutCutoff = createCheckoutPolicy({
      defaultAt: liveCfg.checkoutAt,
      timeZone: liveCfg.timeZone,
      now: () => deps.clock.now(),
      centerAt: (id) => centerConfig?.get(id)?.autoCheckoutAt,
    });
    // Observed: the SSE stream and the member-cache sync (edge online → full cache) hear every change.
    const live = observeLive(
      createLiveState({ checkoutCutoff, layout: (id) => centerConfig?.get(id) ?? null }),
      (e) => log.warn({ err: e }, "live change listener failed"),
    );
    const metrics = createMetrics();
    const rebuild = async () => {
      try {
        await rebuildLiveState({
          influx,
          live,
          // Any center's cut-off (its own HH:MM or the default) lies within the last 24 h; the live view filters per center.
          cutoff: deps.clock.now() - 25 * 3_600_000, // 25 h: a day with a DST change
          logger: log.child({ component: "live" }),
          now: () => deps.clock.now(),
        });
      } catch (e) {
        // InfluxDB answered ensureDatabase but not this: serve what ingest brings rather than not start.
        log.error({ err: e }, "live state rebuild failed; live view starts empty");
      }
    };
    if (liveCfg.rebuild) {
      // Before subscribing, so the first live view after a restart is already complete; the reducer is
      // idempotent and order-independent, so events ingested later on top of it are never double-counted.
      // InfluxDB not there yet: rebuilt once it is (same reducer, so the order does not matter).
      if (readyAtStart) await rebuild();
      else {
        let rebuilt = false;
        dbReady.onReady(() => {
          if (!rebuilt) void rebuild();
          rebuilt = true;
        });
      }
    }
    // Unknown/disabled centers are refused whenever a registry exists, unless auth is explicitly "none":
    // their uplinks (events, status, time) by the ingest, and the member cache is not sent to them.
    const governing = store && !("embedded" in cfg.broker && cfg.broker.embedded.auth === "none") ? store : null;
    let membersApi: MembersApi | null = null;
    if (registryDb && cfg.registry) {
      // Before connecting (an await between connect() and the "connect" listener below would miss the event), and
      // before SUBSCRIBE: retained edge statuses arrive right after it and each "online" triggers a full cache.
      membersApi = await setupMembersApi({
        db: registryDb,
        registryPath: cfg.registry.path,
        live,
        influx,
        clock: deps.clock,
        logger: log,
        registeredCenters: () => (store ? store.listCenters().filter((c) => c.disabledAt === null).map((c) => c.id) : []),
        ...(centerConfig ? { centerConfig } : {}),
        ...(governing ? { centerActive: (id: string) => governing.isActive(id) } : {}),
        publish: async (topic, payload, o) => {
          if (!client.connected) throw new Error("MQTT client not connected"); // the publisher retries with a full cache
          await client.publishAsync(topic, payload, { qos: 1, retain: o.retain });
        },
      });
      const m = membersApi;
      cleanups.push(() => m.close());
    }
    const clientId = cfg.mqtt.clientId ?? `hazri-server-${randomBytes(6).toString("hex")}`;
    const ext = "embedded" in cfg.broker ? null : cfg.broker;
    const client = mqtt.connect(brokerUrl, {
      clientId,
      // A stable id keeps a persistent session (MQTT 3.1.1 §3.1.2.4): the broker
      // queues QoS 1 uplinks while we restart. A random id must not leave
      // abandoned sessions behind, so it is clean.
      clean: cfg.mqtt.clientId === undefined,
      keepalive: cfg.mqtt.keepaliveS,
      reconnectPeriod: 1000,
      resubscribe: true,
      ...(ext?.username !== undefined ? { username: ext.username, password: ext.password } : {}),
      ...(broker?.serverCredentials ? broker.serverCredentials : {}),
    });
    cleanups.push(async () => {
      metrics.mqttConnected = false; // a graceful close is not a "disconnected" warning
      await client.endAsync();
    });
    const mlog = log.child({ component: "mqtt" });
    const publishJson = async (topic: string, body: unknown) => {
      // Offline publishes would sit in MQTT.js's memory queue; fail fast instead:
      // the edge re-sends and the rewrite is idempotent.
      if (!client.connected) throw new Error("MQTT client not connected");
      await client.publishAsync(topic, JSON.stringify(body), { qos: 1 });
    };
    // Closed days' SLA facts (issue 6), dropped by late data through this ingest; behind a shared
    // subscription other processes ingest too and would not invalidate it, so no cache there.
    const slaCache = ext?.sharedGroup ? null : createSlaCache();
    const ingest = createIngest({
      ...(slaCache ? { onStored: (events: readonly { centerId: string; ts: number; type: string }[]) => slaCache.onStored(events) } : {}),
      influx: {
        async writeLines(lines) {
          try {
            await influx.writeLines(lines);
          } catch (e) {
            // 1.x answers 404 "database not found" after InfluxDB came back on an empty data folder.
            if ((e as { context?: { status?: number } }).context?.status === 404) dbReady.recheck();
            throw e;
          }
        },
      },
      writable: () => dbReady.ready(),
      publishAck: (centerId, ack) => publishJson(topics.down(centerId, "ack"), ack),
      publishTimeReply: (centerId, reply) => publishJson(topics.down(centerId, "time"), reply),
      live,
      logger: log,
      clock: deps.clock,
      metrics,
      opts: cfg.ingest,
      ...(governing ? { centers: governing } : {}),
    });
    cleanups.push(() => ingest.close());
    dbReady.onReady(() => ingest.kick());
    client.on("message", (topic, payload) => ingest.handleMessage(topic, payload));
    client.on("connect", () => {
      // MQTT.js leaves Nagle on; every ack would wait for a delayed ACK (p50 21 ms → 0.3 ms).
      (client.stream as net.Socket).setNoDelay?.(true);
      metrics.mqttConnected = true;
      mlog.info({ brokerUrl, clientId }, "connected");
    });
    client.on("close", () => {
      if (metrics.mqttConnected) mlog.warn({ brokerUrl }, "disconnected");
      metrics.mqttConnected = false;
    });
    client.on("error", (e) => mlog.warn({ err: e }, "mqtt error"));
    await new Promise<void>((resolve, reject) => {
      const onErr = (e: Error) => reject(e);
      client.once("error", onErr);
      client.once("connect", () => {
        client.off("error", onErr);
        resolve();
      });
    });
    const kinds: UpKind[] = ["events", "status", "time"];
    const filters = kinds.map((k) => (ext?.sharedGroup ? topics.sharedAllUp(ext.sharedGroup, k) : topics.allUp(k)));
    const granted = await client.subscribeAsync(filters, { qos: 1 });
    const refused = granted.filter((g) => g.qos === 128);
    if (refused.length > 0) throw new Error(`broker refused subscriptions: ${refused.map((g) => g.topic).join(", ")}`);

    const app = await buildApp({
      ...(cfg.http.trustProxy !== undefined ? { trustProxy: cfg.http.trustProxy } : {}),
      live,
      influx,
      logger: log,
      metrics,
      mqttConnected: () => client.connected,
      databaseReady: () => dbReady.ready(),
      ...(membersApi ? { api: membersApi.api } : {}),
      reports: {
        influx,
        clock: deps.clock,
        sla,
        ...(cfg.reports?.chromiumPath ? { chromiumPath: cfg.reports.chromiumPath } : {}),
        // The league table lists every registered center, silent ones flagged no_data (issue 6).
        ...(store ? { registeredCenters: () => store.listCenters() } : {}),
        ...(slaCache ? { cache: slaCache } : {}),
      },
    });
    cleanups.push(() => app.close());
    await app.listen({ host: cfg.http.host, port: cfg.http.port });
    const addr = app.server.address() as net.AddressInfo;
    const host = cfg.http.host === "0.0.0.0" ? "127.0.0.1" : cfg.http.host.includes(":") ? `[${cfg.http.host}]` : cfg.http.host;
    const httpUrl = `http://${host}:${addr.port}`;
    log.info({ httpUrl, brokerUrl }, "hazri server started");
    let closing: Promise<void> | null = null;
    return {
      httpUrl,
      brokerUrl,
      app,
      live,
      metrics,
      centers,
      brokerTlsUrl: broker?.tlsUrl ?? null,
      close() {
        // Reverse order: stop HTTP, drain ingest (store + ack what was accepted), then MQTT, broker, influx.
        closing ??= closeAll();
        return closing;
      },
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}
