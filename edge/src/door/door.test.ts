import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createDoor } from "./door.ts";
import { toHex } from "../devices/frame.ts";
import { silentLogger } from "../../../protocol/clock.ts";
import type { EventDraft } from "../../../protocol/events.ts";

describe("door", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("relay ON before the unlocked event; OFF + locked after unlockMs; re-grant extends", async () => {
    const log: string[] = [];
    const door = createDoor({
      id: "main",
      channel: 1,
      unlockMs: 3000,
      write: (b) => (log.push(`relay ${toHex(b)}`), true),
      record: (d: EventDraft) => void log.push(`event ${d.type}:${"state" in d ? d.state : ""}`),
      logger: silentLogger,
    });
    door.unlock();
    expect(log).toEqual(["relay a00101a2", "event door:unlocked"]);
    await vi.advanceTimersByTimeAsync(2000);
    door.unlock(); // extends to t=5000
    await vi.advanceTimersByTimeAsync(2999);
    expect(door.isUnlocked()).toBe(true);
    expect(log).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1);
    expect(log.slice(3)).toEqual(["relay a00100a1", "event door:locked"]);
    expect(door.isUnlocked()).toBe(false);
  });
  it("close() while unlocked locks the door", () => {
    const writes: string[] = [];
    const door = createDoor({ id: "d", channel: 2, unlockMs: 1000, write: (b) => (writes.push(toHex(b)), true), record: () => {}, logger: silentLogger });
    door.unlock();
    door.close();
    expect(writes).toEqual(["a00201a3", "a00200a2"]);
  });
});
