import net from "node:net";
import { Aedes } from "aedes";
import mqtt from "mqtt";
import { afterEach, describe, expect, it } from "vitest";
import { HazriEvent } from "../../../protocol/events.ts";
import { UplinkBatch, toRanges } from "../../../protocol/messages.ts";
import { topics } from "../../../protocol/topics.ts";
import { createCenterModel } from "./center-model.ts";
import { startScaleFleet } from "./fleet.ts";
import { createHistogram } from "./histogram.ts";
import { waitFor } from "../../../test/harness/wait.ts";

describe("center model", () => {
  it("same seed → same drafts and timings; every draft makes a valid event", () => {
    const a = createCenterModel({ centerId: "c-1", seed: 7, ratePerSec: 2 });
    const b = createCenterModel({ centerId: "c-1", seed: 7, ratePerSec: 2 });
    const take = (m: typeof a) => Array.from({ length: 500 }, () => ({ at: m.nextAt(), d: m.take() }));
    const xs = take(a);
    expect(take(b)).toEqual(xs);
    const types = new Set(xs.map((x) => x.d.type));
    expect([...types].sort()).toEqual(["badge", "door", "power", "seat"]);
    xs.forEach((x, i) => {
      const e = { ...x.d, v: 1, centerId: "c-1", bootId: "boot-1", seq: i + 1, ts: 1_700_000_000_000 + Math.round(x.at), mono: x.at, synced: true };
      expect(HazriEvent.safeParse(e).success, JSON.stringify(e)).toBe(true);
    });
    // Poisson clock: mean gap ≈ 1 / (rate × size factor).
    const last = xs[xs.length - 1]!.at;
    expect(last / 500).toBeGreaterThan((1000 / a.ratePerSec) * 0.8);
    expect(last / 500).toBeLessThan((1000 / a.ratePerSec) * 1.2);
  });

  it("rate 0 produces nothing", () => {
    expect(createCenterModel({ centerId: "c", seed: 1, ratePerSec: 0 }).nextAt()).toBe(Infinity);
  });
});

describe("histogram", () => {
  it("quantiles within the bucket precision", () => {
    const h = createHistogram();
    for (let i = 1; i <= 1000; i++) h.record(i);
    const s = h.summary();
    expect(s.count).toBe(1000);
    expect(s.p50).toBeGreaterThanOrEqual(500);
    expect(s.p50).toBeLessThanOrEqual(500 * 1.021);
    expect(s.p99).toBeGreaterThanOrEqual(990);
    expect(s.max).toBe(1000);
    h.reset();
    expect(h.summary().p50).toBeNull();
  });
});

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** aedes on a free port + a fake server that acks everything except the first `loseFirst` batches. */
async function brokerWithAcker(loseFirst: number) {
  const broker = await Aedes.createBroker();
  const srv = net.createServer((s) => {
    s.setNoDelay(true);
    broker.handle(s);
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const url = `mqtt://127.0.0.1:${(srv.address() as net.AddressInfo).port}`;
  const seen: Array<{ centerId: string; seq: number }> = [];
  const acker = mqtt.connect(url, { clientId: "acker" });
  let lost = 0;
  acker.on("message", (_t, payload) => {
    const b = UplinkBatch.parse(JSON.parse(payload.toString()));
    const seqs = b.events.map((e) => HazriEvent.parse(e).seq);
    for (const s of seqs) seen.push({ centerId: b.centerId, seq: s });
    if (lost++ < loseFirst) return;
    void acker.publishAsync(topics.down(b.centerId, "ack"), JSON.stringify({ v: 1, centerId: b.centerId, acked: toRanges(seqs), rejected: [], serverTime: Date.now() }), { qos: 1 });
  });
  await new Promise<void>((r) => acker.once("connect", () => r()));
  await acker.subscribeAsync(topics.allUp("events"), { qos: 1 });
  cleanups.push(async () => {
    await acker.endAsync(true);
    await new Promise<void>((r) => broker.close(() => r()));
    await new Promise<void>((r) => srv.close(() => r()));
  });
  return { url, seen };
}

describe("scale fleet (small, real aedes)", () => {
  it("un-acked batches are re-sent after resendAfterMs; drain ends with every event acked once", async () => {
    const { url, seen } = await brokerWithAcker(3);
    const fleet = await startScaleFleet({ brokerUrl: url, centers: 5, ratePerCenter: 20, seed: 1, resendAfterMs: 300, heartbeatS: 1, tickMs: 20 });
    cleanups.push(() => fleet.stop());
    await waitFor(() => fleet.stats().acked > 100, { timeoutMs: 10_000, what: "100 events acked", intervalMs: 20 });
    const s = await fleet.drain(10_000);
    expect(s.pending).toBe(0);
    expect(s.acked).toBe(s.generated);
    expect(s.resent).toBeGreaterThan(0); // the 3 lost acks forced re-sends
    // Per center, seqs are 1..n with no gap (the server saw every one, some twice).
    for (const id of fleet.centerIds) {
      const got = new Set(seen.filter((x) => x.centerId === id).map((x) => x.seq));
      expect(Math.min(...got)).toBe(1);
      expect(got.size).toBe(Math.max(...got));
    }
    expect(s.ackLatencyMs.count).toBe(s.acked);
  });

  it("storm(): every edge drops, keeps capturing, reconnects and its backlog is acked", async () => {
    const { url } = await brokerWithAcker(0);
    const fleet = await startScaleFleet({ brokerUrl: url, centers: 8, ratePerCenter: 10, seed: 2, tickMs: 20 });
    cleanups.push(() => fleet.stop());
    const r = await fleet.storm({ outageMs: 500, reconnectWithinMs: 300, timeoutMs: 15_000 });
    expect(r.backlogEvents).toBeGreaterThan(0);
    expect(r.allReconnectedMs).not.toBeNull();
    expect(r.backlogAckedMs).not.toBeNull();
    const s = await fleet.drain(10_000);
    expect(s.disconnects).toBe(8);
    expect(s.connects).toBe(16);
    expect(s.storms).toHaveLength(1);
  });
});

describe("hazri sim --scale (scaleMain)", () => {
  it("runs, storms, drains and prints its rate; bad options exit 2", async () => {
    const { url } = await brokerWithAcker(0);
    const { scaleMain } = await import("./cli.ts");
    const lines: string[] = [];
    const signals = new (await import("node:events")).EventEmitter();
    const code = await scaleMain(
      ["--scale", "4", "--broker", url, "--duration", "1.5", "--rate", "5", "--storm-at", "0.3", "--outage", "0.3", "--reconnect-within", "0.2", "--report-every", "0.5"],
      { out: (s) => lines.push(s), err: (s) => lines.push(s), signals },
    );
    expect(code, lines.join("\n")).toBe(0);
    expect(lines.some((l) => l.startsWith("storm: backlog"))).toBe(true);
    const last = lines[lines.length - 1] ?? "";
    expect(last.startsWith("summary-json ")).toBe(true);
    const s = JSON.parse(last.slice("summary-json ".length)) as { acked: number; generated: number; pending: number; storms: unknown[] };
    expect(s.pending).toBe(0);
    expect(s.acked).toBe(s.generated);
    expect(s.storms).toHaveLength(1);
    expect(await scaleMain(["--scale", "0", "--broker", url], { out: () => {}, err: () => {}, signals })).toBe(2);
    expect(await scaleMain(["--scale", "2"], { out: () => {}, err: () => {}, signals })).toBe(2);
  });
});
