import type { Clock, Logger } from "../../../protocol/clock.ts";
import type { EventDraft } from "../../../protocol/events.ts";
import { initialContactState, nextDeadline, stepContact, type ContactConfig, type ContactInput, type ContactState } from "./contact-machine.ts";

/**
 * Runs the pure contact machine (contact-machine.ts) against the injected
 * monotonic clock and one timer for the held-open deadline, and records
 * `door` events (protocol/events.ts DoorEvent states opened / closed /
 * forced_open / held_open). Door events are "never dropped" outbox class.
 */
export interface DoorContact {
  /** A decoded contact level (true = open); repeats of the same level are keep-alives. */
  report(open: boolean): void;
  /** The door was unlocked by a grant: openings within `windowMs` are authorised. */
  unlocked(windowMs: number): void;
  /** The contact's link was lost: state unknown until the next report. */
  lost(): void;
  state(): ContactState["door"];
  close(): void;
}

export function createDoorContact(o: {
  door: string;
  config: ContactConfig;
  clock: Clock;
  record: (d: EventDraft) => void;
  logger: Logger;
  /** Is the lock without power right now (mains cut)? Consulted on each opening; matters for fail-safe doors. */
  lockUnpowered?: () => boolean;
}): DoorContact {
  const log = o.logger.child({ ns: "edge:door-contact", door: o.door });
  let s = initialContactState();
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

  const apply = (input: ContactInput) => {
    if (closed) return;
    const r = stepContact(s, input, o.config);
    s = r.state;
    for (const state of r.out) {
      o.record({ type: "door", door: o.door, state });
      if (state === "forced_open" || state === "held_open") log.warn({ state }, "door alarm");
    }
    schedule();
  };
  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    const due = nextDeadline(s, o.config);
    if (due === null) return;
    timer = setTimeout(() => {
      timer = null;
      apply({ type: "tick", at: Math.max(due, o.clock.mono()) });
    }, Math.max(0, due - o.clock.mono()));
  };

  return {
    report: (open) => apply({ type: "contact", open, at: o.clock.mono(), ...(open && o.lockUnpowered ? { lockUnpowered: o.lockUnpowered() } : {}) }),
    unlocked: (windowMs) => apply({ type: "unlock", windowMs, at: o.clock.mono() }),
    lost: () => {
      if (s.door !== "unknown") log.warn({}, "door contact lost: state unknown");
      apply({ type: "lost", at: o.clock.mono() });
    },
    state: () => s.door,
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}
