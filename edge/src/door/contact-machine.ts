/**
 * Pure door-contact state machine (style guide lesson 8: literal unions, a pure
 * transition function, timers and I/O outside). Derives the alarms of
 * device-protocols.md §8.2 from the reed switch and the door's own unlocks:
 *   forced_open — opened with no unlock in the window before (`unlock` input
 *                 sets the window: unlock time + unlockMs + grace);
 *   held_open   — open for `heldOpenMs` or longer (once per opening).
 * Times are the edge's monotonic milliseconds (wall time can jump, §0.7).
 *
 * Fail-safe doors (edge/README.md "Fail-secure and fail-safe doors"): a
 * maglock releases when its power is cut, so an opening while the lock is
 * unpowered (`lockUnpowered` on the contact input) is NOT forced; a
 * fail-secure strike stays locked without power, so such an opening is forced.
 *
 * The first report after start (state `unknown`) is never forced: we do not
 * know how the door came to be open, and the edge may have just restarted.
 */
export type DoorAlarm = "opened" | "closed" | "forced_open" | "held_open";

export interface ContactConfig {
  heldOpenMs: number;
  failMode: "secure" | "safe";
}

export interface ContactState {
  door: "open" | "closed" | "unknown";
  openedAt: number | null;
  heldReported: boolean;
  /** Openings up to this monotonic time are authorised by an unlock. */
  authorisedUntil: number;
}

export type ContactInput =
  | { type: "contact"; open: boolean; at: number; lockUnpowered?: boolean }
  /** The door was unlocked (grant); openings until `at + windowMs` are not forced. */
  | { type: "unlock"; at: number; windowMs: number }
  /** The contact's link is gone (liveness): the door state is unknown again. */
  | { type: "lost"; at: number }
  | { type: "tick"; at: number };

export const initialContactState = (): ContactState => ({
  door: "unknown",
  openedAt: null,
  heldReported: false,
  authorisedUntil: -Infinity,
});

export function stepContact(s: ContactState, input: ContactInput, cfg: ContactConfig): { state: ContactState; out: DoorAlarm[] } {
  const out: DoorAlarm[] = [];
  let next: ContactState = { ...s };
  switch (input.type) {
    case "unlock":
      next.authorisedUntil = Math.max(s.authorisedUntil, input.at + input.windowMs);
      break;
    case "lost":
      next = { ...next, door: "unknown", openedAt: null, heldReported: false };
      break;
    case "contact":
      if (input.open && s.door !== "open") {
        out.push("opened");
        const releasedByFailure = cfg.failMode === "safe" && input.lockUnpowered === true;
        if (s.door === "closed" && input.at > s.authorisedUntil && !releasedByFailure) out.push("forced_open");
        next = { ...next, door: "open", openedAt: input.at, heldReported: false };
      } else if (!input.open && s.door !== "closed") {
        out.push("closed");
        next = { ...next, door: "closed", openedAt: null, heldReported: false };
      }
      break;
    case "tick":
      break;
  }
  if (next.door === "open" && next.openedAt !== null && !next.heldReported && input.at - next.openedAt >= cfg.heldOpenMs) {
    out.push("held_open");
    next.heldReported = true;
  }
  return { state: next, out };
}

/** Monotonic time at which a `tick` would produce `held_open`, or null if none is pending. */
export function nextDeadline(s: ContactState, cfg: ContactConfig): number | null {
  return s.door === "open" && s.openedAt !== null && !s.heldReported ? s.openedAt + cfg.heldOpenMs : null;
}
