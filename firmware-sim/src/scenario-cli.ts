/**
 * `hazri sim --scenario day` options: a people-shaped day (planCenterDay)
 * with a load-shedding schedule and internet drops, played by runScenario
 * against the center's devices, its power plant and (with --wan-target) a
 * net-proxy the edge's uplink must use. Kept out of cli.ts so the shared CLI
 * only wires it in.
 */
import type { SimCenter } from "./center.ts";
import { startNetProxy, type NetProxy } from "./faults/net-proxy.ts";
import { planCenterDay } from "./scenario-day.ts";
import { planInternet, planPower, type PowerPlanOptions } from "./scenario-power.ts";
import { runScenario, type RunScenarioSummary, type ScenarioStep } from "./scenario-run.ts";
import type { FaultAction } from "./faults/device-faults.ts";

export const SCENARIO_USAGE = `  --scenario <name>    flat (default: Poisson taps and seat changes) or day (people, power, internet)
  day scenario:
  --start-hour <h>     local hour at the start (default 6)
  --load-shedding <l>  blocks HH:MM/hours, comma-separated (default 10:00/2,16:00/2; "none" for none)
  --cuts-per-day <n>   unscheduled power cuts per day (default 1)
  --no-generator       no generator: the UPS runs down to low battery and down
  --drops-per-day <n>  internet drops per day, minutes to hours (default 2)
  --wan-target <h:p>   central broker: start a WAN proxy to it (print its URL for the edge's uplink.url)
                       and cut/restore it on internet drops; without it drops are ground truth only
  --tailgate <p>       chance a day member is followed in without a badge (default 0.03)
  --forgot <p>         chance a member leaves without tapping out (default 0.05)
  --full               every day visit in the morning peak: more people than seats
`;

/** parseArgs option specs to merge into the CLI's. */
export const scenarioArgSpec = {
  scenario: { type: "string" },
  "start-hour": { type: "string" },
  "load-shedding": { type: "string" },
  "cuts-per-day": { type: "string" },
  "no-generator": { type: "boolean" },
  "drops-per-day": { type: "string" },
  "wan-target": { type: "string" },
  tailgate: { type: "string" },
  forgot: { type: "string" },
  full: { type: "boolean" },
} as const;

export interface DayScenarioArgs {
  startHour: number;
  loadShedding: Array<{ at: string; hours: number }>;
  cutsPerDay: number;
  generator: boolean;
  dropsPerDay: number;
  wanTarget: { host: string; port: number } | null;
  tailgate: number;
  forgot: number;
  full: boolean;
}

type Values = Partial<Record<keyof typeof scenarioArgSpec, string | boolean | undefined>>;

/** null for the flat scenario; throws Error with a CLI message on a bad value. */
export function parseScenarioArgs(v: Values): DayScenarioArgs | null {
  const name = (v.scenario as string | undefined) ?? "flat";
  if (name !== "flat" && name !== "day") throw new Error("--scenario must be flat or day");
  if (name === "flat") return null;
  const num = (k: keyof typeof scenarioArgSpec, d: number, ok: (n: number) => boolean) => {
    const s = v[k] as string | undefined;
    if (s === undefined) return d;
    const n = Number(s);
    if (!Number.isFinite(n) || !ok(n)) throw new Error(`--${k} ${JSON.stringify(s)} is not valid`);
    return n;
  };
  const ls = (v["load-shedding"] as string | undefined) ?? "10:00/2,16:00/2";
  const loadShedding =
    ls === "none"
      ? []
      : ls.split(",").map((b) => {
          const m = /^(\d{1,2}:\d{2})\/(\d+(?:\.\d+)?)$/.exec(b.trim());
          if (!m) throw new Error(`--load-shedding block ${JSON.stringify(b)} must be HH:MM/hours`);
          return { at: m[1] as string, hours: Number(m[2]) };
        });
  let wanTarget: DayScenarioArgs["wanTarget"] = null;
  const wt = v["wan-target"] as string | undefined;
  if (wt !== undefined) {
    const m = /^(?:mqtt:\/\/)?([^:/]+):(\d{1,5})$/.exec(wt);
    if (!m) throw new Error("--wan-target must be host:port");
    wanTarget = { host: m[1] as string, port: Number(m[2]) };
  }
  const p01 = (n: number) => n >= 0 && n <= 1;
  return {
    startHour: num("start-hour", 6, (n) => n >= 0 && n < 24),
    loadShedding,
    cutsPerDay: num("cuts-per-day", 1, (n) => n >= 0),
    generator: v["no-generator"] !== true,
    dropsPerDay: num("drops-per-day", 2, (n) => n >= 0),
    wanTarget,
    tailgate: num("tailgate", 0.03, p01),
    forgot: num("forgot", 0.05, p01),
    full: v.full === true,
  };
}

/** The whole seeded plan of a day scenario (pure). */
export function planDayScenario(center: Pick<SimCenter, "config">, a: DayScenarioArgs, o: { seed: number; durationMs: number; startAt: number }): ScenarioStep[] {
  const powerOpts: PowerPlanOptions = {
    seed: o.seed,
    durationMs: o.durationMs,
    startHour: a.startHour,
    loadShedding: a.loadShedding,
    unscheduledPerDay: a.cutsPerDay,
    ...(a.generator ? {} : { generator: null }),
  };
  const power = planPower(powerOpts);
  const day = planCenterDay(center.config, {
    seed: o.seed,
    startAt: o.startAt,
    startHour: a.startHour,
    durationMs: o.durationMs,
    tailgateChance: a.tailgate,
    forgotCheckoutChance: a.forgot,
    full: a.full,
  });
  const net = planInternet({ seed: o.seed, durationMs: o.durationMs, dropsPerDay: a.dropsPerDay, power });
  return [...day, ...power, ...net].map((x, i) => ({ x, i })).sort((p, q) => p.x.at - q.x.at || p.i - q.i).map((p) => p.x);
}

/** Start the WAN proxy (if asked) before the edge is configured: its URL goes into the edge's uplink.url. */
export async function startScenarioWan(a: DayScenarioArgs | null): Promise<NetProxy | null> {
  return a?.wanTarget ? startNetProxy({ target: a.wanTarget }) : null;
}

export async function runDayScenario(
  center: SimCenter,
  a: DayScenarioArgs,
  o: { seed: number; speed: number; durationMs: number; signal?: AbortSignal; wan: NetProxy | null; faults?: readonly FaultAction[] },
): Promise<RunScenarioSummary> {
  const day = planDayScenario(center, a, { seed: o.seed, durationMs: o.durationMs, startAt: Date.now() });
  // Faults are steps of the same plan (stable by time: a fault at the same instant as a tap comes after it).
  const faults = (o.faults ?? []).filter((f) => f.at < o.durationMs);
  const plan = [...day, ...faults].map((x, i) => ({ x, i })).sort((p, q) => p.x.at - q.x.at || p.i - q.i).map((p) => p.x);
  return runScenario(plan, { center, speed: o.speed, durationMs: o.durationMs, ...(o.signal ? { signal: o.signal } : {}), ...(o.wan ? { internet: o.wan } : {}) });
}

export function printDaySummary(s: RunScenarioSummary, out: (line: string) => void, json = true): void {
  // executed + skipped = planned when the day ran to its end: a skipped tap is one the plan offered while its reader was busy.
  out(`summary: ${s.executed}/${s.planned} steps executed, ${s.skippedBusy} taps skipped (reader busy)${s.stoppedEarly ? " (stopped early)" : ""}`);
  out(`  ${Object.entries(s.byKind).map(([k, n]) => `${k} ${n}`).join(", ") || "nothing"}; errors ${s.errors.length}`);
  for (const e of s.errors.slice(0, 5)) out(`  error: ${e}`);
  if (json) out(`summary-json ${JSON.stringify(s)}`);
}
