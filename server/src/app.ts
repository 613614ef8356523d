import Fastify from "fastify";
import { z } from "zod";
import type { FastifyInstance } from "fastify";
import { isHazriError } from "../../protocol/errors.ts";
import type { Logger } from "../../protocol/clock.ts";
import type { InfluxAdapter } from "./influx/adapter.ts";
import type { LiveState } from "./live/state.ts";
import type { Metrics } from "./metrics.ts";
import { apiRoutes } from "./routes/api.ts";
import { badRequest } from "./routes/define.ts";
import type { ApiDeps } from "./routes/api.ts";
import { liveRoutes } from "./routes/live.ts";
import { opsRoutes } from "./routes/ops.ts";
import { reportsPlugin } from "./routes/reports.ts";
import type { ReportRouteDeps } from "./routes/reports.ts";
import { uiRoutes } from "./routes/ui.ts";

export interface AppDeps {
  live: LiveState;
  influx: Pick<InfluxAdapter, "ping">;
  logger: Logger;
  metrics: Metrics;
  /** Whether the server's MQTT client is connected (default: reads metrics.mqttConnected). */
  mqttConnected?: () => boolean;
  /** Whether the InfluxDB database is known to exist (influx/readiness.ts); default true. */
  databaseReady?: () => boolean;
  /**
   * The authenticated API (registry configured). Without it only the
   * unauthenticated read-only live routes are served (dev/demo mode).
   */
  api?: Omit<ApiDeps, "live">;
  /** SLA and occupancy reports (issue 6); served only with `api` (roles come from its users). */
  reports?: ReportRouteDeps;
  /**
   * Behind a reverse proxy: which proxies' X-Forwarded-For to believe (fastify `trustProxy`: true, or
   * the proxies' addresses/CIDRs). Without it every request seems to come from the proxy, so the login rate
   * limit per client address would lock out everyone at once.
   */
  trustProxy?: boolean | string[];
}

const STATUS: Record<string, number> = {
  API_NOT_FOUND: 404,
  API_BAD_REQUEST: 400,
  API_UNAUTHORIZED: 401,
  API_FORBIDDEN: 403,
  API_CONFLICT: 409,
  API_RATE_LIMITED: 429,
};

/** The HTTP app, not listening: tests drive it with `app.inject()`. One plugin per concern. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const log = deps.logger.child({ component: "http" });
  const app = Fastify({ logger: false, ...(deps.trustProxy !== undefined ? { trustProxy: deps.trustProxy } : {}) });
  // Every error leaves as `{ error: { code, message } }` with a stable code (protocol/errors.ts).
  app.setErrorHandler((thrown, req, reply) => {
    // A zod error escaping a registry call (e.g. a card id checked there) is still the caller's bad input.
    const err: unknown = thrown instanceof z.ZodError ? badRequest(thrown, "input") : thrown;
    if (isHazriError(err)) {
      const status = STATUS[err.code] ?? 500;
      if (status >= 500) log.error({ err, url: req.url }, "request failed");
      // `details` only for bad requests (which field, what is wrong); other contexts may hold internals.
      const details = err.code === "API_BAD_REQUEST" && err.context !== undefined ? { details: err.context } : {};
      return reply.status(status).send({ error: { code: err.code, message: err.message, ...details } });
    }
    const status = (err as { statusCode?: number }).statusCode ?? 500;
    if (status >= 500) log.error({ err, url: req.url }, "request failed");
    return reply
      .status(status)
      // An unexpected 5xx says nothing about internals (the log has the error and stack).
      .send({ error: { code: status < 500 ? "API_BAD_REQUEST" : "API_INTERNAL", message: status < 500 ? (err as Error).message : "internal error" } });
  });
  app.setNotFoundHandler((req, reply) =>
    reply.status(404).send({ error: { code: "API_NOT_FOUND", message: `no route ${req.method} ${req.url}` } }),
  );
  const mqttConnected = deps.mqttConnected ?? (() => deps.metrics.mqttConnected);
  await app.register(opsRoutes, { influx: deps.influx, metrics: deps.metrics, mqttConnected, databaseReady: deps.databaseReady ?? (() => true), edges: () => deps.live.edges() });
  await app.register(uiRoutes, { logger: log }); // the web UI (dashboards/web), built on first request
  if (deps.api) await app.register(apiRoutes, { ...deps.api, live: deps.live });
  else await app.register(liveRoutes, { live: deps.live });
  if (deps.api && deps.reports) await app.register(reportsPlugin, { ...deps.reports, users: deps.api.users });
  return app;
}
