import type { Readable } from "node:stream";
import { z } from "zod";
import type { FastifyInstance } from "fastify";
import { HazriError } from "../../../protocol/errors.ts";
import { CenterId, MemberId } from "../../../protocol/ids.ts";
import { visibleCenters } from "../auth/plugin.ts";
import type { Caller } from "../registry/users.ts";
import { allowedAt, MemberCreate, MemberPatch } from "../registry/members.ts";
import type { Member } from "../registry/members.ts";
import type { ApiDeps } from "./api.ts";
import type { Route } from "./define.ts";
import { MemberSchema, MembersPageSchema } from "./responses.ts";

const STAFF = ["pseb_admin", "center_staff"] as const;
const ADMIN = ["pseb_admin"] as const;
/** Largest CSV accepted in one import (1 M members at ~100 bytes a row fit comfortably). */
export const MAX_IMPORT_BYTES = 512 * 1024 * 1024;

const IdParams = z.object({ id: MemberId }).strict();
const CardParams = z.object({ id: MemberId, card: z.string().min(1).max(64) }).strict();
const ListQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    /** `next` of the previous page. */
    after: MemberId.optional(),
    status: z.enum(["active", "suspended"]).optional(),
    center: CenterId.optional(),
  })
  .strict();
const CardBody = z.object({ card: z.string().min(1).max(64) }).strict();
const ImportParams = z.object({ id: z.string().regex(/^imp_[0-9a-f]{16}$/, "import id") }).strict();

/**
 * Staff see (and may suspend / revoke cards of) members allowed at one of
 * their centers — a member allowed everywhere ("all") is visible to every
 * center's staff, since they may walk in anywhere. Admins see everyone; a
 * member sees only themself.
 */
function canSeeMember(c: Caller, m: Member): boolean {
  if (c.role === "pseb_admin") return true;
  if (c.role === "member") return c.memberId === m.id;
  return c.centers.some((id) => allowedAt(m.centers, id));
}

/** Members and cards CRUD, suspension, card revocation, CSV import with progress. */
export function memberRoutes(app: FastifyInstance, route: Route, deps: ApiDeps): void {
  // The CSV body is handed over as the raw stream (never buffered whole); the
  // importer reads it chunk by chunk. Size is capped as it streams.
  app.addContentTypeParser(["text/csv", "text/plain"], (_req, payload, done) => done(null, payload));

  const visible = (caller: Caller, id: string): Member => {
    const m = deps.members.get(id);
    // Same answer for "does not exist" and "not yours": nothing leaks about other centers' members.
    if (!m || !canSeeMember(caller, m)) throw new HazriError("API_NOT_FOUND", `no member ${id}`);
    return m;
  };

  route({
    method: "GET",
    url: "/api/members",
    summary: "Members, ordered by id, keyset-paginated (`next` → `after`). Staff: members allowed at their centers.",
    tag: "members",
    access: STAFF,
    query: ListQuery,
    response: MembersPageSchema,
    async handler({ caller, query }) {
      let at = visibleCenters(caller);
      if (query.center !== undefined) {
        if (at && !at.includes(query.center)) throw new HazriError("API_FORBIDDEN", `no access to center ${query.center}`);
        at = [query.center];
      }
      return deps.members.list({ limit: query.limit, after: query.after, status: query.status, atCenters: at });
    },
  });

  route({
    method: "GET",
    url: "/api/members/:id",
    summary: "One member with cards (active and revoked). A member may read only themself.",
    tag: "members",
    access: ["pseb_admin", "center_staff", "member"],
    params: IdParams,
    response: MemberSchema,
    async handler({ caller, params }) {
      return visible(caller, params.id);
    },
  });

  route({
    method: "POST",
    url: "/api/members",
    summary: "Create a member (PSEB admin).",
    tag: "members",
    access: ADMIN,
    body: MemberCreate,
    response: MemberSchema,
    successStatus: 201,
    async handler({ body, reply }) {
      reply.code(201);
      return deps.members.create(body);
    },
  });

  route({
    method: "PATCH",
    url: "/api/members/:id",
    summary: "Change a member's fields (PSEB admin).",
    tag: "members",
    access: ADMIN,
    params: IdParams,
    body: MemberPatch,
    response: MemberSchema,
    async handler({ params, body }) {
      return deps.members.update(params.id, body);
    },
  });

  route({
    method: "DELETE",
    url: "/api/members/:id",
    summary: "Delete a member (PSEB admin); the edges forget them with the next delta.",
    tag: "members",
    access: ADMIN,
    params: IdParams,
    async handler({ params }) {
      deps.members.remove(params.id);
      return { deleted: params.id };
    },
  });

  for (const [action, status] of [
    ["suspend", "suspended"],
    ["activate", "active"],
  ] as const)
    route({
      method: "POST",
      url: `/api/members/:id/${action}`,
      summary: `Set a member ${status} (admin, or staff of a center the member may enter).`,
      tag: "members",
      access: STAFF,
      params: IdParams,
      response: MemberSchema,
      async handler({ caller, params }) {
        visible(caller, params.id);
        return deps.members.update(params.id, { status });
      },
    });

  route({
    method: "POST",
    url: "/api/members/:id/cards",
    summary: "Issue a card to a member (PSEB admin). 409 when the card is active on another member.",
    tag: "members",
    access: ADMIN,
    params: IdParams,
    body: CardBody,
    response: MemberSchema,
    successStatus: 201,
    async handler({ params, body, reply }) {
      const m = deps.members.addCard(params.id, body.card);
      reply.code(201);
      return m;
    },
  });

  route({
    method: "DELETE",
    url: "/api/members/:id/cards/:card",
    summary: "Revoke a card (admin, or staff of a center the member may enter). Reaches the edges within seconds.",
    tag: "members",
    access: STAFF,
    params: CardParams,
    response: MemberSchema,
    async handler({ caller, params }) {
      visible(caller, params.id);
      return deps.members.revokeCard(params.id, params.card);
    },
  });

  route({
    method: "POST",
    url: "/api/members/import",
    summary:
      "Import members from a CSV body (Content-Type text/csv; header: id,name,cards,status,validFrom,validUntil,centers,schedule,staff). Returns 202 with an import id at once.",
    tag: "members",
    access: ADMIN,
    bodyType: "text/csv",
    async handler({ req, reply }) {
      const body = req.body as Readable | undefined;
      if (!body || typeof (body as Readable).on !== "function")
        throw new HazriError("API_BAD_REQUEST", "send the CSV as the request body with Content-Type: text/csv");
      const { id, done } = deps.importer.start(capped(body, MAX_IMPORT_BYTES));
      done.catch(() => undefined); // the status row records failures
      reply.code(202);
      return { id, status: `/api/members/import/${id}` };
    },
  });

  route({
    method: "GET",
    url: "/api/members/import/:id",
    summary: "Progress and per-row error report of an import (rowsDone, rowsTotal once known, ok, failed, errors).",
    tag: "members",
    access: ADMIN,
    params: ImportParams,
    async handler({ params }) {
      const s = deps.importer.status(params.id);
      if (!s) throw new HazriError("API_NOT_FOUND", `no import ${params.id}`);
      return s;
    },
  });
}

async function* capped(stream: Readable, max: number): AsyncGenerator<Buffer> {
  let n = 0;
  for await (const chunk of stream) {
    const b = chunk as Buffer;
    n += b.length;
    if (n > max) {
      stream.destroy();
      throw new Error(`CSV larger than ${max} bytes`);
    }
    yield b;
  }
}
