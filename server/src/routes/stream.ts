import type { ServerResponse } from "node:http";
import { z } from "zod";
import type { FastifyInstance } from "fastify";
import { CenterId } from "../../../protocol/ids.ts";
import type { HazriEvent } from "../../../protocol/events.ts";
import type { EdgeStatus } from "../../../protocol/messages.ts";
import { HazriError } from "../../../protocol/errors.ts";
import { bearerToken, canSeeCenter } from "../auth/plugin.ts";
import type { LiveState } from "../live/state.ts";
import type { Caller } from "../registry/users.ts";
import type { ApiDeps } from "./api.ts";
import type { Route } from "./define.ts";

export type LiveChange = { kind: "event"; centerId: string; event: HazriEvent } | { kind: "edge"; centerId: string; status: EdgeStatus };

export interface LiveChanges {
  onChange(listener: (c: LiveChange) => void): () => void;
}

/**
 * Wrap a LiveState so that every applied event and edge status is also
 * announced (SSE, member-cache re-send on edge reconnect). The wrapper is
 * what ingest and the API are given; methods not listed are passed through,
 * so new LiveState methods keep working. A throwing listener cannot break
 * ingest: it is caught and reported to `onListenerError`.
 */
export function observeLive(live: LiveState, onListenerError: (e: unknown) => void = () => {}): LiveState & LiveChanges {
  const listeners = new Set<(c: LiveChange) => void>();
  const emit = (c: LiveChange) => {
    for (const l of listeners)
      try {
        l(c);
      } catch (e) {
        onListenerError(e);
      }
  };
  return {
    ...live,
    apply(event) {
      live.apply(event);
      if (listeners.size) emit({ kind: "event", centerId: event.centerId, event });
    },
    setEdgeStatus(status) {
      live.setEdgeStatus(status);
      if (listeners.size) emit({ kind: "edge", centerId: status.centerId, status });
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** A member sees only their own badges; staff their centers; admins everything. */
export function visibleChange(c: Caller, ch: LiveChange): boolean {
  if (c.role === "member") return ch.kind === "event" && ch.event.type === "badge" && c.memberId !== null && ch.event.memberId === c.memberId;
  return canSeeCenter(c, ch.centerId);
}

const StreamQuery = z
  .object({
    /** Bearer token for EventSource, which cannot set headers. */
    token: z.string().max(200).optional(),
    /** Only this center. */
    center: CenterId.optional(),
  })
  .strict();

/** A slow client is cut off rather than buffered without bound. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
const STREAM_TOKEN_PATHS: ReadonlySet<string> = new Set(["/api/stream"]);

/**
 * `GET /api/stream`: Server-Sent Events (WHATWG HTML §9.2). Event names:
 * `hello` (once: caller), `event` (`{centerId, event}`), `edge`
 * (`{centerId, status}`), `end` (`{reason}`, then the stream closes: the
 * session expired, was logged out or revoked); a `:` comment every
 * `sseKeepaliveMs` keeps proxies from closing an idle stream.
 *
 * A stream outlives the request that authorized it, so the token is resolved
 * again every `sseAuthCheckMs` (default 5 s): an expired or revoked session
 * stops receiving within that time, and a changed role or center list applies
 * to what is sent from then on.
 */
export function streamRoutes(app: FastifyInstance, route: Route, deps: ApiDeps): void {
  // Open streams never end on their own: close them before the server waits for its connections.
  const open = new Set<ServerResponse>();
  app.addHook("preClose", async () => {
    for (const r of open) r.end();
  });
  route({
    method: "GET",
    url: "/api/stream",
    summary: "Server-Sent Events of live changes visible to the caller. Token via Authorization or `?token=`.",
    tag: "centers",
    access: ["pseb_admin", "center_staff", "member"],
    query: StreamQuery,
    async handler({ caller: first, query, req, reply }) {
      let caller = first;
      const token = bearerToken(req, STREAM_TOKEN_PATHS);
      if (query.center !== undefined && caller.role !== "member" && !canSeeCenter(caller, query.center))
        throw new HazriError("API_FORBIDDEN", `no access to center ${query.center}`);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache, no-transform",
        connection: "keep-alive",
        "x-accel-buffering": "no",
      });
      req.socket.setNoDelay(true);
      const send = (event: string, data: unknown) => {
        res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
        if (res.writableLength > MAX_BUFFERED_BYTES) res.destroy();
      };
      send("hello", { username: caller.username, role: caller.role, centers: caller.centers, memberId: caller.memberId });
      const off = deps.liveChanges.onChange((ch) => {
        if (query.center !== undefined && ch.centerId !== query.center) return;
        if (!visibleChange(caller, ch)) return;
        if (ch.kind === "event") send("event", { centerId: ch.centerId, event: ch.event });
        else send("edge", { centerId: ch.centerId, status: ch.status });
      });
      const ping = setInterval(() => res.write(`: ping ${deps.clock.now()}\n\n`), deps.sseKeepaliveMs ?? 15_000);
      ping.unref();
      const recheck = setInterval(() => {
        const now = token ? deps.users.resolve(token) : null;
        if (now && (query.center === undefined || now.role === "member" || canSeeCenter(now, query.center))) {
          caller = now;
          return;
        }
        send("end", { reason: now ? "forbidden" : "unauthorized", detail: now ? `no access to center ${query.center} any more` : "session expired, logged out or revoked" });
        res.end();
      }, deps.sseAuthCheckMs ?? 5_000);
      recheck.unref();
      open.add(res);
      const stop = () => {
        open.delete(res);
        off();
        clearInterval(ping);
        clearInterval(recheck);
      };
      res.on("close", stop);
      res.on("error", stop);
    },
  });
}
