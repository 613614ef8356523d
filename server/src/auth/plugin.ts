import fp from "fastify-plugin";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { HazriError } from "../../../protocol/errors.ts";
import type { Caller, Role, UsersRegistry } from "../registry/users.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** Resolved from `Authorization: Bearer <token>`; null when absent or invalid. */
    caller: Caller | null;
  }
}

/**
 * Resolves the caller of every request from its bearer token (RFC 6750 §2.1).
 * It only identifies; each route declares what it requires (see
 * routes/define.ts `access`) and checks center / member scope with the
 * helpers below, so a route that forgets to declare access fails closed.
 */
export const authPlugin = fp(
  async (app: FastifyInstance, opts: { users: UsersRegistry; queryTokenPaths?: readonly string[] }) => {
    const queryPaths = new Set(opts.queryTokenPaths ?? []);
    app.decorateRequest("caller", null);
    app.addHook("onRequest", async (req) => {
      const token = bearerToken(req, queryPaths);
      req.caller = token ? opts.users.resolve(token) : null;
    });
  },
  { name: "hazri-auth" },
);

export function requireCaller(req: FastifyRequest, roles: readonly Role[]): Caller {
  const c = req.caller;
  if (!c) throw new HazriError("API_UNAUTHORIZED", "a valid bearer token is required");
  if (!roles.includes(c.role)) throw new HazriError("API_FORBIDDEN", `role ${c.role} may not ${req.method} ${req.routeOptions.url ?? req.url}`);
  return c;
}

export function canSeeCenter(c: Caller, centerId: string): boolean {
  return c.role === "pseb_admin" || (c.role === "center_staff" && c.centers.includes(centerId));
}

export function requireCenter(c: Caller, centerId: string): void {
  if (!canSeeCenter(c, centerId)) throw new HazriError("API_FORBIDDEN", `no access to center ${centerId}`);
}

/** Centers a caller may see: undefined = all (admin). */
export function visibleCenters(c: Caller): string[] | undefined {
  return c.role === "pseb_admin" ? undefined : c.role === "center_staff" ? c.centers : [];
}

/**
 * The token of a request: `Authorization: Bearer` (RFC 6750 §2.1), or — only on
 * the listed paths — the `token` query parameter (RFC 6750 §2.3), because a
 * browser's EventSource cannot set headers. URLs end up in logs and history,
 * so the query form is limited to the SSE stream.
 */
export function bearerToken(req: FastifyRequest, queryPaths: ReadonlySet<string> = new Set()): string | null {
  const h = req.headers.authorization;
  const m = typeof h === "string" ? /^Bearer\s+(\S+)$/i.exec(h) : null;
  if (m?.[1]) return m[1];
  if (queryPaths.size > 0 && queryPaths.has(req.url.split("?")[0] ?? "")) {
    const t = (req.query as Record<string, unknown> | undefined)?.token;
    if (typeof t === "string" && t.length > 0) return t;
  }
  return null;
}
