/**
 * The InfluxDB 2.x / 3.x path of the adapter, against a local HTTP server that answers like the v2 API
 * (there is no InfluxDB 2.x on the project machines; docker-compose runs 2.7): writes go to
 * /api/v2/write with org, bucket and precision=ns and the `Authorization: Token` header; InfluxQL goes
 * to /query with db = the DBRP-mapped database; a 5xx is an INGEST_INFLUX_WRITE error with the status.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../../protocol/clock.ts";
import { createInfluxAdapter } from "./adapter.ts";

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

let server: http.Server | null = null;
afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = null;
});

async function fakeV2(answer: (s: Seen) => { status: number; body?: string }): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const body = req.headers["content-encoding"] === "gzip" ? gunzipSync(raw).toString() : raw.toString();
      const s = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body };
      seen.push(s);
      const a = answer(s);
      res.writeHead(a.status, { "content-type": "application/json" });
      res.end(a.body ?? "");
    });
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, seen };
}

const cfg = (url: string) => ({ kind: "v2" as const, url, token: "tok-123", org: "hazri org", bucket: "hazri", database: "hazri_dbrp" });

describe("InfluxDB 2.x adapter (v2 write API, InfluxQL over /query)", () => {
  it("writes line protocol to /api/v2/write with org, bucket, ns precision and the token", async () => {
    const { url, seen } = await fakeV2(() => ({ status: 204 }));
    const a = await createInfluxAdapter(cfg(url), { logger: silentLogger });
    await a.writeLines(["door,center=lhr-01 seq=1i,state=\"opened\" 1700000000000000001", "door,center=lhr-01 seq=2i,state=\"closed\" 1700000000000000002"]);
    await a.close();
    const w = seen.find((s) => s.url.startsWith("/api/v2/write"));
    expect(w).toBeDefined();
    const q = new URL(w!.url, url).searchParams;
    expect({ org: q.get("org"), bucket: q.get("bucket"), precision: q.get("precision") }).toEqual({ org: "hazri org", bucket: "hazri", precision: "ns" });
    expect(w!.method).toBe("POST");
    expect(w!.headers.authorization).toBe("Token tok-123");
    expect(w!.body.split("\n")).toEqual([
      'door,center=lhr-01 seq=1i,state="opened" 1700000000000000001',
      'door,center=lhr-01 seq=2i,state="closed" 1700000000000000002',
    ]);
  });

  it("queries InfluxQL on /query with the DBRP database and the token, and parses the series", async () => {
    const { url, seen } = await fakeV2((s) =>
      s.url.startsWith("/query")
        ? { status: 200, body: JSON.stringify({ results: [{ statement_id: 0, series: [{ name: "door", columns: ["time", "count"], values: [[0, 2]] }] }] }) }
        : { status: 204 },
    );
    const a = await createInfluxAdapter(cfg(url), { logger: silentLogger });
    const series = await a.query('SELECT COUNT("seq") FROM "door"');
    await a.close();
    expect(series).toEqual([{ name: "door", columns: ["time", "count"], values: [[0, 2]] }]);
    const q = seen.find((s) => s.url.startsWith("/query"))!;
    expect(q.headers.authorization).toBe("Token tok-123");
    const form = new URLSearchParams(q.body);
    expect(form.get("db")).toBe("hazri_dbrp");
    expect(form.get("q")).toBe('SELECT COUNT("seq") FROM "door"');
  });

  it("a 503 from the write API is INGEST_INFLUX_WRITE with the status (nothing retried behind our back)", async () => {
    const { url, seen } = await fakeV2((s) => (s.url.startsWith("/api/v2/write") ? { status: 503, body: '{"code":"unavailable","message":"busy"}' } : { status: 204 }));
    const a = await createInfluxAdapter(cfg(url), { logger: silentLogger });
    await expect(a.writeLines(["door,center=lhr-01 seq=1i 1"])).rejects.toMatchObject({ code: "INGEST_INFLUX_WRITE", context: { status: 503 } });
    // The edge's outbox is the retry loop: the client must not have queued the lines for a later write.
    await new Promise((r) => setTimeout(r, 300));
    await a.close();
    expect(seen.filter((s) => s.url.startsWith("/api/v2/write"))).toHaveLength(1);
  });

  it("ensureDatabase on 2.x only checks that the server answers /ping (buckets are provisioned)", async () => {
    const { url, seen } = await fakeV2(() => ({ status: 204 }));
    const a = await createInfluxAdapter(cfg(url), { logger: silentLogger });
    await a.ensureDatabase();
    await a.close();
    expect(seen.map((s) => s.url)).toEqual(["/ping"]);
  });
  it("write bodies are plain unless influx.gzip is on (then gzip above 64 KiB, same lines)", async () => {
    const { url, seen } = await fakeV2(() => ({ status: 204 }));
    const lines = Array.from({ length: 2000 }, (_, i) => `door,center=lhr-01 seq=${i + 1}i,state="opened" ${1700000000000000001 + i}`);
    expect(lines.join("\n").length).toBeGreaterThan(64 * 1024);
    for (const gzip of [undefined, false, true]) {
      const a = await createInfluxAdapter({ ...cfg(url), ...(gzip === undefined ? {} : { gzip }) }, { logger: silentLogger });
      await a.writeLines(lines);
      await a.close();
    }
    const writes = seen.filter((s) => s.url.startsWith("/api/v2/write"));
    expect(writes.map((w) => w.headers["content-encoding"] ?? "identity")).toEqual(["identity", "identity", "gzip"]);
    for (const w of writes) expect(w.body.split("\n")).toEqual(lines);
  });
  it("lanes: 2 → two writes reach InfluxDB before either is answered; 1 → one after the other", async () => {
    for (const lanes of [1, 2]) {
      const waiting: Array<() => void> = [];
      let maxOpen = 0;
      let open = 0;
      server = http.createServer((req, res) => {
        open++;
        maxOpen = Math.max(maxOpen, open);
        req.resume();
        req.on("end", () => {
          const answer = () => {
            open--;
            res.writeHead(204).end();
          };
          waiting.push(answer);
          // Answer only once both are in (lanes 2), or right away (lanes 1: the second cannot come yet).
          if (lanes === 1 || waiting.length === 2) for (const w of waiting.splice(0)) w();
        });
      });
      await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const a = await createInfluxAdapter(cfg(url), { logger: silentLogger }, { lanes });
      await Promise.all([a.writeLines(["door,center=a seq=1i 1"]), a.writeLines(["door,center=a seq=2i 2"])]);
      await a.close();
      expect({ lanes, maxOpen }).toEqual({ lanes, maxOpen: lanes });
      await new Promise<void>((r) => server!.close(() => r()));
      server = null;
    }
  });
});

