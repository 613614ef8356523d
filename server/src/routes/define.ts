import { z } from "zod";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { HazriError } from "../../../protocol/errors.ts";
import { requireCaller } from "../auth/plugin.ts";
import type { Caller, Role } from "../registry/users.ts";

/**
 * One way to declare an API route: zod schemas for params, query and body
 * (validated before the handler; failures → 400 API_BAD_REQUEST with the zod
 * issues as `details`), the roles that may call it (`access`, required — there
 * is no default, so a new route cannot be public by accident), and a summary.
 * Every declaration is also recorded for the OpenAPI document (routes/openapi.ts),
 * generated from the same zod schemas with zod 4's `z.toJSONSchema`; `response`
 * (routes/responses.ts) documents the success body.
 *
 * Why not fastify-type-provider-zod + @fastify/swagger: no new dependency was
 * needed for the little we use, and the zod schemas stay the single source.
 */
export interface RouteSpec<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  url: string;
  summary: string;
  tag: string;
  /** "public" or the roles allowed to call; scope (center, member) is checked in the handler. */
  access: "public" | readonly Role[];
  params?: P;
  query?: Q;
  body?: B;
  /** Body content type when not JSON (e.g. "text/csv"); the body is then not validated by zod. */
  bodyType?: string;
  /** The success body, for the OpenAPI document (not validated at run time; tests parse real bodies with it). */
  response?: z.ZodType;
  /** Status of a success (default 200). */
  successStatus?: number;
  handler: (
    ctx: { caller: Caller; params: z.output<P>; query: z.output<Q>; body: z.output<B>; req: FastifyRequest; reply: FastifyReply },
  ) => Promise<unknown>;
}

export interface DocEntry {
  method: string;
  url: string;
  summary: string;
  tag: string;
  access: "public" | readonly Role[];
  params?: z.ZodType | undefined;
  query?: z.ZodType | undefined;
  body?: z.ZodType | undefined;
  bodyType?: string | undefined;
  response?: z.ZodType | undefined;
  successStatus?: number | undefined;
}

const PUBLIC_CALLER: Caller = { username: "", role: "member", centers: [], memberId: null, tokenKind: "session" };

export function badRequest(error: z.ZodError, where: string): HazriError {
  const details = error.issues.map((i) => ({ in: where, path: i.path.map(String).join("."), message: i.message }));
  return new HazriError("API_BAD_REQUEST", `invalid ${where}: ${details.map((d) => `${d.path || "(root)"}: ${d.message}`).join("; ")}`, details);
}

export function createRouter(app: FastifyInstance, docs: DocEntry[]) {
  return function route<P extends z.ZodType = z.ZodUnknown, Q extends z.ZodType = z.ZodUnknown, B extends z.ZodType = z.ZodUnknown>(
    spec: RouteSpec<P, Q, B>,
  ): void {
    docs.push({
      method: spec.method, url: spec.url, summary: spec.summary, tag: spec.tag, access: spec.access,
      params: spec.params, query: spec.query, body: spec.body, bodyType: spec.bodyType, response: spec.response, successStatus: spec.successStatus,
    });
    app.route({
      method: spec.method,
      url: spec.url,
      handler: async (req, reply) => {
        // Authentication before validation: an anonymous caller learns nothing, not even which parameters are wrong.
        const caller = spec.access === "public" ? (req.caller ?? PUBLIC_CALLER) : requireCaller(req, spec.access);
        const parse = <T extends z.ZodType | undefined>(schema: T, value: unknown, where: string) => {
          if (!schema) return value;
          const r = schema.safeParse(value);
          if (!r.success) throw badRequest(r.error, where);
          return r.data;
        };
        const params = parse(spec.params, req.params, "path parameters") as z.output<P>;
        const query = parse(spec.query, req.query, "query") as z.output<Q>;
        const body = (spec.bodyType ? req.body : parse(spec.body, req.body ?? {}, "body")) as z.output<B>;
        return spec.handler({ caller, params, query, body, req, reply });
      },
    });
  };
}

export type Route = ReturnType<typeof createRouter>;

/** Path parameter `:id` of a center. */
export const CenterParams = z.object({ id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, "center id: 1-64 of [A-Za-z0-9_-]") }).strict();
