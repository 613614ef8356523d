import { z } from "zod";
import { normalize, subtract } from "./intervals.ts";
import type { Interval } from "./intervals.ts";

/**
 * Operating hours in Asia/Karachi (PKT). Pakistan has used UTC+05:00 without
 * daylight saving since 2009 (DST was last observed in 2008 and 2009), so a
 * fixed offset is exact for every period Hazri reports on; calendar.test.ts
 * checks it against the platform's tz database (Intl) for 2010–2040.
 */
export const PKT_OFFSET_MS = 5 * 3_600_000;
const DAY = 86_400_000;

const Hhmm = z.string().regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/, "expected HH:MM (24 h; 24:00 allowed as a close time)");
const LocalDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "expected YYYY-MM-DD");
const LocalDateTime = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/, "expected local time YYYY-MM-DDTHH:MM[:SS] (PKT)");
export const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** One opening span; close <= open means it runs past midnight into the next day. */
const Span = z.object({ open: Hhmm, close: Hhmm }).strict();
const Window = z.object({ from: LocalDateTime, to: LocalDateTime, reason: z.string().max(200).default("") }).strict();

export const CalendarSpec = z
  .object({
    /** Weekly schedule; a missing day is closed. */
    weekly: z.partialRecord(z.enum(WEEKDAYS), z.array(Span).max(4)),
    /** Public holidays (whole local days closed); not operating time at all. */
    holidays: z.array(LocalDate).max(400).default([]),
    /** Declared closures: operating time, but excluded in the "with exclusions" figures. */
    closures: z.array(Window).max(1000).default([]),
    /** Published load-shedding windows (optional); excluded like closures when `excludeLoadShedding`. */
    loadShedding: z.array(Window).max(5000).default([]),
    /** A daily published load-shedding slot (e.g. a feeder's fixed 14:00–16:00), local time. */
    loadSheddingDaily: z.array(Span).max(12).default([]),
  })
  .strict();
export type CalendarSpec = z.output<typeof CalendarSpec>;

const minutes = (hhmm: string): number => {
  const [h, m] = hhmm.split(":").map(Number) as [number, number];
  return h * 60 + m;
};

/** Epoch ms of a PKT local date-time string. */
export function pktToUtc(local: string): number {
  const t = Date.parse(`${local.length === 10 ? `${local}T00:00` : local}Z`);
  if (Number.isNaN(t)) throw new RangeError(`not a local date/time: ${local}`);
  return t - PKT_OFFSET_MS;
}

/** `YYYY-MM` → the PKT month as epoch ms `[start, end)`. */
export function monthPeriod(month: string): Interval {
  const m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(month);
  if (!m) throw new RangeError(`month must be YYYY-MM, got ${JSON.stringify(month)}`);
  const y = Number(m[1]);
  const mo = Number(m[2]);
  return { start: Date.UTC(y, mo - 1, 1) - PKT_OFFSET_MS, end: Date.UTC(y, mo, 1) - PKT_OFFSET_MS };
}

/** PKT local parts of an instant. */
export function pktParts(t: number): { date: string; weekday: number; hour: number; minuteOfDay: number } {
  const d = new Date(t + PKT_OFFSET_MS);
  return {
    date: d.toISOString().slice(0, 10),
    weekday: d.getUTCDay(),
    hour: d.getUTCHours(),
    minuteOfDay: d.getUTCHours() * 60 + d.getUTCMinutes(),
  };
}

/** Local midnights (epoch ms) of every day that overlaps `[from, to)`, starting the day before (overnight spans). */
function localDays(p: Interval): number[] {
  const first = Math.floor((p.start + PKT_OFFSET_MS) / DAY) * DAY - PKT_OFFSET_MS - DAY;
  const out: number[] = [];
  for (let d = first; d < p.end; d += DAY) out.push(d);
  return out;
}

function dailySpans(spans: readonly { open: string; close: string }[], midnight: number): Interval[] {
  return spans.map((s) => {
    const o = minutes(s.open);
    let c = minutes(s.close);
    if (c <= o) c += 24 * 60;
    return { start: midnight + o * 60_000, end: midnight + c * 60_000 };
  });
}

export interface OperatingCalendar {
  /** Scheduled operating time minus public holidays (an overnight span belongs to the day it opens). */
  operating: Interval[];
  closures: Interval[];
  loadShedding: Interval[];
}

export function operatingCalendar(spec: CalendarSpec, p: Interval): OperatingCalendar {
  const holidays = new Set(spec.holidays);
  const open: Interval[] = [];
  const shed: Interval[] = [];
  for (const midnight of localDays(p)) {
    const { date, weekday } = pktParts(midnight);
    shed.push(...dailySpans(spec.loadSheddingDaily, midnight));
    if (holidays.has(date)) continue;
    open.push(...dailySpans(spec.weekly[WEEKDAYS[weekday] as Weekday] ?? [], midnight));
  }
  const win = (w: { from: string; to: string }) => ({ start: pktToUtc(w.from), end: pktToUtc(w.to) });
  const clipP = (xs: Interval[]) => subtract(normalize(xs), [{ start: -8.64e15, end: p.start }, { start: p.end, end: 8.64e15 }]);
  return {
    operating: clipP(open),
    closures: clipP(spec.closures.map(win)),
    loadShedding: clipP([...shed, ...spec.loadShedding.map(win)]),
  };
}
