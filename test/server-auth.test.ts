/**
 * Issue 5 "Broker" through startServer: a registry turns center credentials on
 * (embedded aedes), the server's own MQTT client uses the credential generated
 * at start, an edge with its center password is acked, a disabled center's
 * next batch is refused by ingest (MQTT_UNKNOWN_CENTER, nothing written or
 * acked), and the TLS listener carries the same traffic.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger, systemClock } from "../protocol/clock.ts";
import { freePort, makeTempDir, removeDir, seriesRows, startInfluxd, waitFor, type InfluxInstance } from "./harness/index.ts";
import { startServer, type RunningServer } from "../server/src/server.ts";
import { openRegistry } from "../server/src/registry/db.ts";
import { createCenterStore, migrations } from "../server/src/registry/centers.ts";
import { connectFakeEdge, doorEvent, parseProm, type FakeEdge } from "./server-edge-client.ts";

const DB = "hazri_auth";

describe("startServer with a registry: center credentials on the embedded broker", () => {
  let influx: InfluxInstance;
  let server: RunningServer | undefined;
  let dir: string;
  const edges: FakeEdge[] = [];

  beforeAll(async () => {
    influx = await startInfluxd();
    dir = await makeTempDir("hazri-auth");
  });
  afterAll(async () => {
    await Promise.all(edges.map((e) => e.close().catch(() => {})));
    await server?.close();
    await influx?.stop();
    if (dir) await removeDir(dir);
  });

  it("edge with its password acked (plain and TLS); wrong password refused; disabled center refused by ingest", async () => {
    const registry = join(dir, "registry.sqlite");
    const db = openRegistry(registry, migrations);
    const store = createCenterStore(db, { scrypt: { N: 1024, r: 8, p: 1 } });
    const pw = { a: (await store.createCenter("auth-a")).password, b: (await store.createCenter("auth-b")).password };
    db.close();
    const cert = join(dir, "cert.pem");
    const key = join(dir, "key.pem");
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
      "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key, "-out", cert,
    ], { stdio: "ignore" });

    server = await startServer(
      {
        http: { host: "127.0.0.1", port: 0 },
        broker: { embedded: { host: "127.0.0.1", port: 0, tls: { port: await freePort(), certFile: cert, keyFile: key } } },
        influx: { kind: "v1", url: influx.url, database: DB },
        ingest: { maxBatchDelayMs: 5 },
        registry: { path: registry },
      },
      { logger: silentLogger, clock: systemClock },
    );
    expect(server.centers?.listCenters().map((c) => c.id)).toEqual(["auth-a", "auth-b"]);
    expect(server.brokerTlsUrl).toMatch(/^mqtts:/);

    await expect(connectFakeEdge({ url: server.brokerUrl, centerId: "auth-a", username: "auth-a", password: "wrong", reconnect: false })).rejects.toThrow(
      /Bad username or password/,
    );
    await expect(connectFakeEdge({ url: server.brokerUrl, centerId: "auth-a", reconnect: false })).rejects.toThrow(/Bad username or password/);

    const a = await connectFakeEdge({ url: server.brokerUrl, centerId: "auth-a", username: "auth-a", password: pw.a });
    const b = await connectFakeEdge({ url: server.brokerTlsUrl as string, centerId: "auth-b", username: "auth-b", password: pw.b, ca: readFileSync(cert) });
    edges.push(a, b);
    const T0 = Date.now() - 60_000;
    await a.send([1, 2, 3].map((s) => doorEvent("auth-a", s, T0 + s)));
    await b.send([1, 2].map((s) => doorEvent("auth-b", s, T0 + s)));
    await waitFor(() => (a.acked.size === 3 && b.acked.size === 2) || null, { timeoutMs: 10_000, what: "acks for both centers" });

    // Disabled while connected: the broker session lives on, but ingest refuses its batches.
    expect(server.centers?.disableCenter("auth-a")).toBe(true);
    await a.send([4, 5].map((s) => doorEvent("auth-a", s, T0 + s)));
    const metrics = await waitFor(
      async () => {
        const m = parseProm(await (await fetch(`${server?.httpUrl}/metrics`)).text());
        return (m.get('hazri_ingest_rejected_total{code="MQTT_UNKNOWN_CENTER"}') ?? 0) >= 1 ? m : null;
      },
      { timeoutMs: 10_000, what: "MQTT_UNKNOWN_CENTER counted" },
    );
    expect(metrics.get('hazri_ingest_rejected_total{code="MQTT_UNKNOWN_CENTER"}')).toBe(1);
    expect(a.acked.has(4)).toBe(false);
    const rows = seriesRows(await influx.query('SELECT count("seq") FROM "door" GROUP BY "center"', DB));
    expect(rows.map((r) => [r.center, r.count])).toEqual([
      ["auth-a", 3],
      ["auth-b", 2],
    ]);
    // …and it cannot connect again.
    await a.close();
    await expect(connectFakeEdge({ url: server.brokerUrl, centerId: "auth-a", username: "auth-a", password: pw.a, reconnect: false })).rejects.toThrow(
      /Bad username or password/,
    );
  });
});
