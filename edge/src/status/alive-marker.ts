import { createHash } from "node:crypto";
import { mkdirSync, openSync, closeSync, readSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import type { Clock, Logger } from "../../../protocol/clock.ts";
import { BootId } from "../../../protocol/ids.ts";
import type { EventDraft } from "../../../protocol/events.ts";

/**
 * The alive marker: evidence of when this edge was last alive, for the SLA's "edge dark" periods
 * (protocol/events.ts BootEvent). A power cut gives no warning, so the edge cannot record "I am
 * going down"; instead it keeps overwriting one tiny record every `aliveMarkS` seconds and the next
 * process reads it back: `prevAliveTs` is the start of the dark period to within one interval.
 *
 * On-disk format: one fixed-size record (RECORD_BYTES) at offset 0, a JSON line padded with spaces:
 *   {"v":1,"bootId":..,"ts":..,"synced":..,"stopped":..,"sum":"<16 hex of sha256 of the line without sum>"}
 * - Overwritten in place (pwrite at 0) and fdatasync'd: the file size never changes, so fdatasync(2)
 *   has no metadata to flush (mtime is not needed to read the data back) and each mark costs one
 *   data-page write, no ext4 journal commit and no rename/directory fsync.
 * - The checksum catches a torn or bit-rotten record (SD card): such a marker reads as "unknown",
 *   exactly like a missing one. Reading never throws.
 * - SD-card wear (documented in edge/README.md): default 1 s = 86,400 single-page writes a day, the
 *   same order as an outbox taking one event per second. Cheap cards with poor wear levelling may
 *   amplify each page write to an erase block; raise `aliveMarkS` there (the dark-period start is
 *   then known to within that many seconds).
 * - Clean stop writes `stopped: true` (prevEnd "stop"); anything else leaves it false ("crash").
 */
export const RECORD_BYTES = 256;

const Mark = z.object({
  v: z.literal(1),
  bootId: BootId,
  ts: z.number().int().min(0),
  synced: z.boolean(),
  stopped: z.boolean(),
  sum: z.string().regex(/^[0-9a-f]{16}$/),
});
export type AliveMark = Omit<z.infer<typeof Mark>, "sum" | "v">;

export type PrevRun = { ok: true; mark: AliveMark } | { ok: false; reason: "missing" | "unreadable" | "corrupt" };

const digest = (s: string) => createHash("sha256").update(s).digest("hex").slice(0, 16);

export function encodeMark(m: AliveMark): Buffer {
  const body = JSON.stringify({ v: 1, bootId: m.bootId, ts: Math.round(m.ts), synced: m.synced, stopped: m.stopped });
  const line = `${body.slice(0, -1)},"sum":"${digest(body)}"}`;
  if (line.length + 1 > RECORD_BYTES) throw new RangeError("alive mark too long");
  const buf = Buffer.alloc(RECORD_BYTES, 0x20);
  buf.write(line, 0, "utf8");
  buf[RECORD_BYTES - 1] = 0x0a;
  return buf;
}

/** Decode a record; null when it is not a whole, checksummed mark. Never throws. */
export function decodeMark(bytes: Uint8Array): AliveMark | null {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString("utf8").trim());
  } catch {
    return null;
  }
  const r = Mark.safeParse(json);
  if (!r.success) return null;
  const { sum, v: _v, ...mark } = r.data;
  const body = JSON.stringify({ v: 1, bootId: mark.bootId, ts: mark.ts, synced: mark.synced, stopped: mark.stopped });
  return digest(body) === sum ? mark : null;
}

export const aliveMarkerFile = (dataDir: string) => path.join(dataDir, "alive.mark");

/** Read the previous run's marker (synchronously: once, at start, 256 bytes). Never throws. */
export function readAliveMarker(file: string): PrevRun {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (e) {
    return { ok: false, reason: (e as NodeJS.ErrnoException).code === "ENOENT" ? "missing" : "unreadable" };
  }
  try {
    const buf = Buffer.alloc(RECORD_BYTES);
    const n = readSync(fd, buf, 0, RECORD_BYTES, 0);
    const mark = decodeMark(buf.subarray(0, n));
    return mark ? { ok: true, mark } : { ok: false, reason: "corrupt" };
  } catch {
    return { ok: false, reason: "unreadable" };
  } finally {
    closeSync(fd);
  }
}

/** The `boot` event for what the previous run left behind. */
export function bootDraft(prev: PrevRun): Extract<EventDraft, { type: "boot" }> {
  if (!prev.ok) return { type: "boot", prevBootId: null, prevAliveTs: null, prevAliveSynced: false, prevEnd: "unknown" };
  return { type: "boot", prevBootId: prev.mark.bootId, prevAliveTs: prev.mark.ts, prevAliveSynced: prev.mark.synced, prevEnd: prev.mark.stopped ? "stop" : "crash" };
}

export interface AliveMarker {
  /** Write a mark now (skipped while the previous write is still in flight). */
  mark(): Promise<void>;
  /** Clean stop: wait for the write in flight, write `stopped: true`, fdatasync, close. */
  stop(): Promise<void>;
  readonly counters: { writes: number; failures: number; skipped: number };
}

export async function startAliveMarker(o: {
  file: string;
  bootId: string;
  intervalS: number;
  /** Wall time to record; the agent passes its best lower bound while unsynced (see agent.ts). */
  now: () => number;
  synced: () => boolean;
  logger: Logger;
}): Promise<AliveMarker> {
  const log = o.logger.child({ ns: "edge:alive" });
  const counters = { writes: 0, failures: 0, skipped: 0 };
  let fh: FileHandle | null = null;
  try {
    mkdirSync(path.dirname(o.file), { recursive: true });
    // "a+" would force appends; "r+" needs the file to exist: create it once, then overwrite in place.
    fh = await open(o.file, "r+").catch(() => open(o.file, "w+", 0o644));
  } catch (e) {
    log.error({ err: e, file: o.file }, "cannot open the alive marker; dark periods will have no start time");
  }
  let inflight: Promise<void> | null = null;
  let stopped = false;
  const write = async (isStop: boolean): Promise<void> => {
    if (!fh) return;
    const buf = encodeMark({ bootId: o.bootId, ts: o.now(), synced: o.synced(), stopped: isStop });
    try {
      await fh.write(buf, 0, buf.length, 0);
      await fh.datasync();
      counters.writes++;
    } catch (e) {
      counters.failures++;
      // An SD card that fails writes is a finding in itself; log the first and then every 60th.
      if (counters.failures === 1 || counters.failures % 60 === 0) log.error({ err: e, failures: counters.failures }, "alive marker write failed");
    }
  };
  const mark = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    if (inflight) {
      counters.skipped++; // a slow card: never queue marks behind each other
      return inflight;
    }
    inflight = write(false).finally(() => (inflight = null));
    return inflight;
  };
  await mark();
  const timer = setInterval(() => void mark(), Math.max(100, Math.round(o.intervalS * 1000)));
  timer.unref?.();
  return {
    counters,
    mark,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await inflight;
      await write(true);
      await fh?.close().catch(() => undefined);
      fh = null;
    },
  };
}
