import type { Clock } from "../../../../protocol/clock.ts";

/**
 * Presentation de-duplication (device-protocols.md §1.3). The module re-sends
 * the same frame as long as the tag stays in the field; one "presentation" is
 * the first frame plus its repeats. A card is considered removed after
 * `removeAfterMs` (default 500 ms, §1.3 recommendation) without a frame; the
 * same card seen after that is a new presentation. A different card is always
 * a new presentation. Uses the injected monotonic clock (wall time can jump).
 */
export interface PresentationTracker {
  /** Feed one decoded card id; "new" = emit a tag event, "repeat" = keep-alive. */
  observe(cardId: string): "new" | "repeat";
  /** Card currently believed to be in the field, if any. */
  current(): string | null;
}

export function createPresentationTracker(opts: { clock: Clock; removeAfterMs?: number }): PresentationTracker {
  const removeAfterMs = opts.removeAfterMs ?? 500;
  let card: string | null = null;
  let lastSeen = -Infinity;
  return {
    observe(cardId) {
      const now = opts.clock.mono();
      const same = card === cardId && now - lastSeen <= removeAfterMs;
      card = cardId;
      lastSeen = now;
      return same ? "repeat" : "new";
    },
    current() {
      return card !== null && opts.clock.mono() - lastSeen <= removeAfterMs ? card : null;
    },
  };
}
