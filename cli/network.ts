/**
 * A whole Hazri network on one machine: a private InfluxDB, the server with
 * its embedded broker, and N simulated centers (devices on real socat ptys and
 * MQTT) each with its edge agent. The demo runs it; the end-to-end tests run it
 * too, in `process` mode, so they can SIGKILL a server or an edge and start it
 * again on the same ports and data.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { stringify as toYaml } from "yaml";
import type { Logger } from "../protocol/clock.ts";
import { systemClock } from "../protocol/clock.ts";
import { createEdgeAgent, type EdgeAgent, type EdgeAgentStatus } from "../edge/src/agent.ts";
import { parseEdgeConfig } from "../edge/src/config.ts";
import { createSimCenter, type SimCenter, type SimCenterPower } from "../firmware-sim/src/center.ts";
import type { SimPowerDevice } from "../firmware-sim/src/devices/ups-plant.ts";
import { defaultLayout, type SimLayout } from "../firmware-sim/src/layout.ts";
import { startServer, type RunningServer } from "../server/src/server.ts";
import type { ServerConfigInput } from "../server/src/config.ts";
import { freePort } from "../test/harness/ports.ts";
import { spawnManaged, waitReady, type ManagedProcess } from "../test/harness/process.ts";
import { startInfluxd, type InfluxInstance } from "../test/harness/influxd.ts";

const HAZRI_BIN = fileURLToPath(new URL("../bin/hazri.mjs", import.meta.url));

export interface CenterSpec {
  id: string;
  seed: number;
  seats?: number;
  members?: number;
  /** Edge uplink re-send timeout (ms); tests shorten it. */
  resendAfterMs?: number;
  heartbeatS?: number;
  /**
   * A UPS wired into the edge's `power:` section: a Megatec Q1 on a pty, or NUT
   * (UpsSpec.nut). The layout's Voltronic inverter is left out: the live view
   * keeps the latest power event of any device, so two devices would interleave. Off by default
   * so existing scenarios keep their event mix; `hazri demo` and the UI tests turn it on.
   */
  ups?: boolean | UpsSpec;
  /** A reed-switch contact on each door (bridge pty), wired into the edge's `doors[].contact`. */
  doorContacts?: boolean;
}

export interface UpsSpec {
  /** Battery model time × the clock (the demo's day speed-up; default 1). */
  speed?: number;
  /** Edge poll / metrics sample period (default 1000 / 10000 ms). */
  pollMs?: number;
  sampleMs?: number;
  /**
   * A NUT UPS instead of the Megatec one: the sim writes the dummy-ups `.dev`
   * file that a running upsd serves (test/harness/nut.ts), the edge reads it
   * through NUT. NUT carries charge and runtime; Q1 carries neither.
   */
  nut?: { host: string; port: number; ups: string; devFile: string };
}

/**
 * Q1 carries no charge %, so the edge estimates it linearly from the battery
 * voltage (edge/src/power/README.md). The simulated 24 V pack reads 21.0 V empty
 * and 25.8 V full under load (firmware-sim/src/devices/ups-battery.ts).
 */
const SIM_UPS_BATTERY = { emptyV: 21, fullV: 25.8 };
const CONTACT_REPEAT_MS = 5000;

export interface NetworkOptions {
  /** Working folder: ptys, edge data, configs, logs. */
  dir: string;
  centers: CenterSpec[];
  influx?: { dataDir?: string; port?: number; auth?: { username: string; password: string } };
  database?: string;
  httpPort?: number;
  mqttPort?: number;
  /** inline: server and edges in this process; process: each its own `hazri` process (killable). */
  mode?: "inline" | "process";
  /**
   * SLA config (server/src/sla/config.ts shape) written to `<dir>/sla.yaml` and
   * given to the server as `reports.slaConfig`; `demoSla()` is the demo's.
   */
  sla?: Record<string, unknown>;
  /** Amend the generated server config (e.g. a registry for the authenticated API, as the UI tests need). */
  amendServerConfig?: (base: ServerConfigInput) => ServerConfigInput;
  logger: Logger;
}

/** A component that can be stopped, crashed and started again with the same ports and data. */
export interface Restartable {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** SIGKILL (process mode only). */
  kill9(): Promise<void>;
  running(): boolean;
  logTail(): string;
}

export interface NetworkCenter {
  id: string;
  layout: SimLayout;
  sim: SimCenter & SimCenterPower;
  edge: Restartable & {
    configPath: string;
    lanUrl: string;
    dataDir: string;
    /** The running agent's status (inline mode; null in process mode or while stopped). */
    status(): EdgeAgentStatus | null;
  };
}

export interface Network {
  influx: InfluxInstance;
  database: string;
  httpUrl: string;
  brokerUrl: string;
  server: Restartable;
  centers: NetworkCenter[];
  center(id: string): NetworkCenter;
  /** GET a JSON path on the server's HTTP API. */
  api<T = unknown>(urlPath: string): Promise<{ status: number; body: T }>;
  /** InfluxQL against the network's database; returns flattened rows. */
  query(influxql: string): Promise<Record<string, unknown>[]>;
  stop(): Promise<void>;
}

function serverConfig(o: { httpPort: number; mqttPort: number; influx: InfluxInstance; database: string }) {
  return {
    http: { host: "127.0.0.1", port: o.httpPort },
    broker: { embedded: { host: "127.0.0.1", port: o.mqttPort } },
    // A stable client id gives the server a persistent session: QoS 1 uplinks wait in the broker while it restarts.
    mqtt: { clientId: "hazri-server-1" },
    influx: {
      kind: "v1" as const,
      url: o.influx.url,
      database: o.database,
      ...(o.influx.username ? { username: o.influx.username, password: o.influx.password } : {}),
    },
  };
}

/**
 * The demo's SLA settings: the simulated centers run round the clock, so the
 * calendar is 24/7 (the default 09:00–21:00 would leave a demo started in the
 * evening with no operating time and every figure "—"), and the evidence gap
 * follows the edges' heartbeat.
 */
export function demoSla(heartbeatS: number): Record<string, unknown> {
  const allDay = [{ open: "00:00", close: "24:00" }];
  return { heartbeatS, calendar: { weekly: Object.fromEntries(["mon", "tue", "wed", "thu", "fri", "sat", "sun"].map((d) => [d, allDay])) } };
}

async function processComponent(name: string, args: string[], logFile: string, ready: () => Promise<boolean>): Promise<Restartable> {
  let proc: ManagedProcess | null = null;
  const self: Restartable = {
    async start() {
      if (proc && !proc.hasExited()) return;
      proc = await spawnManaged(process.execPath, [HAZRI_BIN, ...args], { name, logFile });
      await waitReady(proc, ready, { timeoutMs: 60_000, what: `${name} ready`, intervalMs: 100 });
    },
    async stop() {
      await proc?.stop("SIGTERM", 10_000);
    },
    async kill9() {
      await proc?.kill9();
    },
    running: () => proc !== null && !proc.hasExited(),
    logTail: () => proc?.logTail(60) ?? "",
  };
  await self.start();
  return self;
}

function inlineComponent(create: () => Promise<{ close(): Promise<void> }>): Restartable & { ready: Promise<void> } {
  let inst: { close(): Promise<void> } | null = null;
  const self = {
    ready: Promise.resolve(),
    async start() {
      if (!inst) inst = await create();
    },
    async stop() {
      const i = inst;
      inst = null;
      await i?.close();
    },
    async kill9() {
      throw new Error("kill9 needs mode: process");
    },
    running: () => inst !== null,
    logTail: () => "",
  };
  self.ready = self.start();
  return self;
}

function serialPath(d: SimPowerDevice | undefined): string {
  if (!d || d.type === "nut") throw new Error("the sim center has no serial UPS \"ups\"");
  return d.hostPath;
}

async function httpOk(url: string): Promise<boolean> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return r.ok;
  } catch {
    return false;
  }
}

export async function startNetwork(opts: NetworkOptions): Promise<Network> {
  const mode = opts.mode ?? "inline";
  const log = opts.logger;
  const database = opts.database ?? "hazri";
  await mkdir(opts.dir, { recursive: true });
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const s of stops.splice(0).reverse()) await s().catch((e) => log.warn({ err: e }, "network: error while stopping"));
  };
  try {
    const influx = await startInfluxd({ ...opts.influx });
    stops.push(() => influx.stop());
    const httpPort = opts.httpPort || (await freePort());
    const mqttPort = opts.mqttPort || (await freePort());
    const httpUrl = `http://127.0.0.1:${httpPort}`;
    const brokerUrl = `mqtt://127.0.0.1:${mqttPort}`;
    let base: ServerConfigInput = serverConfig({ httpPort, mqttPort, influx, database });
    if (opts.sla) {
      const slaConfig = path.join(opts.dir, "sla.yaml");
      await writeFile(slaConfig, toYaml(opts.sla));
      base = { ...base, reports: { slaConfig } };
    }
    const scfg = opts.amendServerConfig ? opts.amendServerConfig(base) : base;

    let server: Restartable;
    if (mode === "process") {
      const file = path.join(opts.dir, "server.yaml");
      await writeFile(file, toYaml(scfg));
      server = await processComponent("hazri-server", ["server", "--config", file], path.join(opts.dir, "server.log"), () =>
        httpOk(`${httpUrl}/healthz`),
      );
    } else {
      const c = inlineComponent(() => startServer(scfg, { logger: log.child({ c: "server" }), clock: systemClock }) as Promise<RunningServer>);
      await c.ready;
      server = c;
    }
    stops.push(() => server.stop());

    const centers: NetworkCenter[] = [];
    for (const spec of opts.centers) {
      const cdir = path.join(opts.dir, spec.id);
      const base = defaultLayout(spec.id, spec.seed, { seats: spec.seats, members: spec.members });
      const ups: UpsSpec | null = spec.ups ? (spec.ups === true ? {} : spec.ups) : null;
      const layout: SimLayout = {
        ...base,
        ...(ups ? { power: [ups.nut ? { id: "ups", type: "nut" as const, devFile: ups.nut.devFile } : { id: "ups", type: "megatec" as const }] } : {}),
        ...(spec.doorContacts ? { doors: base.doors.map((d) => ({ ...d, contact: { repeatMs: CONTACT_REPEAT_MS } })) } : {}),
      };
      const sim = await createSimCenter({
        centerId: spec.id,
        dir: path.join(cdir, "dev"),
        seed: spec.seed,
        ...layout,
        ...(ups ? { powerModel: { speed: ups.speed ?? 1 } } : {}),
      });
      stops.push(() => sim.stop());
      const lanPort = await freePort();
      const membersFile = path.join(cdir, "members.json");
      await writeFile(membersFile, JSON.stringify({ members: layout.members }, null, 2));
      const dataDir = path.join(cdir, "edge-data");
      const raw = {
        center: spec.id,
        dataDir,
        uplink: { url: brokerUrl, resendAfterMs: spec.resendAfterMs ?? 10_000, heartbeatS: spec.heartbeatS ?? 30 },
        lan: { host: "127.0.0.1", port: lanPort },
        members: membersFile,
        doors: layout.doors.map((d) => ({
          id: d.id,
          relay: { path: sim.devices.relays[d.id]!.hostPath, channel: d.channel },
          unlockMs: 3000,
          ...(d.contact ? { contact: { path: sim.devices.contacts[d.id]!.hostPath, input: d.contact.input ?? 1, repeatS: CONTACT_REPEAT_MS / 1000 } } : {}),
        })),
        readers: layout.readers.map((r) => ({
          id: r.id,
          type: "rdm6300",
          door: r.door,
          direction: r.direction,
          path: sim.devices.readers[r.id]!.hostPath,
        })),
        seats: layout.seats.map((s) => ({ id: s.id, zone: s.zone, node: s.node, object: s.object })),
        ...(ups
          ? {
              power: [
                ups.nut
                  ? { id: "ups", type: "nut", host: ups.nut.host, port: ups.nut.port, ups: ups.nut.ups, pollMs: ups.pollMs ?? 1000, sampleMs: ups.sampleMs ?? 10_000 }
                  : {
                      id: "ups",
                      type: "megatec",
                      path: serialPath(sim.power.devices.ups),
                      pollMs: ups.pollMs ?? 1000,
                      sampleMs: ups.sampleMs ?? 10_000,
                      battery: SIM_UPS_BATTERY,
                    },
              ],
            }
          : {}),
      };
      const configPath = path.join(cdir, "edge.yaml");
      await writeFile(configPath, toYaml(raw));
      const online = async () => {
        const r = await fetch(`${httpUrl}/api/centers/${spec.id}/live`).catch(() => null);
        if (!r?.ok) return false;
        const body = (await r.json()) as { edge?: { online?: boolean } | null };
        return body.edge?.online === true;
      };
      let edge: Restartable;
      let agentNow: EdgeAgent | null = null;
      if (mode === "process") {
        edge = await processComponent(`hazri-edge-${spec.id}`, ["edge", "--config", configPath], path.join(cdir, "edge.log"), online);
      } else {
        const cfg = parseEdgeConfig(raw, cdir);
        const c = inlineComponent(async () => {
          const agent: EdgeAgent = await createEdgeAgent(cfg, { logger: log.child({ c: "edge", center: spec.id }), clock: systemClock });
          await agent.start();
          agentNow = agent;
          return {
            close: () => {
              agentNow = null;
              return agent.stop();
            },
          };
        });
        await c.ready;
        edge = c;
      }
      stops.push(() => edge.stop());
      const lanUrl = `mqtt://127.0.0.1:${lanPort}`;
      await sim.connectSeats(lanUrl);
      const status = () => (agentNow as EdgeAgent | null)?.status() ?? null;
      centers.push({ id: spec.id, layout, sim, edge: Object.assign(edge, { configPath, lanUrl, dataDir, status }) });
    }

    const net: Network = {
      influx,
      database,
      httpUrl,
      brokerUrl,
      server,
      centers,
      center(id) {
        const c = centers.find((x) => x.id === id);
        if (!c) throw new Error(`no center ${id} in this network`);
        return c;
      },
      async api<T>(urlPath: string) {
        const r = await fetch(`${httpUrl}${urlPath}`);
        return { status: r.status, body: (await r.json()) as T };
      },
      async query(influxql: string) {
        const { seriesRows } = await import("../test/harness/influxd.ts");
        return seriesRows(await influx.query(influxql, database));
      },
      stop: stopAll,
    };
    return net;
  } catch (e) {
    await stopAll();
    throw e;
  }
}
