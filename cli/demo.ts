/**
 * `hazri demo`: the demo network on this machine. A private InfluxDB under
 * `.hazri/demo/influxdb`, the server with its embedded broker and API, and two
 * simulated centers (Lahore and Islamabad) whose devices speak the real byte
 * protocols on socat ptys, each with its own edge agent. Members tap in and
 * out and seats change on a seeded, time-compressed day, over and over; each
 * center has a Megatec UPS and door contacts, and load-shedding cuts the mains
 * on the same compressed day (the UPS battery drains and recharges at that speed).
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import path from "node:path";
import pino from "pino";
import { runDay } from "../firmware-sim/src/scenario.ts";
import { planPower } from "../firmware-sim/src/scenario-power.ts";
import { runScenario } from "../firmware-sim/src/scenario-run.ts";
import { systemClock } from "../protocol/clock.ts";
import type { ServerConfigInput } from "../server/src/config.ts";
import { openRegistry } from "../server/src/registry/db.ts";
import { createUsersRegistry, migrations as userMigrations } from "../server/src/registry/users.ts";
import { demoSla, startNetwork, type Network } from "./network.ts";

/**
 * The web UI needs a user: `admin` (PSEB admin) in the demo's registry, with a
 * random password made on the first run and kept in `<dir>/admin-password`
 * (mode 0600), or HAZRI_DEMO_PASSWORD when set (it must then be the one the
 * user was created with). Returns the password to print.
 */
async function ensureAdmin(registry: string, dir: string): Promise<string> {
  const file = path.join(dir, "admin-password");
  const stored = await readFile(file, "utf8").then((s) => s.trim(), () => null);
  const password = process.env.HAZRI_DEMO_PASSWORD || stored || randomBytes(12).toString("base64url");
  const db = openRegistry(registry, userMigrations);
  try {
    const users = createUsersRegistry(db, { clock: systemClock });
    if (!users.list().some((u) => u.username === "admin")) await users.create({ username: "admin", password, role: "pseb_admin" });
  } finally {
    db.close();
  }
  if (!process.env.HAZRI_DEMO_PASSWORD && stored === null) await writeFile(file, `${password}\n`, { mode: 0o600 });
  return password;
}

export const USAGE = `usage: hazri demo [--dir <folder>] [--port <http port>] [--speed <x>] [--seed <n>] [--duration <seconds>] [--log-level <level>]

Starts a private InfluxDB (data in <folder>/influxdb, default .hazri/demo), the server (API on --port,
default 8080) with its embedded broker, and two simulated centers with their edge agents. --speed compresses
the simulated day (default 120: a day in 12 minutes). --duration stops after that many seconds (default: run
until Ctrl-C).`;

interface DemoSummary {
  center: string;
  peopleIn: number;
  seatsOccupied: number;
  edgeOnline: boolean;
  stored: number;
  /** Power points (the UPS's transitions and samples). */
  power: number;
  powerNow: string;
}

/** GET on the demo's authenticated API as admin; logs in again when the session has expired. */
function adminApi(net: Network, password: string) {
  let token: string | null = null;
  const login = async () => {
    const r = await fetch(`${net.httpUrl}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "admin", password }),
    });
    if (!r.ok) throw new Error(`demo admin login: ${r.status} ${await r.text()}`);
    token = ((await r.json()) as { token: string }).token;
    return token;
  };
  return async <T>(urlPath: string): Promise<{ status: number; body: T }> => {
    for (let attempt = 0; ; attempt++) {
      const r = await fetch(`${net.httpUrl}${urlPath}`, { headers: { authorization: `Bearer ${token ?? (await login())}` } });
      if (r.status === 401 && attempt === 0) {
        token = null;
        continue;
      }
      return { status: r.status, body: (await r.json()) as T };
    }
  };
}

async function summarize(net: Network, get: ReturnType<typeof adminApi>): Promise<DemoSummary[]> {
  const out: DemoSummary[] = [];
  for (const c of net.centers) {
    const live = await get<{
      peopleInCount?: number;
      seatsOccupied?: number;
      edge?: { online?: boolean } | null;
      power?: { source: string; ups: { chargePct: number | null } | null } | null;
    }>(
      `/api/centers/${c.id}/live`,
    );
    const rows = await net.query(`SELECT count(seq) FROM access, seat, door WHERE center = '${c.id}'`).catch(() => []);
    const stored = rows.reduce((s, r) => s + (typeof r.count === "number" ? r.count : 0), 0);
    const prow = await net.query(`SELECT count(source) FROM power WHERE center = '${c.id}'`).catch(() => []);
    const power = prow.reduce((s, r) => s + (typeof r.count === "number" ? r.count : 0), 0);
    const p = live.body.power;
    out.push({
      center: c.id,
      peopleIn: live.body.peopleInCount ?? 0,
      seatsOccupied: live.body.seatsOccupied ?? 0,
      edgeOnline: live.body.edge?.online === true,
      stored: stored + power,
      power,
      powerNow: p ? `${p.source}${p.ups?.chargePct != null ? ` ${p.ups.chargePct}%` : ""}` : "no power reading",
    });
  }
  return out;
}

export async function main(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        dir: { type: "string" },
        port: { type: "string" },
        speed: { type: "string" },
        seed: { type: "string" },
        duration: { type: "string" },
        "log-level": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (e) {
    process.stderr.write(`hazri demo: ${(e as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const num = (k: string, d: number) => {
    const v = values[k];
    if (v === undefined) return d;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${k} must be a non-negative number, got ${JSON.stringify(v)}`);
    return n;
  };
  let port: number, speed: number, seed: number, duration: number;
  try {
    port = num("port", 8080);
    speed = num("speed", 120);
    seed = num("seed", 1);
    duration = num("duration", 0);
  } catch (e) {
    process.stderr.write(`hazri demo: ${(e as Error).message}\n`);
    return 2;
  }
  const dir = path.resolve(String(values.dir ?? ".hazri/demo"));
  const logger = pino({ level: String(values["log-level"] ?? "warn") });
  const say = (s: string) => process.stdout.write(`${s}\n`);

  say(`hazri demo: starting in ${dir}`);
  await mkdir(dir, { recursive: true });
  const registry = path.join(dir, "registry.sqlite");
  const password = await ensureAdmin(registry, dir);
  const net = await startNetwork({
    dir: path.join(dir, "run"),
    influx: { dataDir: path.join(dir, "influxdb") },
    httpPort: port,
    centers: [
      { id: "lhr-01", seed, seats: 12, members: 40, heartbeatS: 10, ups: { speed }, doorContacts: true },
      { id: "isb-01", seed: seed + 1, seats: 8, members: 30, heartbeatS: 10, ups: { speed }, doorContacts: true },
    ],
    sla: demoSla(10),
    // The API and web UI need the registry; the sim edges carry no broker credentials, so the embedded broker stays open.
    amendServerConfig: (base) =>
      ({ ...base, registry: { path: registry }, broker: { embedded: { ...(base.broker as { embedded: object }).embedded, auth: "none" } } }) as ServerConfigInput,
    mode: "inline",
    logger,
  });
  say(`  InfluxDB   ${net.influx.url}  (database "${net.database}", data in ${net.influx.dataDir})`);
  say(`  broker     ${net.brokerUrl}`);
  say(`  web UI     ${net.httpUrl}/  (user admin, password ${password})`);
  say(`  API        ${net.httpUrl}/api/centers`);
  for (const c of net.centers) {
    say(`  center ${c.id}: live ${net.httpUrl}/api/centers/${c.id}/live   edge config ${c.edge.configPath}`);
    for (const [id, r] of Object.entries(c.sim.devices.readers)) say(`    reader ${id.padEnd(9)} pty ${r.hostPath}`);
    for (const [id, r] of Object.entries(c.sim.devices.relays)) say(`    relay  ${id.padEnd(9)} pty ${r.hostPath}`);
    for (const [id, r] of Object.entries(c.sim.devices.contacts)) say(`    door   ${id.padEnd(9)} pty ${r.hostPath} (reed contact)`);
    for (const [id, d] of Object.entries(c.sim.power.devices)) if (d.type !== "nut") say(`    ups    ${id.padEnd(9)} pty ${d.hostPath} (Megatec Q1)`);
    say(`    seats  ${Object.keys(c.sim.devices.seats).length} ESPHome sensors on ${c.edge.lanUrl}`);
  }
  const get = adminApi(net, password);
  say("Ctrl-C stops the demo.");

  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  let timer: NodeJS.Timeout | undefined;
  if (duration > 0) timer = setTimeout(onSignal, duration * 1000);

  const dayMs = 86_400_000 / speed;
  const loops = net.centers.map(async (c, i) => {
    for (let day = 0; !abort.signal.aborted; day++) {
      await runDay(c.sim, { seed: seed * 1000 + i * 100 + day, speed, durationMs: 86_400_000, signal: abort.signal }).catch(
        (e: unknown) => logger.error({ err: e, center: c.id }, "scenario failed"),
      );
      if (!abort.signal.aborted) await new Promise((r) => setTimeout(r, Math.min(dayMs, 1000)));
    }
  });
  // Load shedding (10:00 and 16:00 for two hours, plus unscheduled cuts) on the same compressed day; lhr-01 has a
  // generator. runtimeMin matches the sim UPS (600 Wh at 300 W).
  const startHour = ((Date.now() / 3_600_000 + 5) % 24); // PKT
  const power = net.centers.map(async (c, i) => {
    for (let day = 0; !abort.signal.aborted; day++) {
      const plan = planPower({ seed: seed * 1000 + i * 100 + day, durationMs: 86_400_000, startHour, ups: { runtimeMin: 120 }, ...(i === 0 ? {} : { generator: null }) });
      await runScenario(plan, { center: c.sim, speed, signal: abort.signal }).catch((e: unknown) => logger.error({ err: e, center: c.id }, "power scenario failed"));
    }
  });
  const report = setInterval(() => {
    summarize(net, get)
      .then((rows) =>
        say(rows.map((r) => `${r.center}: ${r.peopleIn} in, ${r.seatsOccupied} seats, ${r.powerNow}, edge ${r.edgeOnline ? "online" : "OFFLINE"}, ${r.stored} events stored`).join(" | ")),
      )
      .catch((e: unknown) => logger.warn({ err: e }, "summary failed"));
  }, 10_000);

  await new Promise<void>((resolve) => abort.signal.addEventListener("abort", () => resolve(), { once: true }));
  clearInterval(report);
  if (timer) clearTimeout(timer);
  say("hazri demo: stopping");
  await Promise.allSettled([...loops, ...power]);
  const final = await summarize(net, get).catch(() => []);
  for (const r of final) say(`  ${r.center}: ${r.stored} events stored in InfluxDB (${r.power} power readings), ${r.peopleIn} people in at the end`);
  await net.stop();
  return 0;
}
