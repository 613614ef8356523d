import type { FastifyInstance } from "fastify";
import type { InfluxAdapter } from "../influx/adapter.ts";
import { renderPrometheus } from "../metrics.ts";
import type { EdgeGaugeInput, Metrics } from "../metrics.ts";

/** `/healthz` and `/metrics`: for load balancers, supervisors and Prometheus. */
export async function opsRoutes(
  app: FastifyInstance,
  opts: {
    influx: Pick<InfluxAdapter, "ping">;
    metrics: Metrics;
    mqttConnected: () => boolean;
    databaseReady: () => boolean;
    /** Per-center edge reports (online, outbox depth from the last heartbeat). */
    edges?: () => readonly EdgeGaugeInput[];
  },
): Promise<void> {
  // 503 unless everything is up, so a load balancer or supervisor needs no body parsing; the body says what is down.
  app.get("/healthz", async (_req, reply) => {
    const influx = await opts.influx.ping();
    const database = opts.databaseReady();
    const mqtt = opts.mqttConnected();
    const ok = influx && database && mqtt;
    reply.status(ok ? 200 : 503);
    return { ok, influx, database, mqtt };
  });
  app.get("/metrics", async (_req, reply) => {
    opts.metrics.mqttConnected = opts.mqttConnected();
    reply.type("text/plain; version=0.0.4; charset=utf-8");
    return renderPrometheus(opts.metrics, opts.edges?.() ?? []);
  });
}
