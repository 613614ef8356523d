/**
 * The alive marker with the real `hazri edge` process: SIGKILL (a power cut, for the process) and a
 * restart give a `boot` event with prevEnd "crash" and the killed run's last alive mark, taken within
 * the mark interval before the kill; SIGTERM and a restart give prevEnd "stop". The "server" is an
 * in-process broker + client that acks every batch and answers time requests.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import path from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { makeTempDir, removeDir, spawnManaged, waitFor, type ManagedProcess } from "./harness/index.ts";
import { startTestBroker } from "../edge/src/uplink/test-broker.ts";
import { aliveMarkerFile, readAliveMarker } from "../edge/src/status/alive-marker.ts";
import { topics } from "../protocol/topics.ts";
import { toRanges } from "../protocol/messages.ts";
import type { BootEvent, HazriEvent } from "../protocol/events.ts";

const ROOT = path.resolve(import.meta.dirname, "..");
let dir: string;
let broker: Awaited<ReturnType<typeof startTestBroker>>;
let server: MqttClient;
const received: HazriEvent[] = [];
let cfg: string;

beforeAll(async () => {
  dir = await makeTempDir("edge-alive");
  broker = await startTestBroker();
  server = await mqtt.connectAsync(broker.url, { clientId: "fake-server" });
  await server.subscribeAsync({ [topics.allUp("events")]: { qos: 1 }, [topics.allUp("time")]: { qos: 1 } });
  server.on("message", (topic, payload) => {
    const b = JSON.parse(payload.toString());
    if (topic.endsWith("/up/time")) {
      server.publish(topics.down("lhr-01", "time"), JSON.stringify({ v: 1, centerId: "lhr-01", edgeTime: b.edgeTime, serverTime: Date.now() }), { qos: 1 });
      return;
    }
    received.push(...b.events);
    const seqs = b.events.map((e: HazriEvent) => e.seq);
    server.publish(topics.down("lhr-01", "ack"), JSON.stringify({ v: 1, centerId: "lhr-01", acked: toRanges(seqs), rejected: [], serverTime: Date.now() }), { qos: 1 });
  });
  writeFileSync(path.join(dir, "members.yaml"), "members: []\n");
  cfg = path.join(dir, "center.yaml");
  writeFileSync(cfg, `center: lhr-01\ndataDir: ./data\naliveMarkS: 1\nuplink: { url: "${broker.url}", heartbeatS: 3600 }\nlan: { host: 127.0.0.1, port: 0 }\nmembers: ./members.yaml\n`);
});

afterAll(async () => {
  await server?.endAsync();
  await broker?.close();
  await removeDir(dir);
});

const startAgent = (name: string): Promise<ManagedProcess> =>
  spawnManaged(process.execPath, ["--import", "tsx", path.join(ROOT, "edge/src/cli.ts"), "edge", "--config", cfg], { name, cwd: ROOT });
const marker = () => readAliveMarker(aliveMarkerFile(path.join(dir, "data")));
const bootEvents = () => received.filter((e): e is BootEvent => e.type === "boot");
const bootOf = async (a: ManagedProcess, n: number): Promise<BootEvent> => {
  await waitFor(() => bootEvents().length >= n || undefined, { timeoutMs: 30_000, what: `boot event #${n} (log: ${a.logTail(8)})` });
  return bootEvents()[n - 1] as BootEvent;
};

describe("alive marker + boot event, real hazri edge process", () => {
  it("SIGKILL → prevEnd crash with the last mark before the kill; SIGTERM → prevEnd stop", async () => {
    const a = await startAgent("edge-a");
    const bootA = await bootOf(a, 1);
    expect(bootA).toMatchObject({ prevBootId: null, prevAliveTs: null, prevEnd: "unknown" });
    // The marker is refreshed: wait for one written in the last 1.5 s by this run, then kill at once.
    const fresh = await waitFor(
      () => {
        const m = marker();
        if (!m.ok || m.mark.bootId !== bootA.bootId) return undefined;
        return m.mark.synced && m.mark.ts >= Date.now() - 1500 ? m.mark : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 50, what: "a fresh, synced alive mark of run A" },
    );
    const killTs = Date.now();
    await a.kill9();
    expect(fresh.stopped).toBe(false);

    const b = await startAgent("edge-b");
    const bootB = await bootOf(b, 2);
    expect(bootB.bootId).not.toBe(bootA.bootId);
    expect(bootB).toMatchObject({ prevBootId: bootA.bootId, prevEnd: "crash", prevAliveSynced: true });
    // The run's last mark is at least the one we saw, and not after the kill.
    expect(bootB.prevAliveTs).toBeGreaterThanOrEqual(fresh.ts);
    expect(bootB.prevAliveTs).toBeLessThanOrEqual(killTs);
    console.log(`alive marker: last mark ${killTs - (bootB.prevAliveTs ?? 0)} ms before the SIGKILL`);
    // Its seq follows the killed run's events: the boot event is the first event of run B.
    const firstOfB = Math.min(...received.filter((e) => e.bootId === bootB.bootId).map((e) => e.seq));
    expect(bootB.seq).toBe(firstOfB);
    expect(bootB.seq).toBeGreaterThan(Math.max(...received.filter((e) => e.bootId === bootA.bootId).map((e) => e.seq)));

    await waitFor(() => (marker().ok && (marker() as { mark: { bootId: string } }).mark.bootId === bootB.bootId) || undefined, { timeoutMs: 10_000, what: "run B marks" });
    const beforeStop = Date.now();
    await b.stop("SIGTERM", 15_000);
    expect((await b.exited).code).toBe(0);
    const m = marker();
    expect(m.ok && m.mark).toMatchObject({ bootId: bootB.bootId, stopped: true });

    const c = await startAgent("edge-c");
    const bootC = await bootOf(c, 3);
    expect(bootC).toMatchObject({ prevBootId: bootB.bootId, prevEnd: "stop", prevAliveSynced: true });
    expect(bootC.prevAliveTs).toBeGreaterThanOrEqual(beforeStop - 1500);
    await c.stop("SIGTERM", 15_000);
    expect((await c.exited).code).toBe(0);
  });
});
