/**
 * Issue 5 "Broker": the class of input behind GHSA-52qw-whmv-87c5 (aedes
 * < 1.1.3 crashed on client ids / topics named like Object.prototype members)
 * (CONNECT, SUBSCRIBE, PUBLISH, UNSUBSCRIBE) and a small malformed-packet corpus over raw TCP. Every case: no crash,
 * correct routing, the offending connection ends, and a canary client still
 * round-trips afterwards. Real aedes (as pinned) through startEmbeddedBroker.
 */
import net from "node:net";
import mqtt from "mqtt";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../protocol/clock.ts";
import { topics } from "../protocol/topics.ts";
import { startEmbeddedBroker, type EmbeddedBroker } from "../server/src/broker/embedded.ts";
import { openRegistry } from "../server/src/registry/db.ts";
import { createCenterStore, migrations } from "../server/src/registry/centers.ts";
import { withDeadline } from "./server-edge-client.ts";

const PROTO_NAMES = ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "valueOf", "isPrototypeOf", "__defineGetter__", "toLocaleString"];

const clients: mqtt.MqttClient[] = [];
async function client(url: string, o: mqtt.IClientOptions): Promise<mqtt.MqttClient> {
  const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, ...o });
  (c.stream as net.Socket).setNoDelay?.(true);
  c.on("error", () => {});
  clients.push(c);
  return c;
}
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => {})));
});

/** Publish on the canary topic and see it come back to the canary subscriber. */
async function canary(url: string, tag: string, creds: mqtt.IClientOptions = {}): Promise<void> {
  const sub = await client(url, { clientId: `canary-sub-${tag}`, ...creds });
  await sub.subscribeAsync("canary/t", { qos: 1 });
  const got = new Promise<string>((r) => sub.on("message", (_t, p) => r(p.toString())));
  const pub = await client(url, { clientId: `canary-pub-${tag}`, ...creds });
  await pub.publishAsync("canary/t", `alive-${tag}`, { qos: 1 });
  expect(await withDeadline(got, 5000, `canary ${tag}`)).toBe(`alive-${tag}`);
}

describe("prototype-named client ids and topics (GHSA-52qw-whmv-87c5 class)", () => {
  let broker: EmbeddedBroker;
  beforeAll(async () => {
    broker = await startEmbeddedBroker({ host: "127.0.0.1", port: 0, logger: silentLogger, auth: { mode: "none" } });
  });
  afterAll(() => broker.close());

  it("connect/subscribe/publish with Object.prototype names: routed exactly, nothing leaks, canary fine", async () => {
    const subs = new Map<string, string[]>();
    for (const name of PROTO_NAMES) {
      const c = await client(broker.url, { clientId: name, clean: true });
      const got: string[] = [];
      subs.set(name, got);
      c.on("message", (t, p) => got.push(`${t}=${p.toString()}`));
      await c.subscribeAsync([name, `${name}/${name}`, `x/${name}/+`], { qos: 1 });
    }
    // Also a client with a persistent session and a prototype name (session maps keyed by client id).
    await client(broker.url, { clientId: "__proto__-persist", clean: false });
    const pub = await client(broker.url, { clientId: "publisher" });
    for (const name of PROTO_NAMES) {
      await pub.publishAsync(name, name, { qos: 1 });
      await pub.publishAsync(`${name}/${name}`, "deep", { qos: 1 });
      await pub.publishAsync(`x/${name}/y`, "wild", { qos: 0 });
      await pub.publishAsync(name, "retained", { qos: 1, retain: true });
    }
    for (const name of PROTO_NAMES) {
      const got = subs.get(name) as string[];
      await withDeadline(
        (async () => {
          while (got.length < 4) await new Promise((r) => setTimeout(r, 10));
        })(),
        5000,
        `messages for ${name}`,
      );
      expect(got.sort()).toEqual([`${name}/${name}=deep`, `${name}=${name}`, `${name}=retained`, `x/${name}/y=wild`].sort());
    }
    // A late subscriber gets exactly the retained message of its own prototype-named topic.
    const late = await client(broker.url, { clientId: "late" });
    const lateGot: string[] = [];
    late.on("message", (t, p) => lateGot.push(`${t}=${p.toString()}`));
    await late.subscribeAsync(["hasOwnProperty", "valueOf"], { qos: 1 });
    await withDeadline(
      (async () => {
        while (lateGot.length < 2) await new Promise((r) => setTimeout(r, 10));
      })(),
      5000,
      "retained",
    );
    expect(lateGot.sort()).toEqual(["hasOwnProperty=retained", "valueOf=retained"]);
    // Clear retained messages (empty payload, MQTT 3.1.1 §3.3.1.3).
    for (const name of PROTO_NAMES) await pub.publishAsync(name, "", { qos: 1, retain: true });
    await canary(broker.url, "proto");
  });

  it("UNSUBSCRIBE with Object.prototype names (subscribed or never): UNSUBACKed, delivery stops, nothing else affected", async () => {
    const c = await client(broker.url, { clientId: "unsub-proto", clean: true });
    const got: string[] = [];
    c.on("message", (t, p) => got.push(`${t}=${p.toString()}`));
    const filters = PROTO_NAMES.flatMap((n) => [n, `${n}/+`, `x/${n}/#`]);
    await c.subscribeAsync([...filters, "sentinel/t"], { qos: 1 });
    // Unsubscribe every prototype-named filter, plus ones this client never had (and a bare "#" it never had).
    await withDeadline(c.unsubscribeAsync(filters), 5000, "UNSUBACK for prototype-named filters");
    await withDeadline(c.unsubscribeAsync([...PROTO_NAMES.map((n) => `never/${n}`), "#", "__proto__/__proto__"]), 5000, "UNSUBACK for unknown filters");
    // A second client still subscribed to the same names keeps getting them.
    const other = await client(broker.url, { clientId: "still-subscribed", clean: true });
    const otherGot: string[] = [];
    other.on("message", (t) => otherGot.push(t));
    await other.subscribeAsync(PROTO_NAMES, { qos: 1 });
    const pub = await client(broker.url, { clientId: "unsub-publisher" });
    for (const n of PROTO_NAMES) {
      await pub.publishAsync(n, "after", { qos: 1 });
      await pub.publishAsync(`${n}/y`, "after", { qos: 1 });
      await pub.publishAsync(`x/${n}/z`, "after", { qos: 1 });
    }
    // Same publisher, same QoS: delivery is in order (MQTT 3.1.1 §4.6), so once the sentinel is here anything
    // routed to the unsubscribed filters would have been delivered before it.
    await pub.publishAsync("sentinel/t", "end", { qos: 1 });
    await withDeadline(
      (async () => {
        while (!got.includes("sentinel/t=end") || otherGot.length < PROTO_NAMES.length) await new Promise((r) => setTimeout(r, 10));
      })(),
      5000,
      "sentinel and the other client's messages",
    );
    expect(got).toEqual(["sentinel/t=end"]);
    expect(otherGot.sort()).toEqual([...PROTO_NAMES].sort());
    await canary(broker.url, "unsub");
  });

  it("with center auth: centers named like prototype members authenticate and are confined like any other", async () => {
    const db = openRegistry(":memory:", migrations);
    const store = createCenterStore(db, { scrypt: { N: 1024, r: 8, p: 1 } });
    // Center ids start alphanumeric (protocol/ids.ts), so `__proto__` can never be one; these can.
    const pw = { constructor: (await store.createCenter("constructor")).password, hasOwnProperty: (await store.createCenter("hasOwnProperty")).password };
    const b = await startEmbeddedBroker({
      host: "127.0.0.1",
      port: 0,
      logger: silentLogger,
      auth: { mode: "centers", verifyCenter: (id, p) => store.verifyCenter(id, p) },
    });
    try {
      const server = await client(b.url, { clientId: "hazri-server-h", ...b.serverCredentials });
      const got: string[] = [];
      server.on("message", (t) => got.push(t));
      await server.subscribeAsync(topics.allUp("events"), { qos: 1 });
      // Unknown prototype-named users are refused, not crashed on.
      for (const name of ["__proto__", "toString", "valueOf", "prototype"]) {
        const err = await withDeadline(
          new Promise<unknown>((resolve) => {
            const c = mqtt.connect(b.url, { reconnectPeriod: 0, clientId: `edge-${name}`, username: name, password: "x" });
            clients.push(c);
            c.on("connect", () => resolve("connected"));
            c.on("error", (e) => resolve((e as { code?: number }).code));
          }),
          5000,
          `refusal of ${name}`,
        );
        // 5 = not authorized (not even a valid center id), 4 = bad username or password (MQTT 3.1.1 §3.2.2.3).
        expect(err).toBe(name === "__proto__" ? 5 : 4);
      }
      const c1 = await client(b.url, { clientId: "edge-constructor", username: "constructor", password: pw.constructor });
      const c2 = await client(b.url, { clientId: "edge-hasOwnProperty", username: "hasOwnProperty", password: pw.hasOwnProperty });
      await c1.publishAsync(topics.up("constructor", "events"), "{}", { qos: 1 });
      await c2.publishAsync(topics.up("hasOwnProperty", "events"), "{}", { qos: 1 });
      await withDeadline(
        (async () => {
          while (got.length < 2) await new Promise((r) => setTimeout(r, 10));
        })(),
        5000,
        "both centers' uplinks",
      );
      expect(got.sort()).toEqual([topics.up("constructor", "events"), topics.up("hasOwnProperty", "events")]);
      const closed = new Promise<void>((r) => c2.once("close", () => r()));
      c2.publish(topics.up("constructor", "events"), "forged", { qos: 1 });
      await withDeadline(closed, 5000, "forged publish closes hasOwnProperty's connection");
      await canary(b.url, "auth", { ...b.serverCredentials });
    } finally {
      await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => {})));
      await b.close();
      db.close();
    }
  });
});

/** MQTT 3.1.1 CONNECT (§3.1) for a client id, clean session, keepalive 60. */
function connectPacket(clientId: string, flags = 0x02): Buffer {
  const id = Buffer.from(clientId, "utf8");
  const body = Buffer.concat([Buffer.from([0, 4]), Buffer.from("MQTT"), Buffer.from([4, flags, 0, 60, id.length >> 8, id.length & 0xff]), id]);
  return Buffer.concat([Buffer.from([0x10, body.length]), body]);
}

/** Send bytes on a raw socket; resolve when the broker closes it (or reject at the deadline). */
async function expectDisconnect(port: number, chunks: Buffer[], what: string): Promise<void> {
  const s = net.connect({ host: "127.0.0.1", port });
  s.setNoDelay(true);
  s.on("error", () => {});
  const closed = new Promise<void>((r) => s.once("close", () => r()));
  await new Promise<void>((r) => s.once("connect", () => r()));
  const [first, ...rest] = chunks;
  if (first) s.write(first);
  if (first?.[0] === 0x10 && rest.length > 0) {
    // Wait for CONNACK (0x20, §3.2) so the rest is parsed as traffic of an established session.
    let seen = Buffer.alloc(0);
    await withDeadline(
      new Promise<void>((r) =>
        s.on("data", (d: Buffer) => {
          seen = Buffer.concat([seen, d]);
          if (seen[0] === 0x20 && seen.length >= 4) r();
        }),
      ),
      5000,
      `CONNACK before: ${what}`,
    );
    expect(seen[3], "CONNACK return code").toBe(0);
  }
  for (const c of rest) s.write(c);
  try {
    await withDeadline(closed, 5000, `broker closes the connection: ${what}`);
  } finally {
    s.destroy();
  }
}

describe("malformed packets over raw TCP", () => {
  let broker: EmbeddedBroker;
  beforeAll(async () => {
    broker = await startEmbeddedBroker({ host: "127.0.0.1", port: 0, logger: silentLogger, auth: { mode: "none" } });
  });
  afterAll(() => broker.close());

  const publishHeader = (flags: number, body: number[]) => Buffer.from([0x30 | flags, body.length, ...body]);
  const cases: Array<[string, Buffer[]]> = [
    ["first packet is not CONNECT (PINGREQ)", [Buffer.from([0xc0, 0x00])]],
    ["first packet is a PUBLISH", [publishHeader(0, [0, 1, 0x61, 0x62])]],
    ["CONNECT with the reserved flag bit set (§3.1.2.3)", [connectPacket("mal-1", 0x03)]],
    ["CONNECT with an unknown protocol level", [Buffer.from([0x10, 12, 0, 4, 0x4d, 0x51, 0x54, 0x54, 9, 2, 0, 60, 0, 0])]],
    ["PUBLISH with a zero-length topic (§4.7.3)", [connectPacket("mal-2"), publishHeader(0, [0, 0, 0x61])]],
    ["PUBLISH with QoS 3 (§3.3.1.2)", [connectPacket("mal-3"), publishHeader(0x06, [0, 1, 0x61, 0, 1, 0x62])]],
    ["SUBSCRIBE with reserved flags 0000 instead of 0010 (§3.8.1)", [connectPacket("mal-4"), Buffer.from([0x80, 6, 0, 1, 0, 1, 0x61, 1])]],
    ["remaining length 268 MB (far above the limit)", [connectPacket("mal-5"), Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f, 0, 1, 0x61])]],
    ["remaining length 2 MB, body trickling", [connectPacket("mal-6"), Buffer.from([0x30, 0x80, 0x80, 0x80, 0x01]), Buffer.alloc(4096, 0x61)]],
    ["a 5th remaining-length byte (§2.2.3: at most 4)", [connectPacket("mal-7"), Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])]],
    ["second CONNECT on one connection (§3.1.0)", [connectPacket("mal-8"), connectPacket("mal-8")]],
  ];

  it.each(cases)("%s → disconnect; broker up; canary round-trips", async (what, chunks) => {
    await expectDisconnect(broker.port, chunks, what);
    await canary(broker.url, what.replace(/\W+/g, "-").slice(0, 30));
  });
});
