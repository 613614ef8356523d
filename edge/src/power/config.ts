/**
 * `power:` section of the center config (issue 3 "Power"): one entry per
 * UPS / inverter / NUT UPS. `role: generator` marks a device whose utility
 * presence means "the generator runs" (e.g. a small UPS or inverter on the
 * generator-only circuit, or a NUT dummy driven by a generator contact); a
 * Q1/QPIGS unit cannot tell mains from generator by itself.
 */
import { z } from "zod";
import { DeviceId } from "../../../protocol/ids.ts";

const ms = (min: number, max: number) =>
  z.number().int().min(min, `must be between ${min} and ${max} milliseconds`).max(max, `must be between ${min} and ${max} milliseconds`);

const common = {
  id: DeviceId,
  role: z.enum(["ups", "generator"]).default("ups"),
  /** Poll interval; NUT's own default is 2 s (§4.1). */
  pollMs: ms(100, 600_000).default(2000),
  /** No good reading for this long → link stale (COMMBAD). */
  staleAfterMs: ms(200, 3_600_000).default(10_000),
  /** Periodic metrics sample (0 = transitions only). */
  sampleMs: ms(0, 86_400_000).default(60_000),
};
const serial = {
  path: z.string().min(1),
  baudRate: z.number().int().positive().default(2400), // §4.1/§4.2: 2400 8N1
  /** Reply deadline; default min(1500, pollMs - 1). */
  timeoutMs: ms(10, 60_000).optional(),
  /** Consecutive missed/invalid replies before the port is reopened. */
  reopenAfterMisses: z.number().int().min(1).max(1000).default(3),
};

export const PowerDeviceConfig = z.discriminatedUnion("type", [
  z
    .object({
      type: z.literal("megatec"),
      ...common,
      ...serial,
      /** Q1 has no charge %: linear estimate between these battery voltages (as reported: per cell or pack). */
      battery: z.object({ emptyV: z.number().positive(), fullV: z.number().positive() }).strict().optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal("qpigs"),
      ...common,
      ...serial,
      /** PI30 has no low-battery flag: LB when capacity (field 11) is at or below this. */
      lowBatteryPct: z.number().min(0).max(100).default(20),
    })
    .strict(),
  z
    .object({
      type: z.literal("nut"),
      ...common,
      host: z.string().min(1).default("127.0.0.1"),
      port: z.number().int().min(1).max(65535).default(3493),
      ups: z.string().regex(/^[A-Za-z0-9_.-]+$/, "must be a NUT UPS name"),
    })
    .strict(),
]);
export type PowerDeviceConfig = z.infer<typeof PowerDeviceConfig>;
export const PowerConfig = z.array(PowerDeviceConfig).default([]);
