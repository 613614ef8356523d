import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Clock, Logger } from "../../protocol/clock.ts";
import type { EventDraft } from "../../protocol/events.ts";
import type { EdgeConfig } from "./config.ts";
import { loadMembers, type MemberDirectory } from "./access/members.ts";
import { attachReader, type ReaderCounters } from "./access/reader.ts";
import { accessPolicy } from "./access/policy.ts";
import { createMemberCache, memberCacheFile, type MemberCacheStore } from "./access/member-cache.ts";
import { createPresence } from "./access/presence.ts";
import { startHeartbeat, type Heartbeat } from "./status/heartbeat.ts";
import { createLocalState } from "./status/local-state.ts";
import { startLanHttp, type LanHttp } from "./status/lan-http.ts";
import { aliveMarkerFile, bootDraft, readAliveMarker, startAliveMarker, type AliveMarker } from "./status/alive-marker.ts";
import { HazriError } from "../../protocol/errors.ts";
import { cardSource } from "./devices/wiegand/card-source.ts";
import { openEvdevDevice } from "./devices/wedge/evdev-device.ts";
import { openRadarDevice, type RadarDevice } from "./devices/ld2410/radar-device.ts";
import { openContactDevice, type ContactDevice } from "./door/contact-device.ts";
import { createDoor, type Door } from "./door/door.ts";
import { openOutbox, type Outbox } from "./outbox/outbox.ts";
import { openSerialDevice, type SerialDevice } from "./serial/serial-device.ts";
import { startPower, type PowerService } from "./power/service.ts";
import { startLanBroker, type LanBroker } from "./seats/lan-broker.ts";
import { createSeatTracker, type SeatTracker } from "./seats/seats.ts";
import { createSettableClock, type SettableClock } from "./uplink/settable-clock.ts";
import { createUplink, type Uplink } from "./uplink/uplink.ts";

/**
 * The edge agent composes the services; it owns no protocol logic itself
 * (style guide §8: no god classes).
 */
export type DeviceHealthState = "ok" | "degraded" | "down" | "unknown";

export interface EdgeAgentStatus {
  outboxDepth: number;
  devices: Record<string, DeviceHealthState>;
  uplink: "up" | "down";
  lastRttMs: number | null;
  clockSynced: boolean;
  lanPort: number | null;
  readers: Record<string, ReaderCounters>;
  discardedBytes: Record<string, number>;
  /** Bytes each reader's framer holds right now (bounded: a started frame at most). */
  framerBuffered: Record<string, number>;
  /** Door position from each door's reed switch (doors without a contact are absent). */
  doorContacts: Record<string, "open" | "closed" | "unknown">;
  /** Each door's relay as the agent drives it (unlocked inside a grant's window). */
  doors: Record<string, "unlocked" | "locked">;
  /** Power state per UPS-role device (source + link), see edge/src/power/state.ts. */
  power: Record<string, { source: string; link: string }>;
  /** Signed member cache (null when not configured: the static member file decides). */
  memberCache: { version: number | null; members: number; ageMs: number | null; needsFull: boolean; rejected: number } | null;
  replay: { active: boolean; remaining: number; ackedPerS: number } | null;
  /** Seat/heartbeat events coalesced under outbox pressure (persisted total). */
  coalesced: number;
}

export interface EdgeAgent {
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): EdgeAgentStatus;
  /** The LAN status page's snapshot (GET /api/status). */
  localStatus(): Record<string, unknown>;
  /** Port of the LAN status page (null when `lan.http` is off or not started). */
  httpPort(): number | null;
  readonly bootId: string;
}

export interface EdgeAgentDeps {
  logger: Logger;
  clock: Clock;
  /** serialport binding (MockBinding in unit tests); default: the platform binding. */
  binding?: unknown;
  bootId?: string;
  /** Serial reopen back-off, default 250 ms → 5 s. */
  serialBackoff?: { initialMs?: number; maxMs?: number };
  /** Presentation timeout (§1.3), default 500 ms. */
  removeAfterMs?: number;
}

const replayFields = (u: Uplink) => {
  const { active, remaining, ackedPerS } = u.replay();
  return { active, remaining, ackedPerS };
};

export async function createEdgeAgent(config: EdgeConfig, deps: EdgeAgentDeps): Promise<EdgeAgent> {
  const log = deps.logger.child({ ns: "edge", center: config.center });
  const bootId = deps.bootId ?? randomBytes(8).toString("hex");
  const clock: SettableClock = createSettableClock(deps.clock, { trusted: config.trustedClock });
  // What the previous run left (alive-marker.ts): read before anything else writes the marker.
  const prevRun = readAliveMarker(aliveMarkerFile(config.dataDir));
  const startMono = clock.mono();
  // A box without RTC (fake-hwclock) can boot with its clock BEHIND; the previous run was alive at
  // prevAliveTs and at least (mono elapsed) has passed since, so that is a lower bound for "now"
  // while unsynced. Used where an under-estimate would be unsafe: member-cache staleness, alive marks.
  const floorTs = prevRun.ok ? prevRun.mark.ts : null;
  const nowLowerBound = (): number => {
    const n = clock.now();
    return clock.synced() || floorTs === null ? n : Math.max(n, floorTs + Math.max(0, clock.mono() - startMono));
  };
  // Load what can fail on bad input before touching any device.
  const directory: MemberDirectory = await loadMembers(config.members);
  let cache: MemberCacheStore | null = null;
  if (config.memberCache) {
    let pem: string;
    try {
      pem = await readFile(config.memberCache.publicKeyFile, "utf8");
    } catch (e) {
      throw new HazriError("CONFIG_NOT_FOUND", `member cache public key not found: ${config.memberCache.publicKeyFile}`, undefined, { cause: e });
    }
    const cacheClock = { now: nowLowerBound, mono: () => clock.mono() };
    cache = createMemberCache({ file: memberCacheFile(config.dataDir), centerId: config.center, publicKeyPem: pem, clock: cacheClock, logger: deps.logger });
    await cache.load();
  }
  // The signed cache replaces the bootstrap file as soon as one version is held.
  const activeDirectory = (): MemberDirectory => (cache && cache.version() !== null ? cache.directory : directory);
  const cacheAgeMs = (): number | undefined => (cache && cache.version() !== null ? cache.ageMs() : undefined);
  const policy = accessPolicy(config);
  const presence = createPresence({ ttlMs: config.access.presenceTtlH * 3600_000 });
  let outbox: Outbox | null = null;
  let uplink: Uplink | null = null;
  let lan: LanBroker | null = null;
  let seats: SeatTracker | null = null;
  let power: PowerService | null = null;
  let heartbeat: Heartbeat | null = null;
  let alive: AliveMarker | null = null;
  let http: LanHttp | null = null;
  const local = createLocalState({ seats: config.seats, ...(config.lan.http ? { ringSize: config.lan.http.recentEvents } : {}) });
  const relays = new Map<string, SerialDevice>();
  const readers = new Map<string, SerialDevice>();
  const readerCounters: Record<string, ReaderCounters> = {};
  const doors = new Map<string, Door>();
  const contacts = new Map<string, ContactDevice>();
  const radars = new Map<string, RadarDevice>();
  let started = false;

  const record = (d: EventDraft): void => {
    if (!outbox) return;
    local.observe(d, Math.round(clock.now())); // the LAN page shows it even if the disk fails below
    try {
      outbox.append(d);
    } catch (e) {
      log.error({ err: e, type: d.type }, "outbox append failed");
      return;
    }
    uplink?.kick();
  };

  const devices = (): Record<string, DeviceHealthState> => {
    const out: Record<string, DeviceHealthState> = {};
    for (const [id, d] of relays) out[id] = d.health();
    for (const [id, d] of readers) out[id] = d.health();
    for (const c of contacts.values()) out[c.device.id] = c.device.health();
    for (const [id, r] of radars) out[id] = r.device.health();
    Object.assign(out, power?.health() ?? {});
    return out;
  };

  const api: EdgeAgent = {
    bootId,
    httpPort: () => http?.port ?? null,
    localStatus() {
      const st = api.status();
      const pv = local.power();
      return {
        v: 1,
        center: config.center,
        bootId,
        ts: Math.round(clock.now()),
        clockSynced: st.clockSynced,
        uplink: { state: st.uplink, rttMs: st.lastRttMs },
        outbox: { depth: st.outboxDepth, coalesced: st.coalesced },
        replay: st.replay,
        devices: st.devices,
        doors: Object.fromEntries(Object.entries(st.doors).map(([id, relay]) => [id, { relay, contact: st.doorContacts[id] ?? null }])),
        power: Object.fromEntries(Object.entries(st.power).map(([id, p]) => [id, { ...p, ups: pv[id]?.ups ?? null, at: pv[id]?.at ?? null }])),
        seats: local.seats(),
        presence: { inside: presence.occupancy(clock.mono()) },
        events: local.recent(),
        memberCache: st.memberCache,
        readers: st.readers,
        discardedBytes: st.discardedBytes,
        framerBuffered: st.framerBuffered,
        process: { rssBytes: process.memoryUsage.rss(), uptimeS: Math.round(process.uptime()) },
      };
    },
    async start() {
      if (started) return;
      started = true;
      outbox = openOutbox({
        path: path.join(config.dataDir, "outbox.sqlite"),
        centerId: config.center,
        bootId,
        clock,
        synced: () => clock.synced(),
        maxEvents: config.outbox.maxEvents,
        ...(config.outbox.seatCoalesceAt !== undefined ? { seatCoalesceAt: config.outbox.seatCoalesceAt } : {}),
        onPressure: (state, depth, coalesced) =>
          state === "full"
            ? log.error({ code: "OUTBOX_FULL", depth, coalesced }, "outbox past maxEvents: only never-drop events still grow it")
            : log.warn({ depth, coalesced }, `outbox pressure ${state}: seat telemetry ${state === "start" ? "is" : "no longer"} coalesced`),
      });
      // In-flight state of a previous process is unknown: everything un-acked is due again.
      outbox.resetInflight();
      log.info({ bootId, depth: outbox.depth(), lastSeq: outbox.lastSeq() }, "edge agent starting");
      // The boot event first (evidence of the previous run's end), then this run's marks.
      const boot = bootDraft(prevRun);
      record(boot);
      log.info({ ...boot, ...(prevRun.ok ? {} : { marker: prevRun.reason }) }, "previous run");
      alive = await startAliveMarker({ file: aliveMarkerFile(config.dataDir), bootId, intervalS: config.aliveMarkS, now: nowLowerBound, synced: () => clock.synced(), logger: deps.logger });
      const backoff = deps.serialBackoff ?? {};
      for (const d of config.doors) {
        let door: Door | undefined;
        const dev = await openSerialDevice({
          id: d.id,
          path: d.relay.path,
          baudRate: d.relay.baudRate,
          logger: deps.logger,
          binding: deps.binding,
          backoff,
          // §8.1: the board powers up off and loses state on re-enumeration.
          onOpen: () => door?.resync(),
        });
        // Fail-safe maglocks release when mains is cut (lock PSU on mains, edge/README.md).
        const lockUnpowered = () => Object.values(power?.states() ?? {}).some((p) => p.source === "battery" || p.source === "low_battery" || p.source === "down");
        const cd = d.contact ? await openContactDevice({ door: { ...d, contact: d.contact }, clock, record, logger: deps.logger, binding: deps.binding, backoff, lockUnpowered }) : null;
        if (cd) contacts.set(d.id, cd);
        const windowMs = d.unlockMs + (d.contact?.graceMs ?? 0);
        door = createDoor({ id: d.id, channel: d.relay.channel, unlockMs: d.unlockMs, write: (b) => dev.write(b), record, logger: deps.logger, onUnlocked: () => cd?.contact.unlocked(windowMs) });
        relays.set(d.id, dev);
        doors.set(d.id, door);
      }
      for (const r of config.readers) {
        const src = cardSource(r.type, r.type === "wedge" ? { byteOrder: r.byteOrder } : {});
        const dev =
          r.type === "wedge" && r.input === "evdev"
            ? await openEvdevDevice({ id: r.id, path: r.path, logger: deps.logger, backoff })
            : await openSerialDevice({ id: r.id, path: r.path, baudRate: r.baudRate, framer: src.framer(), logger: deps.logger, binding: deps.binding, backoff });
        readers.set(r.id, dev);
        readerCounters[r.id] = attachReader({
          reader: r,
          device: dev,
          door: doors.get(r.door),
          directory: activeDirectory,
          policy,
          cacheAgeMs,
          presence,
          clockSynced: () => clock.synced(),
          centerId: config.center,
          utcOffsetMin: config.utcOffsetMin,
          clock,
          record,
          logger: deps.logger,
          ...(deps.removeAfterMs !== undefined ? { removeAfterMs: deps.removeAfterMs } : {}),
          decode: src.decode,
        }).counters;
      }
      power = await startPower({
        devices: config.power,
        record,
        logger: deps.logger,
        binding: deps.binding,
        ...(deps.serialBackoff ? { serialBackoff: deps.serialBackoff } : {}),
      });
      lan = await startLanBroker({ host: config.lan.host, port: config.lan.port, logger: deps.logger });
      for (const s of config.seats) {
        if (s.source === "ld2410") radars.set(s.id, await openRadarDevice({ seat: s, debounceMs: config.lan.seatDebounceMs, record, logger: deps.logger, binding: deps.binding, backoff }));
      }
      const mqttSeats = config.seats.flatMap((s) => (s.source === "mqtt" ? [s] : []));
      const tracker = createSeatTracker({ seats: mqttSeats, debounceMs: config.lan.seatDebounceMs, record, logger: deps.logger });
      seats = tracker;
      lan.broker.on("publish", (packet) => {
        if (!packet.topic.startsWith("$SYS/")) tracker.handle(packet.topic, packet.payload as Uint8Array);
      });
      uplink = createUplink({
        url: config.uplink.url,
        ...(config.uplink.username !== undefined ? { username: config.uplink.username } : {}),
        ...(config.uplink.password !== undefined ? { password: config.uplink.password } : {}),
        centerId: config.center,
        bootId,
        outbox,
        clock,
        logger: deps.logger,
        batchSize: config.uplink.batchSize,
        resendAfterMs: config.uplink.resendAfterMs,
        window: config.uplink.window,
        replayShare: config.uplink.replayShare,
        keepaliveS: config.uplink.keepaliveS,
        timeSyncWaitMs: config.uplink.timeSyncWaitMs,
        record,
        // A heartbeat as a replay starts and as it ends: its progress is in the heartbeat series even
        // when the replay is shorter than the heartbeat interval (issue 3: progress visible in heartbeats).
        onReplayChange: () => heartbeat?.beat(),
        ...(cache
          ? {
              onMembers: (payload: Buffer) => {
                if (cache?.handle(payload) === "gap") uplink?.requestFullCache();
              },
              onServerAck: () => cache?.confirm(),
              statusExtra: () => ({ cacheVersion: cache?.version() ?? null }),
            }
          : {}),
      });
      uplink.start();
      heartbeat = startHeartbeat({
        intervalS: config.uplink.heartbeatS,
        clock,
        record,
        onError: (e) => log.error({ err: e }, "heartbeat failed"),
        fields: () => ({
          outboxDepth: outbox?.depth() ?? 0,
          devices: devices(),
          uplinkRttMs: uplink?.lastRttMs() ?? null,
          ...(cache ? { cacheVersion: cache.version() } : {}),
          coalesced: outbox?.stats().coalesced ?? 0,
          ...(uplink ? { replay: replayFields(uplink) } : {}),
          clockOffsetMs: clock.synced() ? clock.offsetMs() : null,
        }),
      });
      heartbeat.beat();
      if (config.lan.http) {
        // Off the WAN path entirely: served from memory, so it works with the uplink down.
        http = await startLanHttp({ host: config.lan.http.host, port: config.lan.http.port, status: () => api.localStatus(), logger: deps.logger, title: `Hazri ${config.center}` });
      }
      log.info({ lanPort: lan.port, doors: doors.size, readers: readers.size, seats: config.seats.length }, "edge agent started");
    },
    async stop() {
      if (!started) return;
      started = false;
      heartbeat?.stop();
      heartbeat = null;
      await http?.close();
      http = null;
      for (const d of doors.values()) d.close(); // lock doors (relay OFF) while the relay port is still open
      seats?.close();
      await power?.close();
      power = null;
      await uplink?.stop();
      uplink = null;
      await lan?.close();
      lan = null;
      for (const c of [...contacts.values(), ...radars.values()]) await c.close();
      contacts.clear();
      radars.clear();
      for (const d of [...readers.values(), ...relays.values()]) await d.close();
      readers.clear();
      relays.clear();
      doors.clear();
      await cache?.close();
      outbox?.close(); // checkpoint-free close: WAL + synchronous=FULL already made every commit durable
      outbox = null;
      await alive?.stop(); // last: "stopped" means everything above finished (doors locked, outbox closed)
      alive = null;
      log.info({}, "edge agent stopped");
    },
    status() {
      const discardedBytes: Record<string, number> = {};
      const framerBuffered: Record<string, number> = {};
      for (const [id, d] of readers) {
        discardedBytes[id] = d.counters.discardedBytes;
        framerBuffered[id] = d.buffered();
      }
      return {
        outboxDepth: outbox?.depth() ?? 0,
        devices: devices(),
        uplink: uplink?.state() ?? "down",
        lastRttMs: uplink?.lastRttMs() ?? null,
        clockSynced: clock.synced(),
        lanPort: lan?.port ?? null,
        readers: { ...readerCounters },
        discardedBytes,
        framerBuffered,
        doorContacts: Object.fromEntries([...contacts].map(([id, c]) => [id, c.contact.state()])),
        doors: Object.fromEntries([...doors].map(([id, d]) => [id, d.isUnlocked() ? "unlocked" : "locked"])),
        power: power?.states() ?? {},
        memberCache: cache
          ? { version: cache.version(), members: cache.directory.size(), ageMs: cache.ageMs() ?? null, needsFull: cache.needsFull(), rejected: cache.counters.rejected }
          : null,
        replay: uplink ? replayFields(uplink) : null,
        coalesced: outbox?.stats().coalesced ?? 0,
      };
    },
  };
  return api;
}
