/**
 * `hazri sim --center <id> --dir <dir> --seed <n> [--lan <mqtt url>] [--speed <x>] [--duration <s>]`
 *
 * Starts one simulated center, prints where each device lives (pty host paths
 * for the edge config, seat topics), writes the same as JSON to
 * `<dir>/sim-center.json` (written once the ptys exist: a readiness signal),
 * plays a seeded day, prints a summary, and stops cleanly on SIGINT/SIGTERM
 * (socat killed, pty links removed).
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { isValidId } from "../../protocol/ids.ts";
import { createSimCenter, type SimCenter } from "./center.ts";
import { describePowerDevices, powerEdgeFragment } from "./devices/ups-plant.ts";
import { defaultLayout, loadLayout } from "./layout.ts";
import { isExpired } from "./members.ts";
import { runDay, type ScenarioSummary } from "./scenario.ts";
import { parseScenarioArgs, printDaySummary, runDayScenario, scenarioArgSpec, SCENARIO_USAGE, startScenarioWan, type DayScenarioArgs } from "./scenario-cli.ts";
import type { RunScenarioSummary } from "./scenario-run.ts";
import { powerModelFor } from "./scenario-power.ts";
import type { NetProxy } from "./faults/net-proxy.ts";
import { checkFaults, FAULT_USAGE, faultSteps, parseFaults, type FaultSpec } from "./faults/device-faults.ts";

const USAGE = `usage: hazri sim --center <id> --dir <dir> --seed <n> [options]

  --center <id>        center id ([A-Za-z0-9_-])
  --centers <N|list>   N centers in this process: ids <center>-1..<center>-N, or a list a,b,c
                       (no --center); each in <dir>/<id> with its own ptys, seed + k, sim-center.json;
                       <dir>/sim-centers.json lists them once all are ready
  --dir <dir>          where the ptys, ground-truth.jsonl and sim-center.json go
  --seed <n>           seed for the member list and the day's activity
  --lan <url>          the edge's LAN MQTT broker for seat sensors (mqtt://host:port); retried until it answers;
                       with --centers one URL for all, or one per center (comma-separated)
  --speed <x>          sim-time speed-up (default 1)
  --duration <s>       simulated seconds to run (default: until SIGINT/SIGTERM)
  --layout <file>      JSON {readers, doors, seats, members} instead of the seeded default
  --seats <n>          seats in the default layout (default 8)
  --devices <set>      basic (default: RDM6300 readers, relay, MQTT seats) or full (adds a
                       Wiegand-26 and a wedge reader, door contacts, two LD2410 radar seats)
  --arrivals <n>       arrivals per simulated hour (default 60)
  --seat-rate <n>      seat changes per simulated hour (default 120)
  --no-listener-check  write taps even when nobody has the reader's host pty open (default: such a
                       tap is ground truth "undelivered: no_listener" and nothing is written)

${SCENARIO_USAGE}
${FAULT_USAGE}

  hazri sim --scale <N> --broker <url> [--duration <s>] ...   scale mode: --scale --help
`;

type Out = (s: string) => void;

const SCENARIO_HELP = `usage: hazri sim --center <id> --dir <dir> --seed <n> --scenario <flat|day> [options]

${SCENARIO_USAGE}
${FAULT_USAGE}
  (--scenario day and flat both play --faults; hazri sim --help lists every option)
`;

const isHelp = (a: string) => a === "--help" || a === "-h";

export async function main(argv: string[], io: { out?: Out; err?: Out; signals?: NodeJS.EventEmitter } = {}): Promise<number> {
  const out = io.out ?? ((s: string) => void process.stdout.write(`${s}\n`));
  const err = io.err ?? ((s: string) => void process.stderr.write(`${s}\n`));
  const signals = io.signals ?? process;
  // Scale mode (many lightweight edges speaking MQTT, no ptys) has its own options: scale/cli.ts.
  if (argv.some((a) => a === "--scale" || a.startsWith("--scale="))) return (await import("./scale/cli.ts")).scaleMain(argv, io);
  // Before parseArgs: `--scenario --help` would read "--help" as the scenario name (an ambiguous-argument error).
  if (argv.some(isHelp)) {
    out(argv.some((a) => a === "--scenario" || a.startsWith("--scenario=") || a === "--faults" || a.startsWith("--faults=")) ? SCENARIO_HELP : USAGE);
    return 0;
  }
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        center: { type: "string" },
        centers: { type: "string" },
        dir: { type: "string" },
        seed: { type: "string" },
        lan: { type: "string" },
        speed: { type: "string" },
        duration: { type: "string" },
        layout: { type: "string" },
        seats: { type: "string" },
        devices: { type: "string" },
        arrivals: { type: "string" },
        "seat-rate": { type: "string" },
        "no-listener-check": { type: "boolean" },
        faults: { type: "string" },
        ...scenarioArgSpec,
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }).values;
  } catch (e) {
    err(`hazri sim: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const num = (name: string, v: string | undefined, dflt: number, ok: (n: number) => boolean): number => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isFinite(n) || !ok(n)) throw new Error(`--${name} ${JSON.stringify(v)} is not valid`);
    return n;
  };
  let seed: number, speed: number, durationS: number, seats: number, arrivals: number, seatRate: number;
  let scenario: DayScenarioArgs | null;
  let ids: string[];
  let lans: Array<string | undefined>;
  let faults: FaultSpec[];
  try {
    ids = centerIds(args.center, args.centers);
    if (!args.dir) throw new Error("--dir <dir> is required");
    if (args.seed === undefined) throw new Error("--seed <n> is required");
    seed = num("seed", args.seed, 0, Number.isInteger);
    speed = num("speed", args.speed, 1, (n) => n > 0);
    durationS = num("duration", args.duration, 7 * 86_400, (n) => n > 0);
    seats = num("seats", args.seats, 8, (n) => Number.isInteger(n) && n >= 0 && n <= 500);
    arrivals = num("arrivals", args.arrivals, 60, (n) => n >= 0);
    seatRate = num("seat-rate", args["seat-rate"], 120, (n) => n >= 0);
    lans = lanUrls(args.lan, ids.length);
    if (args.devices !== undefined && args.devices !== "basic" && args.devices !== "full") throw new Error("--devices must be basic or full");
    scenario = parseScenarioArgs(args);
    faults = args.faults !== undefined ? parseFaults(args.faults) : [];
  } catch (e) {
    err(`hazri sim: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const multi = ids.length > 1 || args.centers !== undefined;
  const root = path.resolve(args.dir);
  const fileLayout = args.layout ? await loadLayout(args.layout) : null;
  const plans = ids.map((id, k) => ({
    id,
    seed: seed + k, // center k of --centers: seed + k (its own members and day)
    dir: multi ? path.join(root, id) : root,
    lan: lans[k],
    layout: fileLayout ?? defaultLayout(id, seed + k, { seats, devices: args.devices === "full" ? "full" : "basic" }),
  }));
  const bad = plans.flatMap((p) => checkFaults({ config: { centerId: p.id, dir: p.dir, seed: p.seed, ...p.layout } }, faults));
  if (bad.length > 0) {
    err(`hazri sim: ${bad.join("\n")}\n\n${USAGE}`);
    return 2;
  }
  const faultPlan = faultSteps(faults);

  const stop = new AbortController();
  const onSignal = (sig: string) => {
    err(`hazri sim: ${sig}, stopping`);
    stop.abort();
  };
  const onInt = () => onSignal("SIGINT");
  const onTerm = () => onSignal("SIGTERM");
  signals.on("SIGINT", onInt);
  signals.on("SIGTERM", onTerm);

  const started: Array<{ center: SimCenter; wan: NetProxy | null }> = [];
  try {
    for (const p of plans) {
      const say: Out = multi ? (l) => out(`[${p.id}] ${l}`) : out;
      // The WAN proxy exists before sim-center.json (the ready signal): the edge's uplink.url is its URL.
      const wan = await startScenarioWan(scenario);
      if (wan) say(`wan proxy: ${wan.url} → ${scenario?.wanTarget?.host}:${scenario?.wanTarget?.port} (the edge's uplink.url; cut on internet drops)`);
      let center: SimCenter;
      try {
        center = await createSimCenter({
          centerId: p.id,
          dir: p.dir,
          seed: p.seed,
          ...p.layout,
          // The battery drains in sim time at the power plan's rates (--speed 1440: a 45-minute runtime in ~2 s).
          powerModel: powerModelFor(speed),
          ...(args["no-listener-check"] ? { requireListener: false } : {}),
        });
      } catch (e) {
        await wan?.close();
        throw e;
      }
      started.push({ center, wan });
      printDevices(center, p.dir, say);
      // members.json is in the edge's member-file shape ({ members: [...] }) so the edge can load it as is.
      const membersFile = path.join(p.dir, "members.json");
      await writeFile(membersFile, JSON.stringify({ members: p.layout.members }, null, 2));
      await writeFile(path.join(p.dir, "sim-center.json"), JSON.stringify({ ...describeCenter(center, membersFile), ...(wan ? { wanProxyUrl: wan.url } : {}) }, null, 2));
      say(`ready: ${path.join(p.dir, "sim-center.json")}`);
    }
    if (multi) {
      const list = plans.map((p) => ({ id: p.id, seed: p.seed, dir: p.dir, simCenter: path.join(p.dir, "sim-center.json") }));
      await writeFile(path.join(root, "sim-centers.json"), JSON.stringify({ centers: list }, null, 2));
      out(`ready: ${path.join(root, "sim-centers.json")} (${plans.length} centers)`);
    }
    plans.forEach((p, k) => {
      const url = p.lan;
      const c = started[k]?.center;
      if (!url || !c) return;
      // The edge (which runs the LAN broker) usually starts after us, since it needs our pty paths.
      void c.connectSeats(url, 300_000).then(
        () => out(`${multi ? `[${p.id}] ` : ""}seats connected to ${url}`),
        (e: unknown) => err(`hazri sim: ${p.id}: seats could not connect to ${url}: ${(e as Error).message}`),
      );
    });
    const durationMs = durationS * 1000;
    const results = await Promise.all(
      started.map(async ({ center, wan }, k) => {
        const p = plans[k] as (typeof plans)[number];
        if (scenario) {
          const s = await runDayScenario(center, scenario, { seed: p.seed, speed, durationMs, signal: stop.signal, wan, faults: faultPlan });
          return { id: p.id, summary: s as RunScenarioSummary | ScenarioSummary, print: () => printDaySummary(s, multi ? (l) => out(`[${p.id}] ${l}`) : out, !multi) };
        }
        const s = await runDay(center, { seed: p.seed, speed, durationMs, rates: { arrivalsPerHour: arrivals, seatChangesPerHour: seatRate }, signal: stop.signal, faults: faultPlan });
        return { id: p.id, summary: s as RunScenarioSummary | ScenarioSummary, print: () => printSummary(s, multi ? (l) => out(`[${p.id}] ${l}`) : out, !multi) };
      }),
    );
    for (const r of results) r.print();
    if (multi) out(`summary-json ${JSON.stringify({ centers: Object.fromEntries(results.map((r) => [r.id, r.summary])) })}`);
    return results.some((r) => r.summary.errors.length > 0) && !stop.signal.aborted ? 1 : 0;
  } catch (e) {
    err(`hazri sim: ${(e as Error).message}`);
    return 1;
  } finally {
    for (const { center, wan } of started) {
      await center.stop();
      await wan?.close();
    }
    signals.off("SIGINT", onInt);
    signals.off("SIGTERM", onTerm);
  }
}

/** `--center x` alone, `--center x --centers 3` (x-1..x-3), or `--centers a,b,c`. */
export function centerIds(center: string | undefined, centers: string | undefined): string[] {
  const valid = (id: string) => {
    if (!isValidId(id)) throw new Error(`center id ${JSON.stringify(id)} is not valid ([A-Za-z0-9_-], 1-64)`);
    return id;
  };
  if (centers === undefined) {
    if (!center || !isValidId(center)) throw new Error("--center <id> is required ([A-Za-z0-9_-], 1-64)");
    return [center];
  }
  if (/^\d+$/.test(centers)) {
    const n = Number(centers);
    if (n < 1 || n > 200) throw new Error("--centers <N> must be 1..200 (more: scale mode, --scale)");
    if (!center || !isValidId(center)) throw new Error("--centers <N> needs --center <prefix>: ids <prefix>-1..<prefix>-N");
    return Array.from({ length: n }, (_, i) => valid(`${center}-${i + 1}`));
  }
  const list = centers.split(",").map((x) => valid(x.trim()));
  if (new Set(list).size !== list.length) throw new Error("--centers: duplicate center id");
  if (center !== undefined) throw new Error("--centers <id,id,...> and --center are exclusive");
  return list;
}

/** One --lan URL for every center, or one per center (comma-separated, in --centers order). */
function lanUrls(lan: string | undefined, n: number): Array<string | undefined> {
  if (lan === undefined) return Array.from({ length: n }, () => undefined);
  const urls = lan.split(",").map((x) => x.trim());
  for (const u of urls) if (!/^mqtts?:\/\/|^tcp:\/\//.test(u)) throw new Error("--lan must be an mqtt:// URL (or one per center, comma-separated)");
  if (urls.length === 1) return Array.from({ length: n }, () => urls[0]);
  if (urls.length !== n) throw new Error(`--lan: ${urls.length} URLs for ${n} centers`);
  return urls;
}

/**
 * The device part of an edge config for this center (edge/src/config.ts shape,
 * written here by hand, not imported: the sim must not depend on the edge).
 * The caller adds dataDir, uplink and lan.
 */
export function edgeConfigFragment(center: SimCenter, membersFile: string) {
  const c = center.config;
  return {
    center: center.centerId,
    members: membersFile,
    doors: c.doors.map((d) => ({
      id: d.id,
      relay: { path: center.devices.relays[d.id]?.hostPath ?? "", channel: d.channel },
      ...(d.contact
        ? { contact: { path: center.devices.contacts[d.id]?.hostPath ?? "", input: d.contact.input ?? 1, repeatS: (d.contact.repeatMs ?? 5000) / 1000 } }
        : {}),
    })),
    readers: c.readers.map((r) => ({
      id: r.id,
      type: r.type ?? ("rdm6300" as const),
      door: r.door,
      direction: r.direction,
      path: center.devices.readers[r.id]?.hostPath ?? "",
    })),
    seats: c.seats.map((s) =>
      s.source === "ld2410"
        ? { id: s.id, zone: s.zone, source: "ld2410" as const, path: center.devices.radars[s.id]?.hostPath ?? "" }
        : { id: s.id, zone: s.zone, node: s.node, object: s.object, ...(s.convention === "tasmota" ? { convention: "tasmota" as const } : {}) },
    ),
    ...powerEdgeFragment(center),
  };
}

/** What the edge config and the demo need: pty host paths, relay channels, seat topics, members. */
export function describeCenter(center: SimCenter, membersFile: string) {
  const c = center.config;
  return {
    edge: edgeConfigFragment(center, membersFile),
    centerId: center.centerId,
    seed: c.seed,
    groundTruth: center.groundTruth.file,
    readers: c.readers.map((r) => ({ ...r, hostPath: center.devices.readers[r.id]?.hostPath })),
    doors: c.doors.map((d) => ({ ...d, hostPath: center.devices.relays[d.id]?.hostPath })),
    seats: c.seats.map((s) => ({
      ...s,
      stateTopic: center.devices.seats[s.id]?.stateTopic,
      statusTopic: center.devices.seats[s.id]?.statusTopic,
    })),
    members: c.members,
  };
}

function printDevices(center: SimCenter, dir: string, out: Out): void {
  const c = center.config;
  out(`hazri sim: center ${center.centerId}, seed ${c.seed}, dir ${dir}`);
  for (const r of c.readers)
    out(`  reader ${r.id.padEnd(12)} ${(r.type === "wiegand" ? `W${r.bits ?? 26}` : r.type === "wedge" ? "wedge" : "RDM6300").padEnd(7)} door ${r.door} ${r.direction.padEnd(3)}  edge opens ${center.devices.readers[r.id]?.hostPath}`);
  for (const d of c.doors) {
    out(`  relay  ${d.id.padEnd(12)} LCUS ch ${d.channel}              edge opens ${center.devices.relays[d.id]?.hostPath}`);
    if (d.contact) out(`  contact ${d.id.padEnd(11)} reed C${d.contact.input ?? 1}              edge opens ${center.devices.contacts[d.id]?.hostPath}`);
  }
  for (const s of c.seats) {
    if (s.source === "ld2410") {
      out(`  seat   ${s.id.padEnd(12)} zone ${s.zone.padEnd(9)} LD2410 radar       edge opens ${center.devices.radars[s.id]?.hostPath}`);
      continue;
    }
    const dev = center.devices.seats[s.id];
    out(`  seat   ${s.id.padEnd(12)} zone ${s.zone.padEnd(9)} ${dev?.stateTopic}  (status ${dev?.statusTopic})`);
  }
  const byStatus = new Map<string, number>();
  for (const m of c.members) {
    const k = m.status !== "active" ? m.status : isExpired(m, Date.now()) ? "expired" : "active";
    byStatus.set(k, (byStatus.get(k) ?? 0) + 1);
  }
  out(`  members ${c.members.length}: ${[...byStatus].map(([k, n]) => `${k} ${n}`).join(", ")}`);
  for (const line of describePowerDevices(center)) out(line);
  out(`  ground truth ${center.groundTruth.file}`);
}

function printSummary(s: ScenarioSummary, out: Out, json = true): void {
  const reasons = Object.entries(s.taps.byReason).map(([k, n]) => `${k} ${n}`).join(", ");
  // executed + skipped = planned when the day ran to its end (skipped: a tap the plan offered while its reader was still busy).
  out(`summary: ${s.executed + s.skippedBusy}/${s.planned} actions, ${s.skippedBusy} taps skipped (reader busy)${s.stoppedEarly ? " (stopped early)" : ""}`);
  out(`  taps ${s.taps.total}: granted ${s.taps.granted}, denied ${s.taps.denied} (${reasons || "none"}); undelivered ${s.taps.undelivered}`);
  out(`  seat changes ${s.seatChanges}, sensor drops ${s.sensorDrops}, errors ${s.errors.length}`);
  for (const e of s.errors.slice(0, 5)) out(`  error: ${e}`);
  if (json) out(`summary-json ${JSON.stringify(s)}`);
}
