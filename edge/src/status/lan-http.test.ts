import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../../protocol/clock.ts";
import { startLanHttp, type LanHttp } from "./lan-http.ts";
import { createLocalState } from "./local-state.ts";
import { statusPageHtml } from "./lan-page.ts";

let srv: LanHttp | null = null;
afterEach(async () => {
  await srv?.close();
  srv = null;
});
const base = () => `http://127.0.0.1:${srv!.port}`;

describe("LAN status HTTP", () => {
  it("GET /api/status → the snapshot; GET / → the page; HEAD like GET without a body", async () => {
    let n = 0;
    srv = await startLanHttp({ host: "127.0.0.1", port: 0, status: () => ({ n: ++n }), logger: silentLogger });
    const r = await fetch(`${base()}/api/status`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await r.json()).toEqual({ n: 1 });
    const p = await fetch(`${base()}/`);
    expect(p.status).toBe(200);
    expect(p.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await p.text()).toContain("api/status");
    const h = await fetch(`${base()}/api/status`, { method: "HEAD" });
    expect(h.status).toBe(200);
    expect(await h.text()).toBe("");
  });

  it("unknown path → 404 API_NOT_FOUND; other methods → 405 API_METHOD_NOT_ALLOWED with Allow; never a crash", async () => {
    srv = await startLanHttp({ host: "127.0.0.1", port: 0, status: () => ({}), logger: silentLogger });
    const nf = await fetch(`${base()}/api/nope?x=1`);
    expect(nf.status).toBe(404);
    expect((await nf.json()).error.code).toBe("API_NOT_FOUND");
    for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
      const r = await fetch(`${base()}/api/status`, { method, body: method === "DELETE" ? undefined : "x".repeat(10_000) });
      expect(r.status).toBe(405);
      expect(r.headers.get("allow")).toBe("GET, HEAD");
      expect((await r.json()).error.code).toBe("API_METHOD_NOT_ALLOWED");
    }
    // garbage on the socket → 400 from node's parser, server keeps serving
    const raw = await new Promise<string>((resolve) => {
      const s = net.connect(srv!.port, "127.0.0.1", () => s.write("\u0000\u0001 NOT HTTP\r\n\r\n"));
      let got = "";
      s.on("data", (b) => (got += b.toString()));
      s.on("close", () => resolve(got));
      s.on("error", () => resolve(got));
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400/);
    expect((await fetch(`${base()}/api/status`)).status).toBe(200);
  });

  it("a status() that throws → 500 API_INTERNAL, next request fine", async () => {
    let fail = true;
    srv = await startLanHttp({
      host: "127.0.0.1",
      port: 0,
      status: () => {
        if (fail) throw new Error("boom");
        return { ok: true };
      },
      logger: silentLogger,
    });
    const r = await fetch(`${base()}/api/status`);
    expect(r.status).toBe(500);
    expect((await r.json()).error.code).toBe("API_INTERNAL");
    fail = false;
    expect(await (await fetch(`${base()}/api/status`)).json()).toEqual({ ok: true });
  });

  it("the page is self-contained: no external scripts, styles, images or URLs", () => {
    const html = statusPageHtml("Hazri <x>");
    expect(html).not.toMatch(/<script[^>]+src=|<link|<img|@import|url\(/i);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toContain("<x>");
    expect(html).not.toContain("innerHTML");
  });
});

describe("local state", () => {
  it("ring of the last N door/badge events, newest first; seats start unknown; power kept per device", () => {
    const s = createLocalState({ seats: [{ id: "s1", zone: "z1" }], ringSize: 3 });
    expect(s.seats()).toEqual({ s1: { zone: "z1", state: "unknown", since: null } });
    for (let i = 0; i < 5; i++) s.observe({ type: "door", door: "main", state: i % 2 ? "opened" : "closed" }, i);
    s.observe({ type: "seat", seat: "s1", zone: "z1", state: "occupied", source: "mqtt" }, 10);
    s.observe({ type: "heartbeat", outboxDepth: 0, devices: {}, uplinkRttMs: null, uptimeS: 1 }, 11);
    s.observe({ type: "power", source: "battery", link: "ok", device: "ups1", ups: null, transition: true }, 12);
    expect(s.recent().map((e) => e.ts)).toEqual([4, 3, 2]);
    expect(s.seats().s1).toEqual({ zone: "z1", state: "occupied", since: 10 });
    expect(s.power().ups1).toMatchObject({ source: "battery", at: 12 });
  });
});
