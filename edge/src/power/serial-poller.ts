/**
 * Request/response poller for serial UPSes and inverters (Megatec Q1 §4.1,
 * Voltronic QPIGS §4.2): send the command every `pollMs`, never pipelined
 * (§4.1 "send, wait for CR or timeout, then send the next"), and detect
 * trouble actively (style guide lesson 15; the `close` event on USB unplug is
 * platform-dependent):
 *   - no reply within `timeoutMs` = a miss; a reply after that is "late" and
 *     dropped (we cannot tell which poll it answers);
 *   - no good reading for `staleAfterMs` → link `stale` (NUT COMMBAD);
 *   - `reopenAfterMisses` misses in a row → close and reopen the port
 *     (openSerialDevice) with a doubling back-off, since a wedged USB-serial
 *     adapter often only recovers when re-opened.
 * Timers are plain setTimeout so tests drive them with fake timers.
 */
import type { Logger } from "../../../protocol/clock.ts";
import type { Framer } from "../devices/frame.ts";
import { openSerialDevice, type SerialDevice } from "../serial/serial-device.ts";
import type { PowerReading } from "./reading.ts";
import type { PowerLink } from "./state.ts";

export type PollDecode = (frame: Uint8Array) => { ok: true; reading: PowerReading } | { ok: false; code: string; detail: string };

export interface SerialPollerOptions {
  id: string;
  path: string;
  baudRate: number;
  command: Uint8Array;
  framer: () => Framer;
  decode: PollDecode;
  pollMs: number;
  /** Reply deadline (default min(1500, pollMs - 1); 47 bytes take ≈0.2 s at 2400 baud, §0.3). */
  timeoutMs?: number;
  staleAfterMs: number;
  reopenAfterMisses?: number;
  reopenBackoff?: { initialMs?: number; maxMs?: number };
  /** Passed to openSerialDevice (open-failure back-off). */
  openBackoff?: { initialMs?: number; maxMs?: number };
  logger: Logger;
  binding?: unknown;
  onReading(r: PowerReading): void;
  onLink(link: Exclude<PowerLink, "ok">): void;
}

export interface PollerCounters {
  polls: number;
  replies: number;
  misses: number;
  late: number;
  errors: Record<string, number>;
  reopens: number;
}

export interface Poller {
  readonly counters: PollerCounters;
  /** ok = fresh readings; degraded = stale; down = port closed; unknown = open, no reading yet. */
  health(): "ok" | "degraded" | "down" | "unknown";
  close(): Promise<void>;
}

export async function startSerialPoller(o: SerialPollerOptions): Promise<Poller> {
  const log = o.logger.child({ ns: "edge:power", device: o.id });
  const timeoutMs = o.timeoutMs ?? Math.max(1, Math.min(1500, o.pollMs - 1));
  const reopenAfter = o.reopenAfterMisses ?? 3;
  const rInit = o.reopenBackoff?.initialMs ?? 1000;
  const rMax = o.reopenBackoff?.maxMs ?? 60_000;
  const counters: PollerCounters = { polls: 0, replies: 0, misses: 0, late: 0, errors: {}, reopens: 0 };
  let dev: SerialDevice | null = null;
  let awaiting = false;
  let consecutiveMisses = 0;
  let reopenDelay = rInit;
  let link: PowerLink = "none";
  let stopped = false;
  let pollTimer: NodeJS.Timeout | null = null;
  let replyTimer: NodeJS.Timeout | null = null;
  let staleTimer: NodeJS.Timeout | null = null;
  let reopenTimer: NodeJS.Timeout | null = null;

  const armStale = () => {
    if (staleTimer) clearTimeout(staleTimer);
    staleTimer = setTimeout(() => {
      staleTimer = null;
      if (link === "ok") {
        link = "stale";
        log.warn({ afterMs: o.staleAfterMs }, "power link stale (no good reading)");
        o.onLink("stale");
      }
    }, o.staleAfterMs);
  };

  const onFrame = (bytes: Uint8Array) => {
    if (!awaiting) {
      counters.late++; // an answer after its deadline (or unsolicited): ambiguous, dropped
      return;
    }
    awaiting = false;
    if (replyTimer) clearTimeout(replyTimer);
    replyTimer = null;
    counters.replies++;
    const r = o.decode(bytes);
    if (!r.ok) {
      counters.errors[r.code] = (counters.errors[r.code] ?? 0) + 1;
      log.debug({ code: r.code, detail: r.detail }, "bad reply");
      miss();
      return;
    }
    consecutiveMisses = 0;
    reopenDelay = rInit;
    link = "ok";
    armStale();
    o.onReading(r.reading);
  };

  function miss(): void {
    counters.misses++;
    consecutiveMisses++;
    if (consecutiveMisses >= reopenAfter && !reopenTimer) {
      consecutiveMisses = 0;
      const wait = reopenDelay;
      reopenDelay = Math.min(rMax, reopenDelay * 2);
      log.warn({ inMs: wait }, "no valid reply; reopening the port");
      reopenTimer = setTimeout(() => {
        reopenTimer = null;
        void reopen();
      }, wait);
    }
  }

  async function open(): Promise<void> {
    const framer = o.framer();
    const d = await openSerialDevice({
      id: o.id,
      path: o.path,
      baudRate: o.baudRate,
      framer,
      logger: o.logger,
      binding: o.binding,
      ...(o.openBackoff ? { backoff: o.openBackoff } : {}),
    });
    d.onFrame((f) => onFrame(f.bytes));
    dev = d;
  }

  async function reopen(): Promise<void> {
    if (stopped) return;
    counters.reopens++;
    const old = dev;
    dev = null;
    awaiting = false;
    await old?.close().catch(() => undefined);
    if (!stopped) await open();
  }

  const poll = () => {
    pollTimer = setTimeout(poll, o.pollMs);
    if (awaiting || reopenTimer || !dev) return;
    if (!dev.write(o.command)) return; // port down: openSerialDevice is already reopening
    counters.polls++;
    awaiting = true;
    replyTimer = setTimeout(() => {
      replyTimer = null;
      if (!awaiting) return;
      awaiting = false;
      miss();
    }, timeoutMs);
  };

  await open();
  armStale(); // never-ok links stay "none"; the timer only matters once a reading arrived
  poll();

  return {
    counters,
    health() {
      if (!dev || dev.health() === "down") return "down";
      return link === "ok" ? "ok" : link === "stale" ? "degraded" : "unknown";
    },
    async close() {
      stopped = true;
      for (const t of [pollTimer, replyTimer, staleTimer, reopenTimer]) if (t) clearTimeout(t);
      await dev?.close();
      dev = null;
    },
  };
}
