/**
 * The spine, end to end on real components: sim RDM6300 + LCUS relay on socat
 * ptys → `hazri edge` (node-serialport, SQLite outbox) → embedded aedes →
 * `hazri server` → InfluxDB 1.6.7, read back with InfluxQL and through
 * `GET /api/centers/:id/live`. Then the durability rule under crashes: SIGKILL
 * the edge and the server at the worst moments and count every event exactly
 * once in InfluxDB.
 */
import { describe, expect } from "vitest";
import type { CenterLive } from "../server/src/live/state.ts";
import type { ServerConfigInput } from "../server/src/config.ts";
import type { Network } from "../cli/network.ts";
import { readGroundTruth } from "../firmware-sim/src/ground-truth.ts";
import { integrationTest } from "./harness/network.ts";
import { waitFor } from "./harness/wait.ts";

const CENTER = "lhr-01";
// A short resend timeout keeps the crash scenario quick; process mode so components can be SIGKILLed.
const NETWORK = {
  mode: "process" as const,
  centers: [{ id: CENTER, seed: 7, seats: 4, members: 20, resendAfterMs: 1500, heartbeatS: 5 }],
};

const validCard = (n: Network, skip = 0): { member: string; card: string } => {
  const m = n.center(CENTER).layout.members.filter((x) => x.status === "active" && !x.validUntil)[skip];
  if (!m || !m.cards[0]) throw new Error("layout has no plain active member");
  return { member: m.id, card: m.cards[0] };
};

/** Rows of one center's badge events in InfluxDB (a duplicate point would show as a second row). */
async function accessRows(n: Network): Promise<Record<string, unknown>[]> {
  return n.query(`SELECT seq, card, member, granted FROM access WHERE center = '${CENTER}'`);
}

describe("a badge tap travels from a serial port to InfluxDB and the live API", () => {
  integrationTest("a granted tap opens the relay, lands once in InfluxDB and shows in the live view; a seat sensor too", NETWORK, async ({ net }) => {
    const { member, card } = validCard(net);
    const c = net.center(CENTER);
    const outcome = await c.sim.tap("main-in", card);
    expect(outcome.expected).toBe("granted");
    expect(outcome.record).toMatchObject({ delivered: true });

    // The relay on the sim side saw the LCUS "on" command for channel 1.
    await waitFor(() => readGroundTruth(c.sim.groundTruth.file).some((g) => g.kind === "relay" && g.on), {
      timeoutMs: 5_000,
      what: "relay on",
    });

    const rows = await waitFor(
      async () => {
        const r = await accessRows(net);
        return r.length >= 1 ? r : null;
      },
      { timeoutMs: 20_000, what: "badge point in InfluxDB" },
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ card, member, granted: 1 });

    const live = await waitFor(
      async () => {
        const { status, body } = await net.api<CenterLive>(`/api/centers/${CENTER}/live`);
        return status === 200 && body.peopleIn.some((p) => p.memberId === member) ? body : null;
      },
      { timeoutMs: 10_000, what: "member in the live view" },
    );
    expect(live.peopleInCount).toBe(1);
    expect(live.lastEvents.find((e) => e.type === "badge")).toMatchObject({ type: "badge", cardId: card, memberId: member, decision: "granted" });

    // A seat sensor (ESPHome-style MQTT on the center's LAN broker) completes the path.
    await c.sim.setSeat("s02", true);
    const seatLive = await waitFor(
      async () => {
        const { body } = await net.api<CenterLive>(`/api/centers/${CENTER}/live`);
        return body.seats["s02"]?.state === "occupied" ? body : null;
      },
      { timeoutMs: 15_000, what: "seat s02 occupied in the live view" },
    );
    expect(seatLive.seatsOccupied).toBe(1);
    const seatRows = await net.query(`SELECT occupied FROM seat WHERE center = '${CENTER}' AND seat = 's02'`);
    expect(seatRows.map((r) => r.occupied)).toContain(1);
  });

  integrationTest("SIGKILL of the edge and of the server while events wait for InfluxDB: every event lands exactly once", NETWORK, async ({ net }) => {
    const c = net.center(CENTER);
    const before = (await accessRows(net)).length;
    expect(before).toBe(0);
    const { card } = validCard(net, 1);

    // InfluxDB frozen: the server receives batches but cannot write, so it never acks.
    await net.influx.pause();
    const taps = 6;
    for (let i = 0; i < taps; i++) {
      // Alternate in/out so every tap is a fresh presentation (§1.3) and a recorded event.
      const out = await c.sim.tap(i % 2 === 0 ? "main-in" : "main-out", card);
      expect(out.record).toMatchObject({ delivered: true });
    }
    // Wait until the server holds all of them in memory, un-acked (its write is stuck on the frozen InfluxDB).
    await waitFor(async () => ((await metric(net, "hazri_ingest_pending_events")) >= taps ? true : null), {
      timeoutMs: 20_000,
      what: `${taps} events pending in the server`,
    });

    // Crash both ends between "received" and "written": nothing was acked, nothing may be lost.
    await c.edge.kill9();
    await net.server.kill9();
    // (InfluxDB back first: the server would start without it too, but then hold every ack until it answers.)
    await net.influx.resume();
    await net.server.start(); // the embedded broker comes back empty on the same port
    await c.edge.start(); // reopens its outbox, re-sends what was never acked

    const rows = await waitFor(
      async () => {
        const r = await accessRows(net);
        return r.length >= before + taps ? r : null;
      },
      { timeoutMs: 60_000, what: `${before + taps} badge points` },
    );
    const seqs = rows.map((r) => Number(r.seq));
    expect(new Set(seqs).size).toBe(seqs.length); // no seq twice
    expect(rows.length).toBe(before + taps); // and nothing extra

    // The re-sent copies keep arriving until the edge trims on the ack; after that the count stays put.
    await waitFor(
      async () => {
        const { body } = await net.api<CenterLive>(`/api/centers/${CENTER}/live`);
        return body.edge?.online === true;
      },
      { timeoutMs: 20_000, what: "edge online again" },
    );
    expect((await accessRows(net)).length).toBe(before + taps);
  });

  // The server's write must outlive the InfluxDB pause (no client-side timeout): the point is that it WRITES.
  const SLOW_WRITES = { ...NETWORK, amendServerConfig: (b: ServerConfigInput) => ({ ...b, influx: { ...b.influx, timeoutMs: 120_000 } }) as ServerConfigInput };

  integrationTest("SIGKILL of the edge after the server wrote but before the edge saw the ack: re-sends, exactly once, the outbox drains", SLOW_WRITES, async ({ net }) => {
    const c = net.center(CENTER);
    const { card } = validCard(net, 2);
    // Warm-up: one tap all the way to InfluxDB, so the reader path is known to work before the crash part.
    expect((await c.sim.tap("main-out", card)).record).toMatchObject({ delivered: true });
    await waitFor(async () => ((await accessRows(net)).length === 1 ? true : null), { timeoutMs: 20_000, what: "warm-up tap in InfluxDB" });
    const before = 1;

    // Hold the server's write so the edge can be killed while its batch is in flight.
    await net.influx.pause();
    const taps = 6;
    for (let i = 0; i < taps; i++) {
      const out = await c.sim.tap(i % 2 === 0 ? "main-in" : "main-out", card);
      expect(out.record).toMatchObject({ delivered: true });
    }
    await waitFor(async () => ((await metric(net, "hazri_ingest_pending_events")) >= taps ? true : null), {
      timeoutMs: 20_000,
      what: `${taps} events pending in the server`,
    });
    const acksBefore = await metric(net, "hazri_ingest_acks_published_total");
    await c.edge.kill9(); // the edge dies with its outbox full: it will never see the ack

    // InfluxDB back: the held write completes, the server acks into the void.
    await net.influx.resume();
    await waitFor(async () => ((await accessRows(net)).length >= before + taps ? true : null), { timeoutMs: 60_000, what: `${taps} badge points written` });
    await waitFor(async () => ((await metric(net, "hazri_ingest_acks_published_total")) > acksBefore ? true : null), {
      timeoutMs: 20_000,
      what: "ack published while the edge is dead",
    });

    // Restart the server too: its dedupe window and the broker's sessions are gone, so the re-sends are written again.
    await net.server.kill9();
    await net.server.start();
    await c.edge.start();

    // The re-sent copies reach InfluxDB a second time (the new server counts them as ingested, not as duplicates) ...
    await waitFor(async () => ((await metric(net, "hazri_ingest_events_total")) >= taps ? true : null), {
      timeoutMs: 60_000,
      what: `the restarted server writes the ${taps} re-sent events`,
    });
    // ... and the edge trims on the new ack: a heartbeat of its new boot reports an empty outbox.
    const { body: live } = await net.api<CenterLive>(`/api/centers/${CENTER}/live`);
    const boot = live.edge?.bootId;
    expect(boot).toBeTruthy();
    await waitFor(
      async () => {
        const hb = await net.query(`SELECT outbox_depth FROM edge_heartbeat WHERE center = '${CENTER}' AND boot = '${boot}'`);
        return hb.some((r) => r.outbox_depth === 0) ? true : null;
      },
      { timeoutMs: 60_000, what: "heartbeat with outboxDepth 0 from the restarted edge" },
    );
    const rows = await accessRows(net);
    const seqs = rows.map((r) => Number(r.seq));
    expect(rows).toHaveLength(before + taps); // the overwrite, not a second copy
    expect(new Set(seqs).size).toBe(before + taps);
  });
});

/** One un-labelled sample from the server's Prometheus /metrics. */
async function metric(n: Network, name: string): Promise<number> {
  const text = await (await fetch(`${n.httpUrl}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(" ")[1]) : Number.NaN;
}
