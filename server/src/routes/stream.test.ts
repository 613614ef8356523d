/** `GET /api/stream` over a real connection: what each caller sees, and the end of a stream whose session ends. */
import http from "node:http";
import type net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { HazriEvent } from "../../../protocol/events.ts";
import { auth, badge, makeApiApp } from "./api-fixture.ts";

let fx: Awaited<ReturnType<typeof makeApiApp>> | undefined;
afterEach(async () => {
  await fx?.app.close();
  fx = undefined;
});

async function seeded() {
  fx = await makeApiApp();
  return fx;
}

describe("SSE /api/stream", () => {
  /** Read SSE events from a real connection until `n` data events arrived or the deadline passes. */
  function collect(url: string, headers: Record<string, string> = {}) {
    const events: { event: string; data: unknown }[] = [];
    let status = 0;
    let buf = "";
    const req = http.get(url, { headers }, (res) => {
      status = res.statusCode ?? 0;
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        buf += d;
        let i: number;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (ev && data) events.push({ event: ev, data: JSON.parse(data) });
        }
      });
    });
    req.on("error", () => {});
    const until = async (pred: () => boolean, ms = 5000) => {
      const end = Date.now() + ms;
      while (!pred()) {
        if (Date.now() > end) throw new Error(`SSE deadline: ${JSON.stringify(events)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    return { events, until, status: () => status, close: () => req.destroy() };
  }

  it("token in the query; each caller gets only what they may see", async () => {
    const f = await seeded();
    await f.app.listen({ host: "127.0.0.1", port: 0 });
    const base = `http://127.0.0.1:${(f.app.server.address() as net.AddressInfo).port}`;
    const a = collect(`${base}/api/stream?token=${f.tokens.staffA}`);
    const b = collect(`${base}/api/stream`, auth(f.tokens.staffB));
    const m = collect(`${base}/api/stream?token=${f.tokens.m1}`);
    const anon = collect(`${base}/api/stream`);
    await Promise.all([a, b, m].map((c) => c.until(() => c.events.some((e) => e.event === "hello"))));
    await anon.until(() => anon.status() === 401);
    f.live.apply(badge("isb-01", 2, "a1"));
    f.live.apply(badge("isb-01", 3, "m1"));
    f.live.apply(badge("lhr-01", 2, "b1"));
    const seqs = (c: typeof a) => c.events.filter((e) => e.event === "event").map((e) => (e.data as { event: HazriEvent }).event.seq);
    await a.until(() => seqs(a).length === 2);
    await b.until(() => seqs(b).length === 1);
    await m.until(() => seqs(m).length === 1);
    // A last marker for everyone proves nothing else was queued before it.
    f.live.setEdgeStatus({ v: 1, centerId: "lhr-01", state: "online", bootId: "boot-0002", ts: 5 });
    await b.until(() => b.events.some((e) => e.event === "edge"));
    expect(seqs(a)).toEqual([2, 3]);
    expect(b.events.filter((e) => e.event === "event").map((e) => (e.data as { centerId: string }).centerId)).toEqual(["lhr-01"]);
    expect(m.events.filter((e) => e.event === "event").map((e) => (e.data as { event: { memberId?: string } }).event.memberId)).toEqual(["m1"]);
    expect(a.events.some((e) => e.event === "edge")).toBe(false);
    for (const c of [a, b, m, anon]) c.close();
  });

  it("an open stream ends once its session is revoked or expires, and sends nothing after", async () => {
    const f = await seeded();
    await f.app.listen({ host: "127.0.0.1", port: 0 });
    const base = `http://127.0.0.1:${(f.app.server.address() as net.AddressInfo).port}`;
    const a = collect(`${base}/api/stream?token=${f.tokens.staffA}`);
    const m = collect(`${base}/api/stream?token=${f.tokens.m1}`);
    const admin = collect(`${base}/api/stream`, auth(f.tokens.admin));
    await Promise.all([a, m, admin].map((c) => c.until(() => c.events.some((e) => e.event === "hello"))));
    const ends = (c: typeof a) => c.events.filter((e) => e.event === "end").map((e) => (e.data as { reason: string }).reason);

    expect(f.users.revokeToken(f.tokens.staffA)).toBe(true); // logged out elsewhere
    await a.until(() => ends(a).length === 1);
    expect(ends(a)).toEqual(["unauthorized"]);
    f.live.apply(badge("isb-01", 7, "m1"));
    await m.until(() => m.events.some((e) => e.event === "event"));
    await admin.until(() => admin.events.some((e) => e.event === "event"));
    expect(a.events.filter((e) => e.event === "event")).toEqual([]); // nothing after the revocation

    f.clock.set(f.clock.now() + 24 * 3_600_000); // every session expired (the fixture's are 1 h)
    await m.until(() => ends(m).length === 1);
    await admin.until(() => ends(admin).length === 1);
    f.live.apply(badge("isb-01", 8, "m1"));
    await new Promise((r) => setTimeout(r, 200));
    expect(m.events.filter((e) => e.event === "event").map((e) => (e.data as { event: HazriEvent }).event.seq)).toEqual([7]);
    for (const c of [a, m, admin]) c.close();
  });
});

