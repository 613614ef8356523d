/**
 * The edge's power service: one poller per configured device (Megatec Q1,
 * QPIGS, NUT), a power tracker per UPS-role device, and the generator input
 * from generator-role devices. Events go through `record` (the outbox).
 */
import type { Logger } from "../../../protocol/clock.ts";
import type { EventDraft } from "../../../protocol/events.ts";
import { decodeQ1, Q1_COMMAND } from "../devices/megatec/decode.ts";
import { createMegatecFramer } from "../devices/megatec/framer.ts";
import { encodeVoltronicCommand } from "../devices/qpigs/crc.ts";
import { decodeQpigs } from "../devices/qpigs/decode.ts";
import { createQpigsFramer } from "../devices/qpigs/framer.ts";
import type { PowerDeviceConfig } from "./config.ts";
import { createPowerTracker, type PowerTracker } from "./monitor.ts";
import { startNutPoller } from "./nut-poller.ts";
import { fromQ1, fromQpigs, type PowerReading } from "./reading.ts";
import { startSerialPoller, type Poller, type PollerCounters } from "./serial-poller.ts";
import { generatorRunning, type PowerLink, type PowerState } from "./state.ts";

export type PowerHealth = "ok" | "degraded" | "down" | "unknown";

export interface PowerService {
  health(): Record<string, PowerHealth>;
  states(): Record<string, Pick<PowerState, "source" | "link">>;
  counters(): Record<string, PollerCounters>;
  close(): Promise<void>;
}

export interface PowerServiceOptions {
  devices: readonly PowerDeviceConfig[];
  record: (d: EventDraft) => void;
  logger: Logger;
  binding?: unknown;
  serialBackoff?: { initialMs?: number; maxMs?: number };
}

const QPIGS_COMMAND = encodeVoltronicCommand("QPIGS");

export async function startPower(o: PowerServiceOptions): Promise<PowerService> {
  const trackers = new Map<string, PowerTracker>();
  const pollers = new Map<string, Poller>();
  const genState = new Map<string, boolean | null>();
  const generatorNow = (): boolean | null => {
    const v = [...genState.values()];
    if (v.some((x) => x === true)) return true;
    if (v.length > 0 && v.every((x) => x === false)) return false;
    return null;
  };
  for (const d of o.devices) {
    if (d.role === "ups") trackers.set(d.id, createPowerTracker({ device: d.id, record: o.record, sampleMs: d.sampleMs, logger: o.logger }));
    else genState.set(d.id, null);
  }
  const sink = (d: PowerDeviceConfig) => ({
    onReading(r: PowerReading) {
      if (d.role === "ups") trackers.get(d.id)?.input({ kind: "reading", reading: r });
      else setGenerator(d.id, generatorRunning(r));
    },
    onLink(link: Exclude<PowerLink, "ok">) {
      if (d.role === "ups") trackers.get(d.id)?.input({ kind: "link", link });
      else setGenerator(d.id, null);
    },
  });
  function setGenerator(id: string, running: boolean | null): void {
    const before = generatorNow();
    genState.set(id, running);
    const after = generatorNow();
    if (after !== before) for (const t of trackers.values()) t.input({ kind: "generator", running: after });
  }

  try {
    for (const d of o.devices) {
      const common = { id: d.id, pollMs: d.pollMs, staleAfterMs: d.staleAfterMs, logger: o.logger, ...sink(d) };
      if (d.type === "nut") {
        pollers.set(d.id, await startNutPoller({ ...common, host: d.host, port: d.port, ups: d.ups }));
        continue;
      }
      const serial = {
        ...common,
        path: d.path,
        baudRate: d.baudRate,
        reopenAfterMisses: d.reopenAfterMisses,
        ...(d.timeoutMs !== undefined ? { timeoutMs: d.timeoutMs } : {}),
        ...(o.serialBackoff ? { openBackoff: o.serialBackoff } : {}),
        binding: o.binding,
      };
      if (d.type === "megatec") {
        const battery = d.battery;
        pollers.set(
          d.id,
          await startSerialPoller({
            ...serial,
            command: Q1_COMMAND,
            framer: createMegatecFramer,
            decode: (f) => {
              const r = decodeQ1(f);
              return r.ok ? { ok: true, reading: fromQ1(r.status, battery) } : { ok: false, code: r.code, detail: `${r.reason}: ${r.detail}` };
            },
          }),
        );
      } else {
        const low = d.lowBatteryPct;
        pollers.set(
          d.id,
          await startSerialPoller({
            ...serial,
            command: QPIGS_COMMAND,
            framer: createQpigsFramer,
            decode: (f) => {
              const r = decodeQpigs(f);
              return r.ok ? { ok: true, reading: fromQpigs(r.status, low) } : { ok: false, code: r.code, detail: r.detail };
            },
          }),
        );
      }
    }
  } catch (e) {
    for (const p of pollers.values()) await p.close().catch(() => undefined);
    for (const t of trackers.values()) t.close();
    throw e;
  }

  return {
    health() {
      const out: Record<string, PowerHealth> = {};
      for (const [id, p] of pollers) out[id] = p.health();
      return out;
    },
    states() {
      const out: Record<string, Pick<PowerState, "source" | "link">> = {};
      for (const [id, t] of trackers) {
        const s = t.state();
        out[id] = { source: s.source, link: s.link };
      }
      return out;
    },
    counters() {
      const out: Record<string, PollerCounters> = {};
      for (const [id, p] of pollers) out[id] = p.counters;
      return out;
    },
    async close() {
      for (const t of trackers.values()) t.close();
      for (const p of pollers.values()) await p.close();
    },
  };
}
