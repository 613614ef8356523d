import type { Clock, Logger } from "../../../protocol/clock.ts";
import type { EventDraft } from "../../../protocol/events.ts";
import { decodeRdm6300 } from "../devices/rdm6300/decode.ts";
import { createPresentationTracker } from "../devices/rdm6300/presentation.ts";
import type { SerialDevice } from "../serial/serial-device.ts";
import type { Door } from "../door/door.ts";
import { decide, isFlaggedGrant, type AccessPolicy } from "./decide.ts";
import type { Presence } from "./presence.ts";
import type { MemberDirectory } from "./members.ts";
import { createGarbageLog } from "../serial/garbage-log.ts";

/**
 * The fast path: frame → decode → de-dup → lookup → decide → relay → record.
 * Only frames that decode (checksum OK, §1.2 rule 3) can ever reach `decide`,
 * so malformed input can never grant (reliability matrix DA-8). The relay is
 * written inside `door.unlock()` BEFORE the badge event is appended (fsync):
 * see door.ts for why the door never waits for the disk.
 */
export interface ReaderCounters {
  checksumErrors: number;
  formatErrors: number;
  presentations: number;
  repeats: number;
  granted: number;
  denied: number;
}

export function attachReader(o: {
  reader: { id: string; door: string; direction: "in" | "out" };
  device: SerialDevice;
  door: Door | undefined;
  directory: () => MemberDirectory;
  centerId: string;
  utcOffsetMin: number;
  clock: Clock;
  record: (d: EventDraft) => void;
  logger: Logger;
  removeAfterMs?: number;
  /** Wire format decoder (devices/wiegand/card-source.ts); default RDM6300. */
  decode?: (frame: Uint8Array) => { ok: true; cardId: string } | { ok: false; code: string; detail: string };
  /** Rules beyond card/suspended/dates (decide.ts); absent = defaults, no capacity. */
  policy?: AccessPolicy;
  /** Age of the member cache (staleness rule); absent or undefined = not applicable. */
  cacheAgeMs?: () => number | undefined;
  /** Shared across the center's readers: capacity and soft anti-passback. */
  presence?: Presence;
  clockSynced?: () => boolean;
}): { counters: ReaderCounters } {
  const log = o.logger.child({ ns: "edge:reader", reader: o.reader.id });
  const counters: ReaderCounters = { checksumErrors: 0, formatErrors: 0, presentations: 0, repeats: 0, granted: 0, denied: 0 };
  const rejected = createGarbageLog({ logger: log, what: `reader ${o.reader.id} frames that do not decode` });
  const presence = createPresentationTracker({ clock: o.clock, ...(o.removeAfterMs !== undefined ? { removeAfterMs: o.removeAfterMs } : {}) });
  o.device.onFrame((f) => {
    const r = (o.decode ?? decodeRdm6300)(f.bytes);
    if (!r.ok) {
      if (r.code === "FRAME_CHECKSUM") counters.checksumErrors++;
      else counters.formatErrors++;
      log.debug({ code: r.code, detail: r.detail }, "frame rejected");
      rejected.add(r.code, f.bytes.length);
      return;
    }
    if (presence.observe(r.cardId) === "repeat") {
      counters.repeats++;
      return;
    }
    counters.presentations++;
    const member = o.directory().lookupCard(r.cardId);
    const mono = o.clock.mono();
    const d = decide(member, {
      now: o.clock.now(),
      centerId: o.centerId,
      utcOffsetMin: o.utcOffsetMin,
      direction: o.reader.direction,
      ...(o.policy ? { policy: o.policy } : {}),
      cacheAgeMs: o.cacheAgeMs?.(),
      ...(o.presence && member ? { occupancy: o.presence.occupancy(mono), alreadyIn: o.reader.direction === "in" && o.presence.isIn(member.id, mono) } : {}),
      ...(o.clockSynced ? { clockSynced: o.clockSynced() } : {}),
    });
    if (d.decision === "granted") {
      counters.granted++;
      o.door?.unlock(); // relay bytes leave here, before any disk write
      if (member) o.presence?.grant(member.id, o.reader.direction, mono);
    } else counters.denied++;
    o.record({
      type: "badge",
      door: o.reader.door,
      reader: o.reader.id,
      direction: o.reader.direction,
      cardId: r.cardId,
      memberId: member?.id ?? null,
      decision: d.decision,
      reason: d.reason,
      flagged: isFlaggedGrant(d),
      ...(d.flags ? { flags: d.flags } : {}),
    });
    log.info({ card: r.cardId, member: member?.id ?? null, ...d }, "badge");
  });
  return { counters };
}
