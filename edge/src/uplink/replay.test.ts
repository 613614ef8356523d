import { describe, expect, it } from "vitest";
import { silentLogger } from "../../../protocol/clock.ts";
import { createReplayTracker } from "./replay.ts";

describe("replay tracker", () => {
  it("is active only above the threshold, counts acks, and tells when it starts and ends", () => {
    const changes: boolean[] = [];
    const t = createReplayTracker({ threshold: 100, logger: silentLogger, onChange: (a) => changes.push(a) });
    t.onConnect(50, 0); // a small queue is no replay
    expect(t.progress(50).active).toBe(false);
    expect(changes).toEqual([]);
    t.onConnect(1000, 1000);
    expect(changes).toEqual([true]);
    t.onAck(500, 500, 1500);
    t.onAck(400, 100, 2000); // 100 ≤ threshold: done
    expect(changes).toEqual([true, false]);
    const p = t.progress(100);
    expect(p).toMatchObject({ active: false, acked: 900 });
    expect(p.ackedPerS).toBeGreaterThan(0);
    t.onConnect(1000, 3000); // a reconnect with a backlog again is a new replay
    expect(changes).toEqual([true, false, true]);
    expect(t.progress(1000).acked).toBe(0);
  });
});
