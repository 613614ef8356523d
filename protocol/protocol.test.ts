import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { HazriEvent, SCHEMA_VERSION } from "./events.ts";
import { eventTimeNs, eventToLine, eventToPoint, toLineProtocol } from "./influx.ts";
import { AckMessage, UplinkBatch, expandRanges, toRanges } from "./messages.ts";
import { lanTopics, parseTopic, topics } from "./topics.ts";

const base = { v: SCHEMA_VERSION, centerId: "lhr-01", bootId: "boot-abc123", ts: 1_763_700_000_123, mono: 12.5, synced: true };
const badge = {
  ...base,
  seq: 42,
  type: "badge",
  door: "main",
  reader: "main-in",
  direction: "in",
  cardId: "62E3086CED",
  memberId: "m-0001",
  decision: "granted",
  reason: "ok",
  flagged: false,
} as const;

describe("event schemas", () => {
  it("accepts every event type and rejects the wrong shape with a path", () => {
    expect(HazriEvent.parse(badge).type).toBe("badge");
    const r = HazriEvent.safeParse({ ...badge, seq: -1, cardId: "not hex" });
    expect(r.success).toBe(false);
    const paths = r.success ? [] : r.error.issues.map((i) => i.path.join("."));
    expect(paths).toEqual(expect.arrayContaining(["seq", "cardId"]));
  });
  it("rejects an unknown type and a wrong schema version", () => {
    expect(HazriEvent.safeParse({ ...badge, type: "teleport" }).success).toBe(false);
    expect(HazriEvent.safeParse({ ...badge, v: 2 }).success).toBe(false);
  });
  it("refuses ids that would need escaping in topics or tags", () => {
    expect(HazriEvent.safeParse({ ...badge, centerId: "lhr/01" }).success).toBe(false);
    expect(HazriEvent.safeParse({ ...badge, door: "main door" }).success).toBe(false);
    expect(HazriEvent.safeParse({ ...badge, door: "a+#" }).success).toBe(false);
  });
  it("bounds the uplink batch", () => {
    const ok = { v: 1, centerId: "lhr-01", bootId: "boot-abc123", sentAt: 1, events: [badge] };
    expect(UplinkBatch.safeParse(ok).success).toBe(true);
    expect(UplinkBatch.safeParse({ ...ok, events: [] }).success).toBe(false);
    expect(UplinkBatch.safeParse({ ...ok, events: new Array(501).fill(badge) }).success).toBe(false);
  });
  it("ack ranges must be ordered", () => {
    const ack = { v: 1, centerId: "lhr-01", acked: [[5, 3]], rejected: [], serverTime: 0 };
    expect(AckMessage.safeParse(ack).success).toBe(false);
  });
});

describe("InfluxDB mapping", () => {
  it("keeps member and card ids out of the tag set", () => {
    const p = eventToPoint(HazriEvent.parse(badge));
    expect(p.measurement).toBe("access");
    expect(Object.keys(p.tags).sort()).toEqual(["center", "decision", "direction", "door", "reason"]);
    expect(p.fields.card).toBe("62E3086CED");
    expect(p.fields.member).toBe("m-0001");
  });
  it("serializes a known line", () => {
    expect(eventToLine(HazriEvent.parse(badge))).toBe(
      'access,center=lhr-01,decision=granted,direction=in,door=main,reason=ok boot="boot-abc123",card="62E3086CED",flagged=false,granted=1i,member="m-0001",mono=12.5,reader="main-in",seq=42i,synced=true 1763700000123000042',
    );
  });
  it("escapes special characters", () => {
    const line = toLineProtocol({
      measurement: "m x,y",
      tags: { "a b": "c,d=e" },
      fields: { s: 'q"uo\\te', n: 1.5, i: { int: 3 }, b: true },
      timeNs: "1",
    });
    expect(line).toBe('m\\ x\\,y,a\\ b=c\\,d\\=e b=true,i=3i,n=1.5,s="q\\"uo\\\\te" 1');
  });
  it("the fast serializer writes exactly what the plain definition writes, for any keys and values", () => {
    // The plain definition (escape every string with replace, sort, map, join): the serializer before its
    // speed-up, kept here as the reference.
    const esc = (s: string, re: RegExp) => s.replace(re, (c) => `\\${c}`);
    const ref = (p: Parameters<typeof toLineProtocol>[0]) => {
      const v = (x: Parameters<typeof toLineProtocol>[0]["fields"][string]) =>
        typeof x === "object" ? `${Math.trunc(x.int)}i` : typeof x === "boolean" ? String(x) : typeof x === "number" ? String(x) : `"${esc(x, /["\\]/g).replace(/\n/g, "\\n")}"`;
      const tags = Object.keys(p.tags).sort().map((k) => `,${esc(k, /[,= \\]/g)}=${esc(p.tags[k]!, /[,= \\]/g)}`).join("");
      const fields = Object.keys(p.fields).sort().map((k) => `${esc(k, /[,= \\]/g)}=${v(p.fields[k]!)}`).join(",");
      return `${esc(p.measurement, /[, \\]/g)}${tags} ${fields} ${p.timeNs}`;
    };
    const str = fc.string({ unit: fc.constantFrom("a", "b", " ", ",", "=", '"', "\\", "\n", "é", "ز"), maxLength: 8 });
    const value = fc.oneof(str, fc.boolean(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer().map((int) => ({ int })));
    fc.assert(
      fc.property(str, fc.dictionary(str, str), fc.dictionary(str, value, { minKeys: 1 }), fc.bigInt({ min: 0n, max: 2n ** 62n }), (measurement, tags, fields, t) => {
        const p = { measurement, tags, fields, timeNs: t.toString() };
        expect(toLineProtocol(p)).toBe(ref(p));
      }),
      { numRuns: 2000 },
    );
  });
  it("point key is a pure function of the event (replay overwrites) and unique per (ts, seq)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4_000_000_000_000 }),
        fc.integer({ min: 1, max: 2 ** 40 }),
        fc.integer({ min: 1, max: 999_999 }),
        (ts, seq, delta) => {
          const a = eventTimeNs(ts, seq);
          expect(eventTimeNs(ts, seq)).toBe(a);
          // Two events of a center in the same millisecond have seqs that differ by < 1e6.
          expect(eventTimeNs(ts, seq + delta)).not.toBe(a);
          expect(BigInt(a) / 1_000_000n).toBe(BigInt(ts));
          // the string arithmetic equals the BigInt definition, ts = 0 included
          expect(a).toBe((BigInt(ts) * 1_000_000n + BigInt(seq % 1_000_000)).toString());
          expect(eventTimeNs(0, seq)).toBe(String(seq % 1_000_000));
        },
      ),
    );
  });
  it("maps every event type", () => {
    const events: unknown[] = [
      badge,
      { ...base, seq: 2, type: "door", door: "main", state: "forced_open" },
      { ...base, seq: 3, type: "seat", seat: "s001", zone: "z1", state: "occupied", source: "mqtt" },
      {
        ...base,
        seq: 4,
        type: "power",
        source: "battery",
        link: "ok",
        device: "ups1",
        ups: { status: ["OB", "DISCHRG"], chargePct: 80, runtimeS: null, batteryV: 26.1, inputV: 0, outputV: 229, loadPct: 20, tempC: null },
      },
      { ...base, seq: 5, type: "uplink", state: "down" },
      { ...base, seq: 6, type: "heartbeat", outboxDepth: 3, devices: { "main-in": "ok" }, uplinkRttMs: null, uptimeS: 10 },
    ];
    const lines = events.map((e) => eventToLine(HazriEvent.parse(e)));
    expect(lines.map((l) => l.split(",")[0])).toEqual(["access", "door", "seat", "power", "uplink", "edge_heartbeat"]);
    expect(lines[3]).toContain('ups_status="OB DISCHRG"');
    expect(lines[3]).not.toContain("runtime_s");
  });
});

describe("topics", () => {
  it("builds and parses the center topics", () => {
    expect(topics.up("lhr-01", "events")).toBe("hazri/v1/c/lhr-01/up/events");
    expect(parseTopic("hazri/v1/c/lhr-01/up/events")).toEqual({ dir: "up", centerId: "lhr-01", kind: "events" });
    expect(parseTopic("hazri/v1/c/lhr-01/down/ack")).toEqual({ dir: "down", centerId: "lhr-01", kind: "ack" });
    for (const bad of ["hazri/v1/c/+/up/events", "hazri/v1/c/x/up/nope", "other/topic", "hazri/v1/c/x/up/events/extra", "hazri/v1/c/__proto__x/up/toString"])
      expect(parseTopic(bad)).toBeNull();
    expect(() => topics.up("a/b", "events")).toThrow(/invalid center id/);
  });
  it("parses ESPHome LAN topics", () => {
    expect(lanTopics.parse("cw-s001/binary_sensor/seat_occupied/state")).toEqual({ node: "cw-s001", kind: "state", object: "seat_occupied" });
    expect(lanTopics.parse("cw-s001/status")).toEqual({ node: "cw-s001", kind: "status" });
    expect(lanTopics.parse("cw-s001/sensor/x/state")).toBeNull();
  });
});

describe("seq ranges", () => {
  it("round-trips any set of sequence numbers", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 500 })), (seqs) => {
        const ranges = toRanges(seqs);
        expect([...expandRanges(ranges)]).toEqual([...new Set(seqs)].sort((a, b) => a - b));
      }),
    );
    expect(toRanges([5, 1, 2, 3, 7, 8])).toEqual([[1, 3], [5, 5], [7, 8]]);
  });
});
