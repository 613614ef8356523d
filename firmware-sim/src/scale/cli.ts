/**
 * `hazri sim --scale <N> --broker <mqtt url> [--duration <s>] ...`: N lightweight
 * edges in this process (see fleet.ts). Prints the fleet's own rate every few
 * seconds and a summary (`summary-json {...}` on the last line, like the
 * single-center sim). Stops on SIGINT/SIGTERM or after --duration.
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { startScaleFleet, type FleetStats, type ScaleFleet } from "./fleet.ts";

export const SCALE_USAGE = `usage: hazri sim --scale <N> --broker <mqtt url> [options]

  --scale <N>             simulated edges (centers) in this process, each its own MQTT client
  --broker <url>          the central broker (mqtt://host:port)
  --duration <s>          run this long, then drain acks and stop (default: until SIGINT/SIGTERM)
  --rate <r>              mean events/s per center (default 0.2; heartbeats and uplink events on top)
  --seed <n>              seed for center models (default 1)
  --prefix <p>            center id prefix (default "sc": sc-0001, sc-0002, ...)
  --heartbeat <s>         heartbeat period (default 30)
  --storm-at <s>          play a national outage this many seconds after start
  --outage <s>            outage length for --storm-at (default 10)
  --reconnect-within <s>  all edges reconnect within this window after the outage (default 2)
  --username <u> --password <p>   one broker credential for every edge
  --credentials <file>    JSON {"<centerId>": "<password>"}: username = center id (broker auth "centers")
  --report-every <s>      progress line period (default 5)
`;

type Out = (s: string) => void;

function line(s: FleetStats): string {
  const l = s.ackLatencyMs;
  return `connected ${s.connected}/${s.centers}; generated ${s.generated}, published ${s.published} (${s.publishedPerSec}/s), acked ${s.acked} (${s.ackedPerSec}/s), pending ${s.pending}, resent ${s.resent}; ack latency p50 ${l.p50} ms p99 ${l.p99} ms`;
}

export async function scaleMain(argv: string[], io: { out?: Out; err?: Out; signals?: NodeJS.EventEmitter } = {}): Promise<number> {
  const out = io.out ?? ((s: string) => void process.stdout.write(`${s}\n`));
  const err = io.err ?? ((s: string) => void process.stderr.write(`${s}\n`));
  const signals = io.signals ?? process;
  // Before parseArgs: `--scale --help` would read "--help" as the value of --scale (an ambiguous-argument error).
  if (argv.some((x) => x === "--help" || x === "-h")) {
    out(SCALE_USAGE);
    return 0;
  }
  let a;
  try {
    a = parseArgs({
      args: argv,
      options: {
        scale: { type: "string" },
        broker: { type: "string" },
        duration: { type: "string" },
        rate: { type: "string" },
        seed: { type: "string" },
        prefix: { type: "string" },
        heartbeat: { type: "string" },
        "storm-at": { type: "string" },
        outage: { type: "string" },
        "reconnect-within": { type: "string" },
        username: { type: "string" },
        password: { type: "string" },
        credentials: { type: "string" },
        "report-every": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }).values;
  } catch (e) {
    err(`hazri sim: ${(e as Error).message}\n\n${SCALE_USAGE}`);
    return 2;
  }
  if (a.help) {
    out(SCALE_USAGE);
    return 0;
  }
  const num = (name: string, v: string | undefined, dflt: number, ok: (n: number) => boolean): number => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isFinite(n) || !ok(n)) throw new Error(`--${name} ${JSON.stringify(v)} is not valid`);
    return n;
  };
  let n: number, rate: number, seed: number, durationS: number, heartbeat: number, stormAt: number, outage: number, within: number, every: number;
  try {
    n = num("scale", a.scale, 0, (x) => Number.isInteger(x) && x >= 1 && x <= 20_000);
    if (!a.broker || !/^(mqtts?|tcp):\/\//.test(a.broker)) throw new Error("--broker <mqtt://host:port> is required");
    rate = num("rate", a.rate, 0.2, (x) => x >= 0 && x <= 1000);
    seed = num("seed", a.seed, 1, Number.isInteger);
    durationS = num("duration", a.duration, Infinity, (x) => x > 0);
    heartbeat = num("heartbeat", a.heartbeat, 30, (x) => Number.isInteger(x) && x >= 1);
    stormAt = num("storm-at", a["storm-at"], -1, (x) => x >= 0);
    outage = num("outage", a.outage, 10, (x) => x >= 0);
    within = num("reconnect-within", a["reconnect-within"], 2, (x) => x >= 0);
    every = num("report-every", a["report-every"], 5, (x) => x > 0);
    if (a.prefix !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_-]{0,50}$/.test(a.prefix)) throw new Error("--prefix must be [A-Za-z0-9_-]");
    if ((a.username === undefined) !== (a.password === undefined)) throw new Error("--username and --password go together");
  } catch (e) {
    err(`hazri sim: ${(e as Error).message}\n\n${SCALE_USAGE}`);
    return 2;
  }
  let perCenter: Record<string, string> | null = null;
  if (a.credentials) {
    try {
      perCenter = JSON.parse(await readFile(a.credentials, "utf8")) as Record<string, string>;
    } catch (e) {
      err(`hazri sim: cannot read --credentials ${a.credentials}: ${(e as Error).message}`);
      return 2;
    }
  }
  const shared = a.username !== undefined ? { username: a.username, password: a.password as string } : undefined;
  const credentials = perCenter
    ? (id: string) => ({ username: id, password: perCenter?.[id] ?? "" })
    : shared;

  const stop = new AbortController();
  const onInt = () => stop.abort();
  signals.on("SIGINT", onInt);
  signals.on("SIGTERM", onInt);
  let fleet: ScaleFleet | undefined;
  try {
    out(`hazri sim: scale mode, ${n} centers → ${a.broker}, ${rate} events/s per center, seed ${seed}`);
    fleet = await startScaleFleet({ brokerUrl: a.broker, centers: n, ratePerCenter: rate, seed, heartbeatS: heartbeat, ...(a.prefix ? { idPrefix: a.prefix } : {}), ...(credentials ? { credentials } : {}) });
    const f = fleet;
    out(`ready: ${n} centers connected (${f.centerIds[0]} … ${f.centerIds[f.centerIds.length - 1]})`);
    const progress = setInterval(() => out(line(f.stats())), every * 1000);
    const started = performance.now();
    if (stormAt >= 0) {
      await new Promise<void>((r) => {
        const t = setTimeout(r, stormAt * 1000);
        stop.signal.addEventListener("abort", () => (clearTimeout(t), r()), { once: true });
      });
      if (!stop.signal.aborted) {
        out(`storm: all ${n} edges lose the link for ${outage} s`);
        const rep = await f.storm({ outageMs: outage * 1000, reconnectWithinMs: within * 1000 });
        out(`storm: backlog ${rep.backlogEvents} events; all reconnected in ${rep.allReconnectedMs} ms; backlog acked in ${rep.backlogAckedMs} ms`);
      }
    }
    const left = durationS * 1000 - (performance.now() - started);
    if (left > 0 && !stop.signal.aborted) {
      await new Promise<void>((r) => {
        const t = Number.isFinite(left) ? setTimeout(r, left) : null;
        stop.signal.addEventListener("abort", () => (t && clearTimeout(t), r()), { once: true });
      });
    }
    clearInterval(progress);
    let s: FleetStats;
    try {
      s = await f.drain(stop.signal.aborted ? 5_000 : 60_000);
    } catch {
      s = f.stats();
    }
    out(`summary: ${line(s)}`);
    out(`summary-json ${JSON.stringify(s)}`);
    return s.pending === 0 ? 0 : 1;
  } catch (e) {
    err(`hazri sim: ${(e as Error).message}`);
    return 1;
  } finally {
    await fleet?.stop();
    signals.off("SIGINT", onInt);
    signals.off("SIGTERM", onInt);
  }
}
