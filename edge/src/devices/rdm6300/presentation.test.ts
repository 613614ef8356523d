import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createPresentationTracker } from "./presentation.ts";

describe("presentation de-dup (§1.3)", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());
  const clock = { now: () => Date.now(), mono: () => Date.now() };

  it("repeats every 100 ms while held are one presentation; a return after 500 ms is new", async () => {
    const t = createPresentationTracker({ clock });
    expect(t.observe("62E3086CED")).toBe("new");
    for (let i = 0; i < 5; i++) {
      await vi.advanceTimersByTimeAsync(100);
      expect(t.observe("62E3086CED")).toBe("repeat");
    }
    expect(t.current()).toBe("62E3086CED");
    await vi.advanceTimersByTimeAsync(501);
    expect(t.current()).toBeNull();
    expect(t.observe("62E3086CED")).toBe("new");
  });
  it("a different card is a new presentation at once", () => {
    const t = createPresentationTracker({ clock });
    expect(t.observe("62E3086CED")).toBe("new");
    expect(t.observe("01026F6C3A")).toBe("new");
    expect(t.observe("62E3086CED")).toBe("new");
  });
  it("exactly 500 ms gap is still the same presentation; configurable timeout", async () => {
    const t = createPresentationTracker({ clock, removeAfterMs: 200 });
    t.observe("AA");
    await vi.advanceTimersByTimeAsync(200);
    expect(t.observe("AA")).toBe("repeat");
    await vi.advanceTimersByTimeAsync(201);
    expect(t.observe("AA")).toBe("new");
  });
});
