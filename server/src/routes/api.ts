import type { FastifyInstance } from "fastify";
import type { Clock } from "../../../protocol/clock.ts";
import { authPlugin } from "../auth/plugin.ts";
import type { LoginLimiter } from "../auth/rate-limit.ts";
import type { InfluxAdapter } from "../influx/adapter.ts";
import type { LiveState } from "../live/state.ts";
import type { CenterConfigStore } from "../registry/center-config.ts";
import type { MemberImporter } from "../registry/member-import.ts";
import type { MembersRegistry } from "../registry/members.ts";
import type { UsersRegistry } from "../registry/users.ts";
import { authRoutes } from "./auth-routes.ts";
import { centerRoutes } from "./centers.ts";
import { createRouter } from "./define.ts";
import type { DocEntry } from "./define.ts";
import { eventRoutes } from "./events.ts";
import { memberRoutes } from "./members.ts";
import { docsRoutes } from "./openapi.ts";
import { streamRoutes } from "./stream.ts";
import type { LiveChanges } from "./stream.ts";

/** Everything the authenticated API needs; all injected (tests pass fakes). */
export interface ApiDeps {
  live: LiveState;
  liveChanges: LiveChanges;
  users: UsersRegistry;
  members: MembersRegistry;
  importer: MemberImporter;
  centerConfig: CenterConfigStore;
  influx: Pick<InfluxAdapter, "query">;
  /** SPKI PEM of the member-cache signing key (GET /api/keys/member-cache). */
  memberCacheKeyPem: string;
  clock: Clock;
  loginLimiter: LoginLimiter;
  /** Session lifetime (default 12 h). */
  sessionTtlMs?: number;
  /** Centers known beyond live data and config (e.g. the broker's center registry). */
  knownCenters?: () => string[];
  /** SSE keep-alive comment interval (default 15 s). */
  sseKeepaliveMs?: number;
  /** How often an open SSE stream re-resolves its token (default 5 s; routes/stream.ts). */
  sseAuthCheckMs?: number;
}

/**
 * The authenticated HTTP API (issue 5): one router, every route declaring its
 * roles (routes/define.ts), the OpenAPI document built from the same
 * declarations. See server/README.md for the route table.
 */
export async function apiRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  await app.register(authPlugin, { users: deps.users, queryTokenPaths: ["/api/stream"] });
  const docs: DocEntry[] = [];
  const route = createRouter(app, docs);
  authRoutes(route, deps);
  centerRoutes(route, deps);
  eventRoutes(route, deps);
  memberRoutes(app, route, deps);
  streamRoutes(app, route, deps);
  docsRoutes(app, docs);
}
