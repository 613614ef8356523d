import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { HazriError } from "../../../protocol/errors.ts";
import { CenterId } from "../../../protocol/ids.ts";
import { CalendarSpec } from "./calendar.ts";

/**
 * SLA and occupancy report settings (docs/sla.md defines every term). One file
 * for the network: defaults plus per-center overrides. Thresholds are here, not
 * in code, so PSEB can change a target without a release.
 */
/** The default weekly schedule: 09:00–21:00 every day. */
export const DEFAULT_WEEKLY: CalendarSpec["weekly"] = Object.fromEntries(
  (["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const).map((d) => [d, [{ open: "09:00", close: "21:00" }]]),
);

const CenterSla = z
  .object({
    name: z.string().max(200).optional(),
    /** Replaces the default calendar's weekly schedule when given. */
    calendar: CalendarSpec.partial().optional(),
    /** Seats and zones for utilization (seat ids → zone); when absent, seats seen in the data are used. */
    seats: z.record(z.string(), z.string()).optional(),
  })
  .strict();

export const SlaConfig = z
  .object({
    /** Serviceable availability a center must reach (percent of known operating time). */
    targetPct: z.number().min(0).max(100).default(99),
    /** Below this data completeness (percent of operating time with evidence) a center is flagged too. */
    minCompletenessPct: z.number().min(0).max(100).default(95),
    /** The edges' heartbeat interval (edge config uplink.heartbeatS). */
    heartbeatS: z.number().int().min(1).max(3600).default(30),
    /**
     * The edges' MQTT keepalive (edge config uplink.keepaliveS): a WAN drop noticed sooner than this after
     * the last packet from the broker was a reset/closed socket, placed at the moment the edge noticed;
     * later, at a keepalive timeout, it is placed at the last packet (docs/sla.md, Internet).
     */
    keepaliveS: z.number().int().min(1).max(600).default(15),
    /** A gap longer than this many heartbeat intervals with no event is "no evidence" (edge dark). */
    evidenceGapFactor: z.number().min(1).max(100).default(3),
    /**
     * When the edge goes dark right after reporting `low_battery`, count the dark
     * time as power down (cause ups_exhausted) instead of unknown: the edge sits on
     * the same UPS, so its silence is the shutdown the battery warned of.
     */
    inferUpsExhausted: z.boolean().default(true),
    /** Whether the "with exclusions" figures also exclude the published load-shedding windows. */
    excludeLoadShedding: z.boolean().default(true),
    /** Outages shorter than this are still counted in time, but not listed or counted as incidents. */
    minOutageS: z.number().min(0).max(3600).default(0),
    /** The network's calendar; `weekly` defaults to 09:00–21:00 every day. */
    calendar: CalendarSpec.extend({ weekly: CalendarSpec.shape.weekly.default(DEFAULT_WEEKLY) }).default({
      weekly: DEFAULT_WEEKLY,
      holidays: [],
      closures: [],
      loadShedding: [],
      loadSheddingDaily: [],
    }),
    centers: z.record(CenterId, CenterSla).default({}),
    occupancy: z
      .object({
        /** A granted check-in with no seat occupied in the center within this long is a ghost check-in. */
        ghostAfterMin: z.number().min(1).max(24 * 60).default(120),
        /** Badged-in members are counted present until their "out" badge or this long (auto check-out). */
        presenceMaxH: z.number().min(1).max(48).default(12),
      })
      .strict()
      .default({ ghostAfterMin: 120, presenceMaxH: 12 }),
  })
  .strict();
export type SlaConfig = z.output<typeof SlaConfig>;

/** The calendar of one center: the network default with the center's fields replacing it. */
export function centerCalendar(cfg: SlaConfig, centerId: string): CalendarSpec {
  const o = cfg.centers[centerId]?.calendar ?? {};
  return {
    weekly: o.weekly ?? cfg.calendar.weekly,
    holidays: [...cfg.calendar.holidays, ...(o.holidays ?? [])],
    closures: [...cfg.calendar.closures, ...(o.closures ?? [])],
    loadShedding: [...cfg.calendar.loadShedding, ...(o.loadShedding ?? [])],
    loadSheddingDaily: o.loadSheddingDaily ?? cfg.calendar.loadSheddingDaily,
  };
}

export function parseSlaConfig(raw: unknown, source = "sla config"): SlaConfig {
  const r = SlaConfig.safeParse(raw ?? {});
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
  throw new HazriError("CONFIG_INVALID", `${source}: ${issues.join("; ")}`, issues);
}

export async function loadSlaConfig(file: string): Promise<SlaConfig> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw new HazriError("CONFIG_NOT_FOUND", `cannot read ${file}: ${(e as Error).message}`, { file }, { cause: e });
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new HazriError("CONFIG_PARSE", `${file}: ${(e as Error).message}`, { file }, { cause: e });
  }
  return parseSlaConfig(raw, file);
}

