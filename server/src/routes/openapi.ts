import { z } from "zod";
import type { FastifyInstance } from "fastify";
import type { DocEntry } from "./define.ts";

/**
 * OpenAPI 3.1 document built from the route declarations (routes/define.ts),
 * schemas from zod 4's `z.toJSONSchema`: the input side for what a client
 * sends, the output side for the documented responses (routes/responses.ts).
 * Served as JSON at `/docs/openapi.json` and as a plain, dependency-free HTML
 * page at `/docs` (no swagger-ui: no CDN on a center's LAN, no extra package).
 */
const toSchema = (s: z.ZodType, io: "input" | "output" = "input") => {
  const { $schema: _s, ...rest } = z.toJSONSchema(s, { io, unrepresentable: "any" }) as Record<string, unknown>;
  return rest;
};

function parameters(schema: z.ZodType | undefined, where: "path" | "query") {
  if (!schema) return [];
  const js = toSchema(schema) as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, s]) => ({
    name,
    in: where,
    required: where === "path" || (js.required ?? []).includes(name),
    schema: s,
  }));
}

export function buildOpenApi(docs: readonly DocEntry[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const d of docs) {
    const p = d.url.replace(/:([A-Za-z]+)/g, "{$1}");
    const op: Record<string, unknown> = {
      summary: d.summary,
      tags: [d.tag],
      description: d.access === "public" ? "Public." : `Roles: ${d.access.join(", ")}.`,
      parameters: [...parameters(d.params, "path"), ...parameters(d.query, "query")],
      responses: {
        [String(d.successStatus ?? 200)]: d.response
          ? { description: "OK", content: { "application/json": { schema: toSchema(d.response, "output") } } }
          : { description: "OK" },
        "400": { description: "API_BAD_REQUEST: `{ error: { code, message, details } }`" },
        ...(d.access === "public" ? {} : { "401": { description: "API_UNAUTHORIZED" }, "403": { description: "API_FORBIDDEN" } }),
      },
      ...(d.access === "public" ? { security: [] } : {}),
    };
    if (d.body) op.requestBody = { required: true, content: { "application/json": { schema: toSchema(d.body) } } };
    else if (d.bodyType) op.requestBody = { required: true, content: { [d.bodyType]: { schema: { type: "string" } } } };
    (paths[p] ??= {})[d.method.toLowerCase()] = op;
  }
  return {
    openapi: "3.1.0",
    info: { title: "Hazri server API", version: "1" },
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
    security: [{ bearer: [] }],
    paths,
  };
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] as string);

export function docsRoutes(app: FastifyInstance, docs: readonly DocEntry[]): void {
  let cached: Record<string, unknown> | null = null;
  const doc = () => (cached ??= buildOpenApi(docs));
  app.get("/docs/openapi.json", async () => doc());
  app.get("/docs", async (_req, reply) => {
    const rows = docs
      .map((d) => `<tr><td>${d.method}</td><td><code>${esc(d.url)}</code></td><td>${esc(d.access === "public" ? "public" : d.access.join(", "))}</td><td>${esc(d.summary)}</td></tr>`)
      .join("\n");
    reply.type("text/html; charset=utf-8");
    return `<!doctype html><meta charset="utf-8"><title>Hazri API</title>
<h1>Hazri server API</h1><p>OpenAPI 3.1: <a href="/docs/openapi.json">/docs/openapi.json</a>. Auth: <code>Authorization: Bearer &lt;token&gt;</code> from <code>POST /api/auth/login</code>.</p>
<table border="1" cellpadding="4"><tr><th>Method</th><th>Path</th><th>Roles</th><th>Summary</th></tr>
${rows}</table>`;
  });
}
