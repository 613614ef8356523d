import { describe, expect, it } from "vitest";
import { CalendarSpec, monthPeriod, operatingCalendar, PKT_OFFSET_MS, pktToUtc } from "./calendar.ts";
import { total } from "./intervals.ts";

const H = 3_600_000;

describe("PKT calendar", () => {
  it("fixed UTC+5 agrees with the tz database for Asia/Karachi, 2010–2040", () => {
    const fmt = new Intl.DateTimeFormat("en-US", { timeZone: "Asia/Karachi", timeZoneName: "longOffset" });
    for (let t = Date.UTC(2010, 0, 1); t < Date.UTC(2040, 0, 1); t += 37 * 86_400_000) {
      const off = fmt.formatToParts(new Date(t)).find((p) => p.type === "timeZoneName")?.value;
      expect(off, new Date(t).toISOString()).toBe("GMT+05:00");
    }
    expect(PKT_OFFSET_MS).toBe(5 * H);
  });

  it("a month is PKT midnight to PKT midnight", () => {
    const p = monthPeriod("2026-03");
    expect(new Date(p.start).toISOString()).toBe("2026-02-28T19:00:00.000Z");
    expect(new Date(p.end).toISOString()).toBe("2026-03-31T19:00:00.000Z");
    expect(() => monthPeriod("2026-13")).toThrow(RangeError);
  });

  it("weekly schedule, overnight span, holiday and closures", () => {
    const spec = CalendarSpec.parse({
      weekly: { mon: [{ open: "09:00", close: "17:00" }], tue: [{ open: "20:00", close: "04:00" }] },
      holidays: ["2026-03-09"], // a Monday
      closures: [{ from: "2026-03-16T10:00", to: "2026-03-16T12:00", reason: "fumigation" }],
      loadSheddingDaily: [{ open: "14:00", close: "15:00" }],
    });
    const cal = operatingCalendar(spec, monthPeriod("2026-03"));
    // March 2026: Mondays 2, 9 (holiday), 16, 23, 30 → 4 × 8 h; Tuesdays 3, 10, 17, 24, 31 → 5 × 8 h,
    // but the span opening on Tue 31 at 20:00 is cut at the month end (midnight) → 4 h.
    expect(total(cal.operating)).toBe(4 * 8 * H + 4 * 8 * H + 4 * H);
    expect(cal.operating[0]).toEqual({ start: pktToUtc("2026-03-02T09:00"), end: pktToUtc("2026-03-02T17:00") });
    expect(cal.closures).toEqual([{ start: pktToUtc("2026-03-16T10:00"), end: pktToUtc("2026-03-16T12:00") }]);
    expect(total(cal.loadShedding)).toBe(31 * H);
  });
});
