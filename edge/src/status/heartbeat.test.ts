import { afterEach, describe, expect, it, vi } from "vitest";
import type { EventDraft } from "../../../protocol/events.ts";
import { startHeartbeat } from "./heartbeat.ts";

describe("heartbeat", () => {
  afterEach(() => vi.useRealTimers());
  it("every interval, with depth, devices, rtt, cache version, coalesced, replay and clock offset", async () => {
    vi.useFakeTimers();
    let mono = 1000;
    const out: EventDraft[] = [];
    let depth = 5;
    const hb = startHeartbeat({
      intervalS: 30,
      clock: { now: () => 0, mono: () => mono },
      record: (d) => out.push(d),
      fields: () => ({
        outboxDepth: depth,
        devices: { main: "ok" },
        uplinkRttMs: 12,
        cacheVersion: 7,
        coalesced: 3,
        replay: { active: true, remaining: depth, ackedPerS: 900 },
        clockOffsetMs: -250,
      }),
    });
    await vi.advanceTimersByTimeAsync(29_999);
    expect(out).toHaveLength(0);
    mono += 30_000;
    depth = 4;
    await vi.advanceTimersByTimeAsync(1);
    expect(out).toEqual([
      { type: "heartbeat", outboxDepth: 4, devices: { main: "ok" }, uplinkRttMs: 12, cacheVersion: 7, coalesced: 3, replay: { active: true, remaining: 4, ackedPerS: 900 }, clockOffsetMs: -250, uptimeS: 30 },
    ]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(out).toHaveLength(3);
    hb.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(out).toHaveLength(3);
  });
});
