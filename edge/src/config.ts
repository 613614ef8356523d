import { readFile } from "node:fs/promises";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { HazriError } from "../../protocol/errors.ts";
import { CenterId, DeviceId } from "../../protocol/ids.ts";
import { MAX_BATCH_EVENTS } from "../../protocol/messages.ts";
import { formatIssues } from "./config-issues.ts";
import { doorContactFields, ReaderConfig, SeatConfig } from "./serial/device-config.ts";
import { PowerConfig } from "./power/config.ts";

/**
 * One YAML config per center (style guide lesson 12): zod `.strict()` so a typo
 * is an error, every problem reported at once with its path, ranges carry
 * human-readable bounds. Relative paths resolve against the config file's folder.
 */
const ms = (min: number, max: number) =>
  z.number().int().min(min, `must be between ${min} and ${max} milliseconds`).max(max, `must be between ${min} and ${max} milliseconds`);
const Port = z.number().int().min(0).max(65535);

const Uplink = z
  .object({
    url: z.string().regex(/^(mqtts?|tcp|ssl|wss?):\/\//, "must be an mqtt://, mqtts://, tcp://, ws:// or wss:// URL"),
    username: z.string().optional(),
    password: z.string().optional(),
    /**
     * Events per uplink batch. 100 rather than more: a batch's outbox work (read, mark sent, delete on ack) is
     * one synchronous block on the door's thread, and the server merges batches of all edges into its own
     * InfluxDB writes anyway (server ingest maxWriteEvents); see BENCHMARKS.md "Edge on real ptys".
     */
    batchSize: z.number().int().min(1).max(MAX_BATCH_EVENTS).default(100),
    resendAfterMs: ms(100, 600_000).default(10_000),
    heartbeatS: z.number().int().min(1).max(3600).default(30),
    window: z.number().int().min(1).max(64).default(4),
    keepaliveS: z.number().int().min(1).max(600).default(15),
    /** After connecting with an unsynced clock, hold this boot's events back this long for the time reply (their times are then corrected). */
    timeSyncWaitMs: ms(0, 60_000).default(5000),
    /**
     * Share of the event loop a backlog replay may take, so taps keep their latency (uplink.ts replayShare).
     * 0.15 measured over 5,000 taps during a 1.4 M-event replay: tap p99 2.3 × the bare pty round trip, the
     * replay still ~7,600 events/s (0.25: 3.3 ×, ~17,000/s; 0.5: p50 2.9 ms instead of 0.3). BENCHMARKS.md.
     */
    replayShare: z.number().min(0.05).max(1).default(0.15),
  })
  .strict();

const Serial = { path: z.string().min(1), baudRate: z.number().int().positive().default(9600) };

const Door = z
  .object({
    id: DeviceId,
    relay: z.object({ ...Serial, channel: z.number().int().min(1).max(255).default(1) }).strict(),
    unlockMs: ms(100, 60_000).default(3000),
    ...doorContactFields,
  })
  .strict();

const Reader = ReaderConfig;

// Access rules (edge/src/access/decide.ts). Windows are local time (utcOffsetMin),
// [from, to); from > to wraps midnight (night shift). 24x7 members ignore them.
const HhMm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "expected HH:MM (00:00-23:59)");
const Window = z.object({ from: HhMm, to: HhMm }).strict();
const Access = z
  .object({
    schedules: z
      .object({ day: Window.default({ from: "08:00", to: "20:00" }), night: Window.default({ from: "20:00", to: "08:00" }) })
      .strict()
      .prefault({}),
    /** At `capacity` people inside: deny "in" taps, or grant them flagged (flagged=true, flag "capacity"). */
    capacityMode: z.enum(["deny", "flag"]).default("deny"),
    /** Hours without a confirmed member cache after which only staff get in. */
    staleAfterH: z.number().min(1).max(24 * 365).default(72),
    /** An "in" with no "out" stops counting as inside after this many hours (capacity, anti-passback). */
    presenceTtlH: z.number().min(1).max(168).default(16),
  })
  .strict();

const Outbox = z
  .object({
    /** Soft bound: at this depth seat telemetry is coalesced; access, door, power, uplink are never dropped. */
    maxEvents: z.number().int().min(100).max(50_000_000).default(1_000_000),
    /** Depth at which seat/heartbeat telemetry starts being coalesced (pressure alarm); ≤ maxEvents; default 80 % of maxEvents. */
    seatCoalesceAt: z.number().int().min(10).max(50_000_000).optional(),
  })
  .strict();

const Seat = SeatConfig;

export const EdgeConfig = z
  .object({
    center: CenterId,
    dataDir: z.string().min(1),
    uplink: Uplink,
    lan: z
      .object({
        host: z.string().default("127.0.0.1"),
        port: Port.default(18830),
        seatDebounceMs: ms(0, 600_000).default(0),
        /** Local status page + API (edge/src/status/lan-http.ts); absent = off. No auth: bind to the LAN only. */
        http: z
          .object({ host: z.string().default("127.0.0.1"), port: Port.default(8088), recentEvents: z.number().int().min(1).max(1000).default(50) })
          .strict()
          .optional(),
      })
      .strict(),
    members: z.string().min(1),
    /** Server-signed member cache on down/members; the `members` file is the bootstrap until one verifies. */
    memberCache: z.object({ publicKeyFile: z.string().min(1) }).strict().optional(),
    access: Access.prefault({}),
    outbox: Outbox.prefault({}),
    capacity: z.number().int().min(0).optional(),
    /**
     * Seconds between alive marks (edge/src/status/alive-marker.ts): the start of an "edge dark" period
     * is known to within this. One fdatasync'd 4 KiB page per mark (SD-card wear: edge/README.md).
     */
    aliveMarkS: z.number().min(0.1).max(3600).default(1),
    /** true when the box has NTP/RTC: never adopt server time. Default false (§0.7: no RTC after a power cut). */
    trustedClock: z.boolean().default(false),
    /** Minutes east of UTC for plan end dates (default +300, PKT). */
    utcOffsetMin: z.number().int().min(-720).max(840).default(300),
    doors: z.array(Door).default([]),
    readers: z.array(Reader).default([]),
    seats: z.array(Seat).default([]),
    /** UPSes / inverters / NUT UPSes (edge/src/power/config.ts). */
    power: PowerConfig,
  })
  .strict()
  // Cross-field checks run even when other fields are invalid (`when`), so the
  // operator sees every problem in one go; hence the defensive reads below.
  .superRefine((c, ctx) => crossCheck(c as unknown, ctx), { when: (p) => typeof p.value === "object" && p.value !== null });

type Ctx = { addIssue(i: { code: "custom"; path: PropertyKey[]; message: string }): void };
function list(v: unknown): Record<string, unknown>[] {
  return Array.isArray(v) ? v.map((x) => (typeof x === "object" && x !== null ? (x as Record<string, unknown>) : {})) : [];
}
function crossCheck(raw: unknown, ctx: Ctx): void {
  const c = raw as Record<string, unknown>;
  const doors = list(c.doors);
  const readers = list(c.readers);
  const seats = list(c.seats);
  const dup = (items: Record<string, unknown>[], key: string) => {
    const seen = new Set<unknown>();
    items.forEach((x, i) => {
      if (typeof x.id !== "string") return;
      if (seen.has(x.id)) ctx.addIssue({ code: "custom", path: [key, i, "id"], message: `duplicate id "${x.id}"` });
      seen.add(x.id);
    });
  };
  dup(doors, "doors");
  dup(readers, "readers");
  dup(seats, "seats");
  const power = list(c.power);
  dup(power, "power");
  const otherIds = new Set([...doors, ...readers].map((d) => d.id));
  power.forEach((p, i) => {
    // Device ids share one namespace in the heartbeat's device-health map.
    if (typeof p.id === "string" && otherIds.has(p.id))
      ctx.addIssue({ code: "custom", path: ["power", i, "id"], message: `id "${p.id}" is also a door or reader id` });
  });
  const doorIds = new Set(doors.map((d) => d.id));
  readers.forEach((r, i) => {
    if (typeof r.id === "string" && doorIds.has(r.id))
      ctx.addIssue({ code: "custom", path: ["readers", i, "id"], message: `id "${r.id}" is also a door id` });
    if (typeof r.door === "string" && !doorIds.has(r.door))
      ctx.addIssue({ code: "custom", path: ["readers", i, "door"], message: `unknown door "${r.door}"` });
  });
  const ob = c.outbox as Record<string, unknown> | undefined;
  if (ob && typeof ob.maxEvents === "number" && typeof ob.seatCoalesceAt === "number" && ob.seatCoalesceAt > ob.maxEvents)
    ctx.addIssue({ code: "custom", path: ["outbox", "seatCoalesceAt"], message: "must be <= outbox.maxEvents" });
  const nodeObj = new Set<string>();
  seats.forEach((s, i) => {
    if (typeof s.node !== "string") return;
    const k = `${s.node}/${typeof s.object === "string" ? s.object : "seat_occupied"}`;
    if (nodeObj.has(k)) ctx.addIssue({ code: "custom", path: ["seats", i, "node"], message: `sensor ${k} mapped twice` });
    nodeObj.add(k);
  });
  // A door's contact reports health as "<door>-contact"; LD2410 seats under their seat id (heartbeat map).
  const healthIds = new Map<string, string>();
  doors.forEach((d) => typeof d.id === "string" && d.contact !== undefined && healthIds.set(`${d.id}-contact`, `doors.${d.id}.contact`));
  [...readers.map((r, i) => ["readers", i, r] as const), ...seats.map((x, i) => ["seats", i, x] as const)].forEach(([k, i, x]) => {
    if (typeof x.id === "string" && healthIds.has(x.id))
      ctx.addIssue({ code: "custom", path: [k, i, "id"], message: `id "${x.id}" is the health id of ${healthIds.get(x.id)}` });
  });
  // One serial port, one device: two configured devices on one path would steal each other's bytes.
  const paths = new Map<string, string>();
  const usePath = (p: unknown, at: PropertyKey[]) => {
    if (typeof p !== "string") return;
    const prev = paths.get(p);
    if (prev) ctx.addIssue({ code: "custom", path: at, message: `serial port ${p} is already used by ${prev}` });
    else paths.set(p, at.join("."));
  };
  readers.forEach((r, i) => usePath(r.path, ["readers", i, "path"]));
  doors.forEach((d, i) => {
    usePath((d.relay as Record<string, unknown> | undefined)?.path, ["doors", i, "relay", "path"]);
    usePath((d.contact as Record<string, unknown> | undefined)?.path, ["doors", i, "contact", "path"]);
  });
  seats.forEach((s, i) => usePath(s.path, ["seats", i, "path"]));
}
export type EdgeConfig = z.infer<typeof EdgeConfig>;

/** Validate an already-parsed object; `baseDir` resolves relative paths. */
export function parseEdgeConfig(raw: unknown, baseDir: string, source = "config"): EdgeConfig {
  const r = EdgeConfig.safeParse(raw);
  if (!r.success) {
    const lines = formatIssues(r.error.issues);
    throw new HazriError("CONFIG_INVALID", `${source} is invalid:\n${lines.join("\n")}`, { issues: lines });
  }
  const c = r.data;
  return {
    ...c,
    dataDir: path.resolve(baseDir, c.dataDir),
    members: path.resolve(baseDir, c.members),
    ...(c.memberCache ? { memberCache: { publicKeyFile: path.resolve(baseDir, c.memberCache.publicKeyFile) } } : {}),
  };
}

export async function loadEdgeConfig(file: string): Promise<EdgeConfig> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw new HazriError("CONFIG_NOT_FOUND", `config file not found: ${file}`, { file }, { cause: e });
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new HazriError("CONFIG_PARSE", `${file}: YAML syntax error: ${(e as Error).message}`, { file }, { cause: e });
  }
  return parseEdgeConfig(raw, path.dirname(path.resolve(file)), file);
}
