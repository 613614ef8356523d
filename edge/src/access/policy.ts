import type { EdgeConfig } from "../config.ts";
import { parseHhMm, type AccessPolicy } from "./decide.ts";

/** Config → the pure rule inputs of decide.ts (HH:MM windows were validated by the config schema). */
export function accessPolicy(config: Pick<EdgeConfig, "access" | "capacity">): AccessPolicy {
  const w = (x: { from: string; to: string }) => ({ from: parseHhMm(x.from) ?? 0, to: parseHhMm(x.to) ?? 0 });
  return {
    schedules: { day: w(config.access.schedules.day), night: w(config.access.schedules.night) },
    capacity: config.capacity,
    capacityMode: config.access.capacityMode,
    staleAfterMs: config.access.staleAfterH * 3600_000,
  };
}
