/**
 * The door contacts of a sim center (wired into center.ts): one reed switch on
 * a bridge pty `contact-<door>` per door whose spec has `contact`, writing
 * ground truth for every real movement. When the door's relay turns ON (a
 * grant), the member walks through: the door opens after `walk.afterMs` and
 * closes `walk.openMs` later (default 500 / 2000 ms); a re-grant during a walk
 * does not start a second one. Forced-open, held-open and flap are methods of
 * SimDoorContact (`center.devices.contacts[door].contact.forceOpen()` …).
 */
import type { PtyPair } from "../pty.ts";
import type { GroundTruth } from "../ground-truth.ts";
import { SimDoorContact } from "./door-contact.ts";

export interface SimContactSpec {
  /** Bridge input number (default 1); the edge's `contact.input` must match. */
  input?: number;
  /** Keep-alive period in ms (default 5000); the edge's `contact.repeatS` must match. */
  repeatMs?: number;
  /** Walk-through timing after a grant; `false` = nobody walks (only explicit moves). */
  walk?: { afterMs?: number; openMs?: number } | false;
}

export interface SimContactEntry {
  hostPath: string;
  contact: SimDoorContact;
  pty: PtyPair;
  spec: SimContactSpec;
}

type Plug = <T>(name: string, open: (devicePath: string) => Promise<T>) => Promise<{ pty: PtyPair; dev: T }>;

export function createContactPlant(o: { plug: Plug; groundTruth: GroundTruth }) {
  const contacts: Record<string, SimContactEntry> = {};
  const walking = new Set<string>();
  const plugContact = async (door: string, spec: SimContactSpec): Promise<SimContactEntry> => {
    const { pty, dev } = await o.plug(`contact-${door}`, (p) =>
      SimDoorContact.open({
        path: p,
        ...(spec.input !== undefined ? { input: spec.input } : {}),
        ...(spec.repeatMs !== undefined ? { repeatMs: spec.repeatMs } : {}),
        onChange: (open, cause) => o.groundTruth.write({ kind: "door", door, open, cause }),
      }),
    );
    return { hostPath: pty.hostPath, contact: dev, pty, spec };
  };
  return {
    contacts,
    async add(door: string, spec: SimContactSpec): Promise<void> {
      contacts[door] = await plugContact(door, spec);
    },
    /** Relay command for a door's channel: ON = a grant, so the member walks through. */
    onRelay(door: string, on: boolean): void {
      const e = contacts[door];
      if (!on || !e || e.spec.walk === false || walking.has(door)) return;
      walking.add(door);
      e.contact
        .walkThrough(e.spec.walk ?? {})
        .catch(() => undefined)
        .finally(() => walking.delete(door));
    },
    async unplug(door: string): Promise<void> {
      const e = contacts[door];
      if (!e) return;
      await e.contact.close();
      await e.pty.kill9();
    },
    async replug(door: string): Promise<void> {
      const e = contacts[door];
      if (!e) return;
      Object.assign(e, await plugContact(door, e.spec));
    },
    async stop(): Promise<void> {
      for (const e of Object.values(contacts)) {
        await e.contact.close().catch(() => undefined);
        await e.pty.stop().catch(() => undefined);
      }
    },
  };
}
export type ContactPlant = ReturnType<typeof createContactPlant>;
