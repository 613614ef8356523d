import type { Logger } from "../../../protocol/clock.ts";
import type { EventDraft } from "../../../protocol/events.ts";
import { lcusCommand } from "../devices/relay/lcus.ts";

/**
 * One door driven by an LCUS relay channel (device-protocols.md §8.1).
 *
 * Ordering rule: `unlock()` writes the relay bytes FIRST and records the
 * `unlocked` event after. The door must not wait for the disk: an outbox
 * append is an fsync'd SQLite commit (ms to tens of ms on an SD card), while
 * the decision budget is p99 < 150 ms from the last frame byte (reliability
 * matrix DA-1). The event is appended immediately afterwards in the same tick,
 * so a crash in between loses at most the record of an unlock that happened
 * — never lets a door open that a record claims was denied.
 *
 * A re-grant while unlocked extends the unlock window without another event.
 */
export interface DoorOptions {
  id: string;
  channel: number;
  unlockMs: number;
  /** Relay writer; returns false when the relay port is down. */
  write: (bytes: Uint8Array) => boolean;
  record: (draft: EventDraft) => void;
  logger: Logger;
  /** Told after every unlock (incl. extensions), e.g. so the door contact knows an opening is authorised. */
  onUnlocked?: () => void;
}

export interface Door {
  readonly id: string;
  unlock(): boolean;
  isUnlocked(): boolean;
  /** Re-send the desired relay state (after the relay port reopens: board powers up off, §8.1). */
  resync(): void;
  close(): void;
}

export function createDoor(opts: DoorOptions): Door {
  const log = opts.logger.child({ ns: "edge:door", door: opts.id });
  let unlocked = false;
  let timer: NodeJS.Timeout | null = null;
  const lock = () => {
    timer = null;
    unlocked = false;
    if (!opts.write(lcusCommand(opts.channel, false))) log.warn({}, "relay down while locking");
    opts.record({ type: "door", door: opts.id, state: "locked" });
  };
  return {
    id: opts.id,
    unlock() {
      const ok = opts.write(lcusCommand(opts.channel, true));
      if (!ok) log.warn({}, "relay down: cannot unlock");
      if (timer) clearTimeout(timer);
      timer = setTimeout(lock, opts.unlockMs);
      if (!unlocked) {
        unlocked = true;
        opts.record({ type: "door", door: opts.id, state: "unlocked" });
      }
      opts.onUnlocked?.();
      return ok;
    },
    isUnlocked: () => unlocked,
    resync() {
      opts.write(lcusCommand(opts.channel, unlocked));
    },
    close() {
      if (timer) {
        clearTimeout(timer);
        lock();
      }
    },
  };
}
