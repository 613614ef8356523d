/**
 * A mains-cut sequence through the whole edge agent: the simulator's Megatec
 * UPS on a real socat pty, the agent configured with `power:` (YAML shape),
 * the WAN unreachable. Every power transition must be in the durable outbox,
 * in order, with the new state — the ledger the SLA engineer computes uptime
 * from — and the heartbeat must carry the UPS's health.
 */
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { writeFile } from "node:fs/promises";
import { freePort, makeTempDir, removeDir, waitFor } from "./harness/index.ts";
import { createSimPowerPlant, type SimPowerPlant } from "../firmware-sim/src/devices/ups-plant.ts";
import { createEdgeAgent, type EdgeAgent } from "../edge/src/agent.ts";
import { parseEdgeConfig } from "../edge/src/config.ts";
import { openOutbox } from "../edge/src/outbox/outbox.ts";
import { silentLogger, systemClock } from "../protocol/clock.ts";
import { HazriEvent, type PowerEvent } from "../protocol/events.ts";

let plant: SimPowerPlant | null = null;
let agent: EdgeAgent | null = null;
let dir = "";
afterEach(async () => {
  await agent?.stop();
  await plant?.stop();
  agent = null;
  plant = null;
  if (dir) await removeDir(dir);
});

describe("edge agent: power transitions land in the outbox", () => {
  it("mains → battery → low battery → down → mains, in order, with the heartbeat showing the UPS", async () => {
    dir = await makeTempDir("edge-power-outbox");
    plant = await createSimPowerPlant({ dir, specs: [{ id: "ups", type: "megatec" }], model: { capacityWh: 100, loadW: 600, chargeW: 600, speed: 60 } });
    const d = plant.devices.ups;
    if (!d || d.type === "nut") throw new Error("no ups");
    await writeFile(path.join(dir, "members.yaml"), "members: []\n");
    const cfg = parseEdgeConfig(
      {
        center: "lhr-01",
        dataDir: "data",
        members: "members.yaml",
        uplink: { url: `mqtt://127.0.0.1:${await freePort()}`, heartbeatS: 1 }, // nobody listens: events stay in the outbox
        lan: { port: await freePort() },
        power: [{ id: "ups", type: "megatec", path: d.hostPath, pollMs: 200, staleAfterMs: 1000, sampleMs: 1000 }],
      },
      dir,
    );
    agent = await createEdgeAgent(cfg, { logger: silentLogger, clock: systemClock });
    await agent.start();
    const a = agent;
    const waitSource = (s: string, timeoutMs = 15_000) =>
      waitFor(() => a.status().power.ups?.source === s, { timeoutMs, what: `ups → ${s} (${JSON.stringify(a.status().power)})` });
    await waitSource("mains");
    await waitFor(() => a.status().devices.ups === "ok", { timeoutMs: 5000, what: "ups health ok" });
    const cutAt = Date.now();
    await plant.setMains(false);
    await waitSource("battery");
    await waitSource("low_battery");
    await waitSource("down");
    await plant.setMains(true);
    const backAt = Date.now();
    await waitSource("mains");
    await waitFor(() => a.status().outboxDepth > 0, { timeoutMs: 3000, what: "outbox has events" });
    await agent.stop();
    agent = null;

    const ob = openOutbox({ path: path.join(cfg.dataDir, "outbox.sqlite"), centerId: "lhr-01", bootId: "reader-1", clock: systemClock, synced: () => false });
    try {
      ob.resetInflight();
      const all = ob.nextBatch(10_000, { now: Date.now(), resendAfterMs: 0 });
      for (const e of all) expect(HazriEvent.safeParse(e).success).toBe(true); // what the server will parse
      const power = all.filter((e): e is PowerEvent => e.type === "power");
      const transitions = power.filter((e) => e.transition);
      expect(transitions.map((e) => e.source)).toEqual(["unknown", "mains", "battery", "low_battery", "down", "mains"]);
      // seq increases with time: the ledger is ordered
      for (let i = 1; i < transitions.length; i++) {
        expect(transitions[i]!.seq).toBeGreaterThan(transitions[i - 1]!.seq);
        expect(transitions[i]!.ts).toBeGreaterThanOrEqual(transitions[i - 1]!.ts);
      }
      const battery = transitions.find((e) => e.source === "battery")!;
      expect(battery.ts).toBeGreaterThanOrEqual(cutAt);
      expect(battery.ts - cutAt).toBeLessThan(2000); // detected within a few polls
      expect(transitions.at(-1)!.ts).toBeGreaterThanOrEqual(backAt);
      expect(battery.ups?.status).toContain("OB");
      expect(power.some((e) => e.transition === false)).toBe(true); // periodic samples (sampleMs 1 s)
      const hb = all.filter((e) => e.type === "heartbeat");
      expect(hb.some((e) => e.type === "heartbeat" && e.devices.ups === "ok")).toBe(true);
    } finally {
      ob.close();
    }
  });
});
