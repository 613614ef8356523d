/**
 * The power state machine, pure (style guide lesson 8): inputs are readings,
 * link changes and the generator contact; the output is the centre's power
 * source plus the link health. Timers and I/O live in monitor.ts.
 *
 * Rules (issue 3 "Power"):
 * - a link that is stale or was never up is its own state (NUT COMMBAD):
 *   source `unknown`, never "fine" (mains) and never "down";
 * - OFF (output off / battery exhausted) → `down`;
 * - FSD, or OB with LB → `low_battery` (§5.4: "FSD ... treat like OB LB");
 * - OB → `battery`;
 * - OL → `generator` when the configured generator input says it runs, else `mains`;
 * - a reading with neither OL nor OB (e.g. NUT `WAIT`) → `unknown`.
 */
import type { PowerSource } from "../../../protocol/events.ts";
import type { PowerReading } from "./reading.ts";

export type PowerLink = "ok" | "stale" | "none";

export interface PowerState {
  source: PowerSource;
  link: PowerLink;
  /** Latest trustworthy reading (null until the first one, and while the link is not ok). */
  reading: PowerReading | null;
  /** From a generator-role device; null = no such input configured or not known. */
  generator: boolean | null;
}

export type PowerInput =
  | { kind: "reading"; reading: PowerReading }
  | { kind: "link"; link: Exclude<PowerLink, "ok"> }
  | { kind: "generator"; running: boolean | null };

export const initialPowerState: PowerState = { source: "unknown", link: "none", reading: null, generator: null };

export function deriveSource(link: PowerLink, reading: PowerReading | null, generator: boolean | null): PowerSource {
  if (link !== "ok" || reading === null) return "unknown";
  const s = new Set(reading.status);
  if (s.has("OFF")) return "down";
  if (s.has("FSD") || (s.has("OB") && s.has("LB"))) return "low_battery";
  if (s.has("OB")) return "battery";
  if (s.has("OL")) return generator === true ? "generator" : "mains";
  return "unknown";
}

/** Next state, and whether (source, link) changed — a transition the SLA ledger must record. */
export function stepPower(prev: PowerState, input: PowerInput): { next: PowerState; changed: boolean } {
  let next: PowerState;
  switch (input.kind) {
    case "reading":
      next = { ...prev, link: "ok", reading: input.reading };
      break;
    case "link":
      next = { ...prev, link: input.link, reading: null };
      break;
    case "generator":
      next = { ...prev, generator: input.running };
      break;
  }
  next.source = deriveSource(next.link, next.reading, next.generator);
  return { next, changed: next.source !== prev.source || next.link !== prev.link };
}

/** Generator-role device: its utility presence is the generator contact. */
export function generatorRunning(reading: PowerReading | null): boolean | null {
  if (reading === null) return null;
  const s = new Set(reading.status);
  if (s.has("OL") && !s.has("OFF")) return true;
  if (s.has("OB") || s.has("OFF")) return false;
  return null;
}
