import Fastify from "fastify";
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../../protocol/clock.ts";
import { uiRoutes } from "./ui.ts";

describe("uiRoutes", () => {
  it("builds the real UI once from source and serves index, js and css with an etag", async () => {
    const app = Fastify();
    await app.register(uiRoutes, { logger: silentLogger });
    const index = await app.inject("/");
    expect(index.statusCode).toBe(200);
    expect(index.headers["content-type"]).toContain("text/html");
    const jsUrl = /src="(\/ui\/app\.js\?v=[A-Za-z0-9_-]{22})"/.exec(index.body)?.[1];
    const cssUrl = /href="(\/ui\/app\.css\?v=[A-Za-z0-9_-]{22})"/.exec(index.body)?.[1];
    expect(jsUrl, "index.html names the bundle by content hash").toBeDefined();
    expect(cssUrl).toBeDefined();
    expect(index.headers["cache-control"]).toBe("no-cache");
    const js = await app.inject(jsUrl!);
    expect(js.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect((await app.inject(cssUrl!)).headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    // Unversioned or stale hashes still work, revalidated; each resource has its own etag.
    const plain = await app.inject("/ui/app.js?v=stale");
    expect(plain.headers["cache-control"]).toBe("no-cache");
    expect(plain.headers.etag).toBe(js.headers.etag);
    expect(js.headers.etag).not.toBe(index.headers.etag);
    expect(js.statusCode).toBe(200);
    expect(js.headers["content-type"]).toContain("javascript");
    expect(js.body).toContain("/api/auth/login"); // the login page is in the bundle
    expect(js.body).not.toMatch(/from\s*["']preact["']/); // bundled, no bare imports left for the browser
    const css = await app.inject("/ui/app.css");
    expect(css.body).toContain(".uplot"); // uPlot's stylesheet included
    const again = await app.inject({ url: "/ui/app.js", headers: { "if-none-match": String(js.headers.etag) } });
    expect(again.statusCode).toBe(304);
    await app.close();
  });

  it("serves the bundled Urdu font (Noto Naskh Arabic, Arabic subset) that the CSS declares; unknown names are 404", async () => {
    const app = Fastify();
    await app.register(uiRoutes, { logger: silentLogger });
    const css = (await app.inject("/ui/app.css")).body;
    const urls = [...css.matchAll(/url\((\/ui\/fonts\/[^)]+\.woff2)\)/g)].map((m) => m[1] as string);
    expect(urls.length).toBe(2); // regular and bold
    expect(css).toMatch(/font-family: "Noto Naskh Arabic"[^}]*unicode-range: U\+0600-06FF/); // ہ U+06C1, ے U+06D2
    for (const u of urls) {
      const r = await app.inject(u);
      expect(r.statusCode, u).toBe(200);
      expect(r.headers["content-type"]).toBe("font/woff2");
      expect(r.rawPayload.subarray(0, 4).toString("latin1")).toBe("wOF2");
      expect(r.rawPayload.length).toBeGreaterThan(10_000);
    }
    const missing = await app.inject("/ui/fonts/..%2F..%2Fpackage.json");
    expect(missing.statusCode).toBe(404);
    expect((await app.inject("/ui/fonts/constructor")).statusCode).toBe(404);
    await app.close();
  });

  it("a failed build answers 503 with a reason (never a blank page), and the next request retries", async () => {
    let calls = 0;
    const app = Fastify();
    await app.register(uiRoutes, {
      logger: silentLogger,
      build: async () => {
        calls++;
        if (calls === 1) throw new Error("esbuild: Could not resolve \"preact\"");
        return { js: "ok()", css: "", html: "<html></html>" };
      },
    });
    const r = await app.inject("/ui/");
    expect(r.statusCode).toBe(503);
    expect(r.body).toContain("Could not resolve");
    expect((await app.inject("/ui/app.js")).body).toBe("ok()");
    await app.close();
  });
});
