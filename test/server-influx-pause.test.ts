/**
 * Issue 5 "Ingest": InfluxDB hangs (SIGSTOP: TCP accepts, nothing answers)
 * while edges keep sending. The server runs as its own process (`hazri
 * server`) so its RSS is its own (/proc/<pid>/status VmRSS). Expected:
 * writes fail by timeout, nothing is acked, new batches beyond
 * `maxPendingEvents` are refused (INGEST_BACKPRESSURE) so memory stays
 * bounded; after SIGCONT the edges' re-sends land and EVERY event is stored
 * exactly once — without restarting the server.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HazriEvent } from "../protocol/events.ts";
import {
  freePort,
  makeTempDir,
  removeDir,
  seriesRows,
  spawnManaged,
  startInfluxd,
  waitFor,
  waitReady,
  type InfluxInstance,
  type ManagedProcess,
} from "./harness/index.ts";
import { connectFakeEdge, doorEvent, parseProm, resendUntilAcked, rssMiB, withDeadline, type FakeEdge } from "./server-edge-client.ts";

const EDGES = 4;
const WARM = 1000; // per edge, before the pause
const DURING = 3000; // per edge, sent while InfluxDB hangs
const MAX_PENDING = 2000;
const DB = "hazri_pause";

describe("InfluxDB paused under load: bounded memory, no loss, no restart", () => {
  let influx: InfluxInstance;
  let server: ManagedProcess | undefined;
  let dir: string;
  const edges: FakeEdge[] = [];

  beforeAll(async () => {
    influx = await startInfluxd();
    dir = await makeTempDir("hazri-pause");
  });
  afterAll(async () => {
    await Promise.all(edges.map((e) => e.close().catch(() => {})));
    await influx?.resume().catch(() => {});
    await server?.stop();
    await influx?.stop();
    if (dir) await removeDir(dir);
  });

  it("pause → writes fail, backpressure refuses, RSS bounded; resume → every event exactly once", async () => {
    const [mqttPort, httpPort] = [await freePort(), await freePort()];
    const cfgFile = join(dir, "server.yaml");
    await writeFile(
      cfgFile,
      [
        `http: { host: 127.0.0.1, port: ${httpPort} }`,
        `broker: { embedded: { host: 127.0.0.1, port: ${mqttPort}, auth: none } }`,
        `influx: { kind: v1, url: "${influx.url}", database: ${DB}, timeoutMs: 1000 }`,
        `ingest: { maxBatchDelayMs: 20, maxPendingEvents: ${MAX_PENDING}, maxWriteEvents: 1000 }`,
        "",
      ].join("\n"),
    );
    server = await spawnManaged(process.execPath, ["bin/hazri.mjs", "server", "--config", cfgFile], {
      name: "hazri-server",
      cwd: process.cwd(),
      logFile: join(dir, "server.log"),
    });
    const http = `http://127.0.0.1:${httpPort}`;
    await waitReady(server, async () => (await fetch(`${http}/healthz`).catch(() => null))?.ok === true, {
      timeoutMs: 30_000,
      what: "hazri server /healthz ok",
    });
    const prom = async () => parseProm(await (await fetch(`${http}/metrics`)).text());
    const pid = server.pid;

    const T0 = Date.now() - 3_600_000;
    const all: HazriEvent[][] = [];
    for (let i = 0; i < EDGES; i++) {
      const c = `pz-${i}`;
      edges.push(await connectFakeEdge({ url: `mqtt://127.0.0.1:${mqttPort}`, centerId: c }));
      all.push(Array.from({ length: WARM + DURING }, (_, k) => doorEvent(c, k + 1, T0 + k)));
    }

    // Warm-up: the first WARM events per edge go through normally.
    const warm = edges.map((e, i) => resendUntilAcked(e, (all[i] as HazriEvent[]).slice(0, WARM), { intervalMs: 1000 }));
    await withDeadline(Promise.all(warm.map((w) => w.done)), 60_000, "warm-up acked");
    const rssBase = await rssMiB(pid);

    // InfluxDB hangs; the edges keep re-sending everything un-acked (oldest 1000 per round).
    await influx.pause();
    let maxPending = 0;
    let maxRss = rssBase;
    const sampler = setInterval(() => {
      void rssMiB(pid).then((r) => (maxRss = Math.max(maxRss, r)), () => {});
      void prom().then((m) => (maxPending = Math.max(maxPending, m.get("hazri_ingest_pending_events") ?? 0)), () => {});
    }, 200);
    const senders = edges.map((e, i) => resendUntilAcked(e, all[i] as HazriEvent[], { intervalMs: 1000 }));
    try {
      const m = await waitFor(
        async () => {
          const p = await prom();
          return (p.get("hazri_ingest_write_failures_total") ?? 0) >= 6 && (p.get('hazri_ingest_rejected_total{code="INGEST_BACKPRESSURE"}') ?? 0) >= 20
            ? p
            : null;
        },
        { timeoutMs: 60_000, what: "write failures and backpressure refusals while InfluxDB hangs" },
      );
      const ackedDuringPause = edges.reduce((n, e) => n + e.acked.size, 0);
      expect(ackedDuringPause).toBe(EDGES * WARM); // nothing new acked while nothing can be stored
      console.log(
        `[pause] failures ${m.get("hazri_ingest_write_failures_total")}, backpressure refusals ${m.get('hazri_ingest_rejected_total{code="INGEST_BACKPRESSURE"}')}`,
      );
    } finally {
      await influx.resume();
    }

    // Recovery with no restart: the same server process stores everything.
    await withDeadline(Promise.all(senders.map((s) => s.done)), 90_000, "every event acked after resume").finally(() =>
      senders.forEach((s) => s.stop()),
    );
    clearInterval(sampler);
    expect(server.pid).toBe(pid);
    expect(server.hasExited()).toBe(false);
    const total = EDGES * (WARM + DURING);
    expect(edges.reduce((n, e) => n + e.acked.size, 0)).toBe(total);
    const count = Number(seriesRows(await influx.query('SELECT count("seq") FROM "door"', DB))[0]?.count ?? 0);
    expect(count).toBe(total);
    console.log(`[pause] RSS base ${rssBase.toFixed(1)} MiB, max ${maxRss.toFixed(1)} MiB; max pending ${maxPending} (limit ${MAX_PENDING})`);
    expect(maxPending).toBeLessThanOrEqual(MAX_PENDING);
    // 12 000 events in flight on the wire at 1000/edge/s; a leak would grow with time and refusals.
    expect(maxRss - rssBase).toBeLessThan(120);
  });
});
