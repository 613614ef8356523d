import { randomBytes } from "node:crypto";
import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Clock } from "../../../protocol/clock.ts";
import { HazriError } from "../../../protocol/errors.ts";
import { HazriEvent, SCHEMA_VERSION, type EventDraft } from "../../../protocol/events.ts";
import type { SeqRange } from "../../../protocol/messages.ts";

/**
 * The edge's durable outbox: the heart of the durability rule.
 *
 * - `journal_mode=WAL` + `synchronous=FULL`: every committed transaction is
 *   fsync'd to the WAL before `append` returns (SQLite docs, "PRAGMA synchronous":
 *   FULL syncs the WAL on each commit), so an event the agent has acknowledged
 *   locally survives a power cut (reliability matrix SF-5).
 * - `seq` comes from `meta.next_seq`, bumped in the SAME transaction as the
 *   insert, so a seq is never reused after a crash or restart, even when the
 *   outbox was drained to empty (an AUTOINCREMENT on an empty table would not
 *   guarantee that across a VACUUM; an explicit counter does).
 * - `sent_at` is a *monotonic* reading of this process (clock.mono()); it is
 *   only meaningful within one process life, so the agent calls
 *   `resetInflight()` at start (in-flight state of a dead process is unknown).
 *
 * Bounded with priority classes (issue 3; reliability matrix SF-9):
 * - never dropped: badge, door, power, uplink, alarm, clock. `maxEvents` is a
 *   soft bound for them: beyond it the outbox logs OUTBOX_FULL (via
 *   `onPressure`) but still stores them; the disk is their only limit.
 * - coalescible telemetry: seat events (per seat) and heartbeats. From
 *   `seatCoalesceAt` queued events on ("pressure"), appending one deletes the
 *   queued, never-published events of the same seat (or older heartbeats) in
 *   the same transaction, so the newest state per seat is always kept. Only
 *   rows with attempts = 0 are coalesced, so the persisted `coalesced` counter
 *   is exact: it counts events that never left the edge.
 * - an `alarm` event (outbox_pressure start/end) is appended in the same
 *   transaction as the transition; pressure ends when acks bring the depth
 *   below 90 % of `seatCoalesceAt` (hysteresis; see checkPressure).
 */
export interface OutboxOptions {
  path: string;
  centerId: string;
  bootId: string;
  clock: Clock;
  /** Whether the wall clock is trusted right now (stamped into each event). */
  synced: () => boolean;
  /** Soft bound (see above); default unbounded. */
  maxEvents?: number;
  /** Depth at which coalescing starts; default 80 % of maxEvents. */
  seatCoalesceAt?: number;
  /**
   * Most older queued rows of the same seat (or heartbeat) one append coalesces away; default 64. When
   * pressure begins on a long backlog a seat can have thousands of queued states, and deleting them all
   * in the append's transaction blocked the event loop (and so the door) for ~300 ms per seat (measured,
   * BENCHMARKS.md "Edge on real ptys"); bounded, every later append of that seat removes the next chunk.
   */
  coalesceChunk?: number;
  /** Called after a pressure transition committed (for logs); "full" when depth first reaches maxEvents. */
  onPressure?: (state: "start" | "end" | "full", depth: number, coalesced: number) => void;
}

export interface OutboxStats {
  depth: number;
  coalesced: number;
  pressure: boolean;
}

export interface Rejection {
  seq: number;
  code: string;
  reason: string;
}

/** What `correctUnsynced` did with one chunk. */
export interface CorrectionStep {
  corrected: number;
  /** Rows in the chunk left alone: already sent once, another boot, already synced or corrected. */
  skipped: number;
  /** Where the next chunk starts; `done` when past `toSeq`. */
  nextSeq: number;
  done: boolean;
}

export interface Outbox {
  /** First seq this process allocates (lastSeq()+1 at open): rows below it are from earlier boots. */
  readonly bootFirstSeq: number;
  /** This database's identity (meta.outbox_id, random, made once): seqs are unique only within it. */
  readonly id: string;
  append(draft: EventDraft): HazriEvent;
  appendMany(drafts: EventDraft[]): HazriEvent[];
  nextBatch(limit: number, opts: { now: number; resendAfterMs: number }): HazriEvent[];
  /**
   * Same selection as nextBatch, but the stored JSON text: the uplink splices it into a batch without re-parsing.
   * `belowSeq`: only rows with a lower seq (the uplink holds back this boot's rows until their time is corrected).
   */
  nextBatchRaw(limit: number, opts: { now: number; resendAfterMs: number; belowSeq?: number }): { seqs: number[]; payloads: string[] };
  /**
   * Once the clock is synced: rewrite this boot's never-sent `synced: false` rows in [fromSeq, toSeq]
   * (at most `limit` per call, one durable transaction) with `ts = round(e.mono + wallMinusMono)`
   * and `tsCorrected: true`. A row sent at least once (attempts > 0) is never changed: the server may
   * already hold it, and a new `ts` would be a second InfluxDB point.
   */
  correctUnsynced(o: { fromSeq: number; toSeq: number; wallMinusMono: number; limit: number }): CorrectionStep;
  markSent(seqs: readonly number[], now: number): void;
  /** Deletes the given seqs; returns how many rows were deleted. */
  ack(ranges: readonly SeqRange[]): number;
  /** Moves the given seqs to dead_letter; returns how many moved. */
  reject(list: readonly Rejection[]): number;
  resetInflight(): void;
  depth(): number;
  stats(): OutboxStats;
  deadLetterCount(): number;
  /** Highest seq ever assigned (0 if none). */
  lastSeq(): number;
  close(): void;
}

export function openOutbox(opts: OutboxOptions): Outbox {
  if (opts.path !== ":memory:") mkdirSync(path.dirname(opts.path), { recursive: true });
  let db: Database.Database;
  try {
    db = new Database(opts.path);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = FULL");
    db.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS outbox (
        seq INTEGER PRIMARY KEY, type TEXT NOT NULL, payload TEXT NOT NULL,
        created_at INTEGER NOT NULL, sent_at REAL, attempts INTEGER NOT NULL DEFAULT 0, ckey TEXT);
      CREATE TABLE IF NOT EXISTS dead_letter (
        seq INTEGER PRIMARY KEY, payload TEXT NOT NULL, code TEXT NOT NULL, reason TEXT NOT NULL, at INTEGER NOT NULL);
      INSERT OR IGNORE INTO meta(key, value) VALUES ('next_seq', '1');
      INSERT OR IGNORE INTO meta(key, value) VALUES ('coalesced', '0');
      INSERT OR IGNORE INTO meta(key, value) VALUES ('pressure', '0');
    `);
    // Made once per database (outboxes from before this field get one at their next open).
    db.prepare("INSERT OR IGNORE INTO meta(key, value) VALUES ('outbox_id', ?)").run(randomBytes(12).toString("base64url"));
    // Outboxes created before priorities lack the coalescing key column.
    const cols = db.prepare("PRAGMA table_info(outbox)").all() as { name: string }[];
    if (!cols.some((c) => c.name === "ckey")) db.exec("ALTER TABLE outbox ADD COLUMN ckey TEXT");
    db.exec("CREATE INDEX IF NOT EXISTS outbox_ckey ON outbox(ckey) WHERE ckey IS NOT NULL");
    // resetInflight() touches only the rows in flight: without this index it scanned the whole table
    // (145 ms at 1 M queued rows, on the door's thread, at every reconnect).
    db.exec("CREATE INDEX IF NOT EXISTS outbox_sent ON outbox(seq) WHERE sent_at IS NOT NULL");
    const center = db.prepare("SELECT value FROM meta WHERE key = 'center_id'").get() as { value: string } | undefined;
    if (center && center.value !== opts.centerId) {
      throw new HazriError("OUTBOX_CORRUPT", `outbox ${opts.path} belongs to center ${center.value}, not ${opts.centerId}`);
    }
    db.prepare("INSERT OR IGNORE INTO meta(key, value) VALUES ('center_id', ?)").run(opts.centerId);
  } catch (e) {
    if (e instanceof HazriError) throw e;
    throw new HazriError("OUTBOX_CORRUPT", `cannot open outbox ${opts.path}: ${(e as Error).message}`, undefined, { cause: e });
  }

  const getNext = db.prepare("SELECT value FROM meta WHERE key = 'next_seq'");
  const setNext = db.prepare("UPDATE meta SET value = ? WHERE key = 'next_seq'");
  const insert = db.prepare("INSERT INTO outbox(seq, type, payload, created_at, ckey) VALUES (?, ?, ?, ?, ?)");
  const selBatch = db.prepare(
    "SELECT seq, payload FROM outbox WHERE sent_at IS NULL OR sent_at <= ? ORDER BY seq LIMIT ?",
  );
  const coalesceChunk = Math.max(1, opts.coalesceChunk ?? 64);
  // Oldest first: what is left of a seat's queued history is always its most recent states.
  const delCoalesce = db.prepare("DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox WHERE ckey = ? AND attempts = 0 ORDER BY seq LIMIT ?)");
  const getMeta = db.prepare("SELECT value FROM meta WHERE key = ?");
  const setMeta = db.prepare("UPDATE meta SET value = ? WHERE key = ?");
  const upSent = db.prepare("UPDATE outbox SET sent_at = ?, attempts = attempts + 1 WHERE seq = ?");
  const delRange = db.prepare("DELETE FROM outbox WHERE seq BETWEEN ? AND ?");
  const relaxed = db.prepare("PRAGMA synchronous = NORMAL");
  const strict = db.prepare("PRAGMA synchronous = FULL");
  const selOne = db.prepare("SELECT payload FROM outbox WHERE seq = ?");
  const delOne = db.prepare("DELETE FROM outbox WHERE seq = ?");
  const insDead = db.prepare("INSERT OR REPLACE INTO dead_letter(seq, payload, code, reason, at) VALUES (?, ?, ?, ?, ?)");
  const resetAll = db.prepare("UPDATE outbox SET sent_at = NULL WHERE sent_at IS NOT NULL");
  const selBatchBelow = db.prepare(
    "SELECT seq, payload FROM outbox WHERE (sent_at IS NULL OR sent_at <= ?) AND seq < ? ORDER BY seq LIMIT ?",
  );
  const selUnsent = db.prepare("SELECT seq, payload FROM outbox WHERE seq BETWEEN ? AND ? AND attempts = 0 ORDER BY seq LIMIT ?");
  const upPayload = db.prepare("UPDATE outbox SET payload = ?, created_at = ? WHERE seq = ? AND attempts = 0");
  const count = db.prepare("SELECT COUNT(*) AS n FROM outbox");
  const countDead = db.prepare("SELECT COUNT(*) AS n FROM dead_letter");

  const nextSeq = () => Number((getNext.get() as { value: string }).value);
  const bootFirstSeq = nextSeq();
  const outboxId = (getMeta.get("outbox_id") as { value: string }).value;
  const maxEvents = opts.maxEvents ?? Number.MAX_SAFE_INTEGER;
  const coalesceAt = opts.seatCoalesceAt ?? Math.floor(maxEvents * 0.8);
  const endBelow = Math.floor(coalesceAt * 0.9);
  // Cached: COUNT(*) over a large backlog on every append would cost the door path.
  let depth = (count.get() as { n: number }).n;
  let coalesced = Number((getMeta.get("coalesced") as { value: string }).value);
  let pressure = (getMeta.get("pressure") as { value: string }).value === "1";
  let full = false;
  let notices: ["start" | "end" | "full", number, number][] = [];

  const ckeyOf = (d: EventDraft): string | null => (d.type === "seat" ? `seat:${d.seat}` : d.type === "heartbeat" ? "heartbeat" : null);

  function insertEvent(draft: EventDraft): HazriEvent {
    const seq = nextSeq();
    // Validate before inserting: a producer bug must fail loudly here, not be
    // rejected by the server later (and sit in dead_letter).
    const event = HazriEvent.parse({
      ...draft,
      v: SCHEMA_VERSION,
      centerId: opts.centerId,
      bootId: opts.bootId,
      seq,
      ts: Math.round(opts.clock.now()),
      mono: Math.max(0, opts.clock.mono()),
      synced: opts.synced(),
    });
    insert.run(seq, event.type, JSON.stringify(event), event.ts, ckeyOf(draft));
    setNext.run(String(seq + 1));
    depth++;
    return event;
  }

  function setPressure(on: boolean): void {
    pressure = on;
    setMeta.run(on ? "1" : "0", "pressure");
    insertEvent({ type: "alarm", alarm: "outbox_pressure", state: on ? "start" : "end", depth, coalesced });
    notices.push([on ? "start" : "end", depth, coalesced]);
  }

  /**
   * Pressure starts on an append that reaches `coalesceAt`; it ends only when
   * acks (or rejections) bring the depth below `endBelow`. Coalescing itself
   * shrinks the depth a lot (a seat's whole queued history collapses into one
   * event), and ending on that would flap start/end while the WAN is down.
   */
  function checkPressure(drained: boolean): void {
    if (!pressure && depth >= coalesceAt) setPressure(true);
    else if (pressure && drained && depth < endBelow) setPressure(false);
    if (!full && depth >= maxEvents) {
      full = true;
      notices.push(["full", depth, coalesced]);
    } else if (full && depth < maxEvents) full = false;
  }

  function appendOne(draft: EventDraft): HazriEvent {
    const key = pressure ? ckeyOf(draft) : null;
    if (key !== null) {
      const n = delCoalesce.run(key, coalesceChunk).changes;
      if (n > 0) {
        depth -= n;
        coalesced += n;
        setMeta.run(String(coalesced), "coalesced");
      }
    }
    const e = insertEvent(draft);
    checkPressure(false);
    return e;
  }

  // Transitions are reported after the commit, never for a rolled-back one.
  const flushNotices = () => {
    const n = notices;
    notices = [];
    for (const [s, d, c] of n) opts.onPressure?.(s, d, c);
  };
  const withNotices = <A extends unknown[], R>(fn: (...a: A) => R) => {
    const tx = db.transaction(fn);
    return (...a: A): R => {
      const before = { depth, coalesced, pressure, full };
      try {
        const r = tx(...a);
        flushNotices();
        return r;
      } catch (e) {
        ({ depth, coalesced, pressure, full } = before);
        notices = [];
        throw e;
      }
    };
  };
  const appendTx = withNotices((drafts: EventDraft[]) => drafts.map(appendOne));
  const ackTx = withNotices((ranges: readonly SeqRange[]) => {
    let n = 0;
    for (const [a, b] of ranges) n += delRange.run(a, b).changes;
    depth -= n;
    checkPressure(true);
    return n;
  });
  const rejectTx = withNotices((list: readonly Rejection[]) => {
    let n = 0;
    const at = Math.round(opts.clock.now());
    for (const r of list) {
      const row = selOne.get(r.seq) as { payload: string } | undefined;
      if (!row) continue;
      insDead.run(r.seq, row.payload, r.code, r.reason, at);
      delOne.run(r.seq);
      n++;
    }
    depth -= n;
    checkPressure(true);
    return n;
  });
  const sentTx = db.transaction((seqs: readonly number[], now: number) => {
    for (const s of seqs) upSent.run(now, s);
  });
  const correctTx = db.transaction((o: { fromSeq: number; toSeq: number; wallMinusMono: number; limit: number }): CorrectionStep => {
    const rows = selUnsent.all(o.fromSeq, o.toSeq, o.limit) as { seq: number; payload: string }[];
    let corrected = 0;
    for (const r of rows) {
      const e = JSON.parse(r.payload) as HazriEvent;
      if (e.bootId !== opts.bootId || e.synced || e.tsCorrected) continue;
      // Re-validate: a corrected ts outside the schema's range must fail here, not at the server.
      const fixed = HazriEvent.parse({ ...e, ts: Math.max(0, Math.round(e.mono + o.wallMinusMono)), tsCorrected: true });
      corrected += upPayload.run(JSON.stringify(fixed), fixed.ts, r.seq).changes;
    }
    const last = rows.at(-1)?.seq;
    const done = rows.length < o.limit || last === undefined || last >= o.toSeq;
    return { corrected, skipped: rows.length - corrected, nextSeq: last === undefined ? o.toSeq + 1 : last + 1, done };
  });

  let closed = false;
  return {
    bootFirstSeq,
    id: outboxId,
    append: (draft) => appendTx([draft])[0] as HazriEvent,
    appendMany: (drafts) => (drafts.length ? appendTx(drafts) : []),
    nextBatch(limit, { now, resendAfterMs }) {
      const rows = selBatch.all(now - resendAfterMs, limit) as { payload: string }[];
      return rows.map((r) => JSON.parse(r.payload) as HazriEvent);
    },
    nextBatchRaw(limit, { now, resendAfterMs, belowSeq }) {
      const rows = (belowSeq === undefined ? selBatch.all(now - resendAfterMs, limit) : selBatchBelow.all(now - resendAfterMs, belowSeq, limit)) as {
        seq: number;
        payload: string;
      }[];
      return { seqs: rows.map((r) => r.seq), payloads: rows.map((r) => r.payload) };
    },
    markSent: (seqs, now) => sentTx(seqs, now),
    correctUnsynced: (o) => correctTx(o),
    ack: (ranges) => {
      // An ack's deletes need no fsync of their own: lost in a power cut, the rows come back and are sent
      // again, and InfluxDB overwrites them (same point key); attempts > 0 was already durable (markSent),
      // so they are never coalesced and the counter stays exact. The next append's FULL commit syncs the
      // WAL, this commit included. Saves one fsync per batch on the door's thread during a replay.
      relaxed.run();
      try {
        return ackTx(ranges);
      } finally {
        strict.run();
      }
    },
    reject: (list) => rejectTx(list),
    resetInflight: () => void resetAll.run(),
    depth: () => depth,
    stats: () => ({ depth, coalesced, pressure }),
    deadLetterCount: () => (countDead.get() as { n: number }).n,
    lastSeq: () => nextSeq() - 1,
    close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}
