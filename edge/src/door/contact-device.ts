import type { Clock, Logger } from "../../../protocol/clock.ts";
import type { EventDraft } from "../../../protocol/events.ts";
import { LineFramer, lineText } from "../devices/wiegand/line-framer.ts";
import type { DoorContactConfig } from "../serial/device-config.ts";
import { openSerialDevice, type SerialDevice } from "../serial/serial-device.ts";
import { decodeContactLine } from "./contact-line.ts";
import { createDoorContact, type DoorContact } from "./contact.ts";

/**
 * A door's reed switch through the bridge (contact-line.ts) → the contact
 * machine. The bridge repeats its level every `repeatS`, so the serial layer's
 * liveness check applies: 3 × repeatS without a line → link down → door state
 * unknown (never a false "closed"), and the port is reopened.
 */
export interface ContactDevice {
  contact: DoorContact;
  device: SerialDevice;
  counters: { lines: number; rejected: number; otherInputs: number };
  close(): Promise<void>;
}

export async function openContactDevice(o: {
  door: { id: string; heldOpenS: number; failMode: "secure" | "safe"; contact: DoorContactConfig };
  clock: Clock;
  record: (d: EventDraft) => void;
  logger: Logger;
  binding?: unknown;
  backoff?: { initialMs?: number; maxMs?: number };
  lockUnpowered?: () => boolean;
}): Promise<ContactDevice> {
  const c = o.door.contact;
  const log = o.logger.child({ ns: "edge:door-contact", door: o.door.id });
  const contact = createDoorContact({ door: o.door.id, config: { heldOpenMs: o.door.heldOpenS * 1000, failMode: o.door.failMode }, clock: o.clock, record: o.record, logger: o.logger, ...(o.lockUnpowered ? { lockUnpowered: o.lockUnpowered } : {}) });
  const counters = { lines: 0, rejected: 0, otherInputs: 0 };
  const device = await openSerialDevice({
    id: `${o.door.id}-contact`,
    path: c.path,
    baudRate: c.baudRate,
    framer: new LineFramer({ maxLine: 64 }),
    logger: o.logger,
    binding: o.binding,
    ...(o.backoff ? { backoff: o.backoff } : {}),
    liveness: { expectedIntervalMs: c.repeatS * 1000, factor: 3, fedBy: "caller" },
  });
  device.onFrame((f) => {
    const r = decodeContactLine(lineText(f.bytes), { invert: c.invert });
    if (!r.ok) {
      counters.rejected++;
      log.debug({ detail: r.detail }, "contact line rejected");
      return;
    }
    if (r.input !== c.input) {
      counters.otherInputs++;
      return;
    }
    device.markAlive();
    counters.lines++;
    contact.report(r.open);
  });
  device.onHealth((h) => {
    if (h === "down") contact.lost();
  });
  return {
    contact,
    device,
    counters,
    async close() {
      contact.close();
      await device.close();
    },
  };
}
