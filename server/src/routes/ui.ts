import { createHash } from "node:crypto";
import type { FastifyInstance } from "fastify";
import type { Logger } from "../../../protocol/clock.ts";

/** What routes/ui.ts serves; dashboards/build.ts `buildUi` produces it. */
export interface UiAssets {
  js: string;
  css: string;
  html: string;
  /** Font files for /ui/fonts/<name> (the bundled Urdu font). */
  fonts?: Record<string, Uint8Array>;
}

/**
 * The web UI (dashboards/web): `/` and `/ui/` serve index.html, `/ui/app.js`
 * and `/ui/app.css` the bundle, `/ui/fonts/<name>` its Urdu font. Built from source with esbuild on the first
 * request and kept in memory (dashboards/build.ts), so a deployed UI always
 * matches its source and there is no build artefact to forget; a failed build
 * answers 503 with the reason instead of a blank page. Pages route with the
 * URL hash, so every /api/* 404 stays a JSON API error.
 *
 * Caching: index.html names the bundle by content hash (`/ui/app.js?v=<hash>`), and a request with the
 * current hash is answered `immutable` for a year, so a reload takes the bundle from the browser cache
 * without revalidating it; index.html itself (and an unversioned or stale `?v=`) is `no-cache` with its
 * own etag. With one shared etag and `no-cache` on everything, a reload right after a navigation
 * sometimes left Chromium with a 304 for app.js and no app (seen in test/ui-browser.test.ts).
 */
export async function uiRoutes(app: FastifyInstance, opts: { logger: Logger; build?: () => Promise<UiAssets> }): Promise<void> {
  const build = opts.build ?? (async () => (await import("../../../dashboards/build.ts")).buildUi());
  type Built = UiAssets & { hash: Record<"html" | "js" | "css", string> };
  let assets: Promise<Built> | null = null;
  const digest = (s: string) => createHash("sha256").update(s).digest("base64url").slice(0, 22);
  const get = () => {
    assets ??= build().then(
      (a) => {
        const js = digest(a.js);
        const css = digest(a.css);
        const html = a.html.replaceAll('"/ui/app.js"', `"/ui/app.js?v=${js}"`).replaceAll('"/ui/app.css"', `"/ui/app.css?v=${css}"`);
        return { ...a, html, hash: { html: digest(html), js, css } };
      },
      (e: unknown) => {
        assets = null; // retry on the next request (e.g. after a fix to the source)
        throw e;
      },
    );
    return assets;
  };
  const log = opts.logger.child({ component: "ui" });

  const serve = (kind: "html" | "js" | "css", type: string) => async (req: { headers: Record<string, unknown>; query: unknown }, reply: import("fastify").FastifyReply) => {
    let a;
    try {
      a = await get();
    } catch (e) {
      log.error({ err: e }, "web UI build failed");
      return reply.code(503).type("text/plain; charset=utf-8").send(`Hazri web UI is unavailable: the build failed (${(e as Error).message.split("\n")[0]}). See the server log.`);
    }
    const etag = `"${a.hash[kind]}"`;
    const v = (req.query as { v?: unknown } | undefined)?.v;
    const current = kind !== "html" && v === a.hash[kind];
    reply
      .header("etag", etag)
      .header("cache-control", current ? "public, max-age=31536000, immutable" : "no-cache")
      .header("x-content-type-options", "nosniff");
    if (req.headers["if-none-match"] === etag) return reply.code(304).send();
    return reply.type(type).send(a[kind]);
  };
  const index = serve("html", "text/html; charset=utf-8");
  app.get("/", index);
  app.get("/ui", index);
  app.get("/ui/", index);
  app.get("/ui/app.js", serve("js", "text/javascript; charset=utf-8"));
  app.get("/ui/app.css", serve("css", "text/css; charset=utf-8"));
  // Fonts by exact name from the build (no file-system path from the URL); immutable for a day, revalidated by etag.
  app.get<{ Params: { name: string } }>("/ui/fonts/:name", async (req, reply) => {
    let a;
    try {
      a = await get();
    } catch (e) {
      log.error({ err: e }, "web UI build failed");
      return reply.code(503).type("text/plain; charset=utf-8").send(`Hazri web UI is unavailable: the build failed (${(e as Error).message.split("\n")[0]}).`);
    }
    const data = Object.hasOwn(a.fonts ?? {}, req.params.name) ? a.fonts?.[req.params.name] : undefined;
    if (!data) return reply.code(404).type("text/plain; charset=utf-8").send(`no font ${req.params.name}`);
    const etag = `"${createHash("sha256").update(data).digest("base64url").slice(0, 22)}"`;
    reply.header("etag", etag).header("cache-control", "public, max-age=86400").header("x-content-type-options", "nosniff");
    if (req.headers["if-none-match"] === etag) return reply.code(304).send();
    return reply.type("font/woff2").send(Buffer.from(data));
  });
}
