import type { Logger } from "../../../../protocol/clock.ts";
import type { EventDraft } from "../../../../protocol/events.ts";
import type { RadarSeatConfig } from "../../serial/device-config.ts";
import { openSerialDevice, type SerialDevice } from "../../serial/serial-device.ts";
import { decodeLd2410 } from "./decode.ts";
import { Ld2410Framer } from "./framer.ts";
import { createRadarSeat, type RadarSeat } from "./seat-source.ts";

/**
 * One LD2410 on a serial port feeding one seat. The radar reports
 * continuously (§6.1), so liveness = 3 × reportMs without a good frame →
 * `down`, the seat becomes `unknown`, the port is reopened with back-off.
 */
export interface RadarDevice {
  seat: RadarSeat;
  device: SerialDevice;
  counters: { reports: number; rejected: number; acks: number };
  close(): Promise<void>;
}

export async function openRadarDevice(o: {
  seat: RadarSeatConfig;
  debounceMs: number;
  record: (d: EventDraft) => void;
  logger: Logger;
  binding?: unknown;
  backoff?: { initialMs?: number; maxMs?: number };
}): Promise<RadarDevice> {
  const log = o.logger.child({ ns: "edge:seats:ld2410", seat: o.seat.id });
  const seat = createRadarSeat({
    seat: o.seat,
    debounceMs: o.debounceMs,
    ...(o.seat.maxDistanceCm !== undefined ? { maxDistanceCm: o.seat.maxDistanceCm } : {}),
    record: o.record,
    logger: o.logger,
  });
  const counters = { reports: 0, rejected: 0, acks: 0 };
  const device = await openSerialDevice({
    id: o.seat.id,
    path: o.seat.path,
    baudRate: o.seat.baudRate,
    framer: new Ld2410Framer(),
    logger: o.logger,
    binding: o.binding,
    ...(o.backoff ? { backoff: o.backoff } : {}),
    liveness: { expectedIntervalMs: o.seat.reportMs, factor: 3, fedBy: "caller" },
  });
  device.onFrame((f) => {
    const r = decodeLd2410(f.bytes);
    if (!r.ok) {
      counters.rejected++;
      log.debug({ code: r.code, detail: r.detail }, "radar frame rejected");
      return;
    }
    if (r.kind === "ack") {
      device.markAlive();
      counters.acks++;
      return;
    }
    device.markAlive();
    counters.reports++;
    seat.report(r.report);
  });
  device.onHealth((h) => seat.link(h !== "down"));
  return {
    seat,
    device,
    counters,
    async close() {
      seat.close();
      await device.close();
    },
  };
}
