/**
 * Polls one UPS through upsd (device-protocols.md §5): `LIST VAR <ups>` every
 * `pollMs`. §5.3 rule of thumb: DATA-STALE / DRIVER-NOT-CONNECTED mean
 * "communication lost" (link stale, NUT COMMBAD) — never "on battery"; both
 * clear by themselves when the driver comes back, so we keep polling. A lost
 * TCP connection reconnects with a doubling back-off, and the link goes stale
 * when there has been no good reading for `staleAfterMs`.
 */
import type { Logger } from "../../../protocol/clock.ts";
import { isHazriError } from "../../../protocol/errors.ts";
import { connectNut, type NutClient } from "./nut-client.ts";
import { fromNutVars, type PowerReading } from "./reading.ts";
import type { Poller, PollerCounters } from "./serial-poller.ts";
import type { PowerLink } from "./state.ts";

export interface NutPollerOptions {
  id: string;
  host: string;
  port: number;
  ups: string;
  pollMs: number;
  staleAfterMs: number;
  requestTimeoutMs?: number;
  backoff?: { initialMs?: number; maxMs?: number };
  logger: Logger;
  onReading(r: PowerReading): void;
  onLink(link: Exclude<PowerLink, "ok">): void;
}

export async function startNutPoller(o: NutPollerOptions): Promise<Poller & { lastVars(): Record<string, string> | null }> {
  const log = o.logger.child({ ns: "edge:power:nut", device: o.id, ups: o.ups });
  const initialMs = o.backoff?.initialMs ?? 500;
  const maxMs = o.backoff?.maxMs ?? 30_000;
  const counters: PollerCounters = { polls: 0, replies: 0, misses: 0, late: 0, errors: {}, reopens: 0 };
  let client: NutClient | null = null;
  let connecting = false;
  let delay = initialMs;
  let nextConnectAt = 0;
  let link: PowerLink = "none";
  let vars: Record<string, string> | null = null;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let staleTimer: NodeJS.Timeout | null = null;
  let inFlight = false;

  const goStale = (why: string) => {
    if (link === "stale") return;
    if (link === "none" && why === "timer") return;
    link = "stale";
    log.warn({ why }, "UPS link stale");
    o.onLink("stale");
  };
  const armStale = () => {
    if (staleTimer) clearTimeout(staleTimer);
    staleTimer = setTimeout(() => goStale("timer"), o.staleAfterMs);
  };
  const count = (code: string) => {
    counters.errors[code] = (counters.errors[code] ?? 0) + 1;
  };

  async function tick(): Promise<void> {
    if (stopped || inFlight) return;
    inFlight = true;
    try {
      if (!client || client.closed) {
        if (connecting || Date.now() < nextConnectAt) return;
        connecting = true;
        try {
          client = await connectNut({ host: o.host, port: o.port, timeoutMs: o.requestTimeoutMs ?? 5000 });
          counters.reopens++;
          delay = initialMs;
          log.info({ host: o.host, port: o.port }, "connected to upsd");
        } catch (e) {
          count(isHazriError(e) ? e.code : "DEVICE_OPEN_FAILED");
          nextConnectAt = Date.now() + delay;
          delay = Math.min(maxMs, delay * 2);
          if (counters.errors.DEVICE_OPEN_FAILED === 1) log.warn({ err: (e as Error).message }, "upsd unreachable; retrying with back-off");
          return;
        } finally {
          connecting = false;
        }
      }
      counters.polls++;
      try {
        const v = await client.listVar(o.ups);
        counters.replies++;
        vars = v;
        link = "ok";
        armStale();
        o.onReading(fromNutVars(v));
      } catch (e) {
        counters.misses++;
        const code = isHazriError(e) ? e.code : "DEVICE_PROTOCOL";
        count(code);
        if (code === "DEVICE_STALE" || code === "DEVICE_NOT_CONNECTED") goStale(code);
        else if (code === "CONFIG_INVALID") log.error({ err: (e as Error).message }, "upsd does not know this UPS (config error)");
        else {
          log.warn({ err: (e as Error).message }, "NUT request failed; reconnecting");
          client?.close();
          client = null;
          nextConnectAt = Date.now() + delay;
          delay = Math.min(maxMs, delay * 2);
        }
      }
    } finally {
      inFlight = false;
    }
  }

  const loop = () => {
    if (stopped) return;
    timer = setTimeout(loop, o.pollMs);
    void tick();
  };
  loop();

  return {
    counters,
    lastVars: () => vars,
    health() {
      if (!client || client.closed) return link === "none" ? "down" : link === "stale" ? "degraded" : "ok";
      return link === "ok" ? "ok" : link === "stale" ? "degraded" : "unknown";
    },
    async close() {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (staleTimer) clearTimeout(staleTimer);
      client?.close();
      client = null;
    },
  };
}
