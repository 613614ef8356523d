import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { HazriError } from "../../../protocol/errors.ts";
import { CenterId } from "../../../protocol/ids.ts";
import { bearerToken } from "../auth/plugin.ts";
import { Role, UserCreate } from "../registry/users.ts";
import type { ApiDeps } from "./api.ts";
import type { Route } from "./define.ts";

const ALL = ["pseb_admin", "center_staff", "member"] as const;
const DAY = 86_400_000;

const Login = z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(200) }).strict();
const TokenCreate = z
  .object({
    name: z.string().min(1).max(100),
    /** Narrower than the creator's role, or the same. */
    role: Role.optional(),
    centers: z.array(CenterId).max(1000).optional(),
    ttlDays: z.number().int().min(1).max(366).default(90),
  })
  .strict();

/** Login, logout, who-am-I, API tokens, users (admin) and the member-cache public key. */
export function authRoutes(route: Route, deps: ApiDeps): void {
  const sessionTtl = deps.sessionTtlMs ?? 12 * 3_600_000;

  route({
    method: "POST",
    url: "/api/auth/login",
    summary: "Log in with username and password; returns a session token (send it as `Authorization: Bearer <token>`).",
    tag: "auth",
    access: "public",
    body: Login,
    async handler({ body, req, reply }) {
      const { retryAfterS: wait, delayMs } = deps.loginLimiter.check(req.ip, body.username);
      if (wait > 0) {
        // RFC 6585 §4 (429) with RFC 9110 §10.2.3 Retry-After in seconds.
        reply.header("retry-after", String(wait));
        throw new HazriError("API_RATE_LIMITED", `too many login attempts; retry in ${wait} s`, { retryAfterS: wait });
      }
      if (delayMs > 0) await sleep(delayMs); // global slow-down during a guess campaign (auth/rate-limit.ts)
      const who = await deps.users.verifyPassword(body.username, body.password);
      if (!who) {
        deps.loginLimiter.failed(req.ip, body.username);
        throw new HazriError("API_UNAUTHORIZED", "wrong username or password");
      }
      deps.loginLimiter.succeeded(req.ip, body.username);
      const t = deps.users.issueToken(who, "session", { ttlMs: sessionTtl });
      return { token: t.token, expiresAt: t.expiresAt, username: who.username, role: who.role, centers: who.centers, memberId: who.memberId };
    },
  });

  route({
    method: "POST",
    url: "/api/auth/logout",
    summary: "Revoke the token this request carries.",
    tag: "auth",
    access: ALL,
    async handler({ req }) {
      const t = bearerToken(req);
      return { revoked: t ? deps.users.revokeToken(t) : false };
    },
  });

  route({
    method: "GET",
    url: "/api/auth/me",
    summary: "The caller: username, role, centers (staff), memberId (member), token kind.",
    tag: "auth",
    access: ALL,
    async handler({ caller }) {
      return caller;
    },
  });

  route({
    method: "POST",
    url: "/api/tokens",
    summary: "Create an API token for automation (shown once; stored hashed). Never wider than the caller.",
    tag: "auth",
    access: ALL,
    body: TokenCreate,
    async handler({ caller, body, reply }) {
      const t = deps.users.issueToken(caller, "api", {
        ttlMs: body.ttlDays * DAY,
        name: body.name,
        ...(body.role ? { role: body.role } : {}),
        ...(body.centers ? { centers: body.centers } : {}),
      });
      reply.code(201);
      return { token: t.token, name: body.name, expiresAt: t.expiresAt, role: t.role, centers: t.centers };
    },
  });

  route({
    method: "POST",
    url: "/api/users",
    summary: "Create a user (PSEB admin only).",
    tag: "auth",
    access: ["pseb_admin"],
    body: UserCreate,
    async handler({ body, reply }) {
      const u = await deps.users.create(body);
      reply.code(201);
      return u;
    },
  });

  route({
    method: "GET",
    url: "/api/users",
    summary: "All users (PSEB admin).",
    tag: "auth",
    access: ["pseb_admin"],
    async handler() {
      return { users: deps.users.list() };
    },
  });

  route({
    method: "DELETE",
    url: "/api/users/:username",
    summary: "Delete a user and all their tokens (PSEB admin; not yourself).",
    tag: "auth",
    access: ["pseb_admin"],
    params: z.object({ username: z.string().min(1).max(64) }).strict(),
    async handler({ caller, params }) {
      if (params.username === caller.username) throw new HazriError("API_CONFLICT", "you cannot delete yourself");
      if (!deps.users.remove(params.username)) throw new HazriError("API_NOT_FOUND", `no user ${params.username}`);
      return { deleted: params.username };
    },
  });

  route({
    method: "GET",
    url: "/api/keys/member-cache",
    summary: "Ed25519 public key (SPKI PEM) that verifies the member caches; provision it on every edge.",
    tag: "members",
    access: "public",
    async handler() {
      return { algorithm: "ed25519", publicKeyPem: deps.memberCacheKeyPem };
    },
  });
}
