import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type net from "node:net";
import mqtt from "mqtt";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../../protocol/clock.ts";
import { topics } from "../../../protocol/topics.ts";
import { openRegistry } from "../registry/db.ts";
import { createCenterStore, migrations } from "../registry/centers.ts";
import type { CenterStore } from "../registry/centers.ts";
import { startEmbeddedBroker } from "./embedded.ts";
import type { EmbeddedBroker } from "./embedded.ts";

/** Per-center credentials on the embedded aedes broker (issue 5 "Broker"), with a real registry (SQLite in memory). */

const FAST = { N: 1024, r: 8, p: 1 }; // test cost; production keeps DEFAULT_SCRYPT

let store: CenterStore;
let pw: Record<string, string> = {};
let broker: EmbeddedBroker;
let dir: string;
const clients: mqtt.MqttClient[] = [];

function deadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, rej) => setTimeout(() => rej(new Error(`timeout: ${what}`)), ms).unref())]);
}

async function connect(url: string, o: mqtt.IClientOptions): Promise<mqtt.MqttClient> {
  const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, ...o });
  (c.stream as net.Socket).setNoDelay?.(true);
  clients.push(c);
  return c;
}

/** SUBACK codes per filter (MQTT.js rejects subscribeAsync when any is 0x80, so use the raw packet). */
function subackCodes(c: mqtt.MqttClient, filters: string[]): Promise<number[]> {
  return deadline(
    new Promise((resolve) => c.subscribe(filters, { qos: 1 }, (_e, _g, packet) => resolve([...((packet as { granted?: number[] } | undefined)?.granted ?? [])]))),
    5000,
    "suback",
  );
}

/** Connect that must be refused: resolves with the CONNACK return code. */
function refusedCode(url: string, o: mqtt.IClientOptions): Promise<number | undefined> {
  return deadline(
    new Promise((resolve, reject) => {
      const c = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...o });
      clients.push(c);
      c.on("connect", () => reject(new Error("connected although it must be refused")));
      c.on("error", (e) => resolve((e as { code?: number }).code));
    }),
    8000,
    "refused connect",
  );
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "hazri-broker-auth-"));
  const db = openRegistry(":memory:", migrations);
  store = createCenterStore(db, { scrypt: FAST });
  pw = { "isb-01": (await store.createCenter("isb-01")).password, "lhr-02": (await store.createCenter("lhr-02")).password };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => {})));
  await broker?.close();
});

const start = (extra: Partial<Parameters<typeof startEmbeddedBroker>[0]> = {}) =>
  startEmbeddedBroker({
    host: "127.0.0.1",
    port: 0,
    logger: silentLogger,
    auth: { mode: "centers", verifyCenter: (id, p) => store.verifyCenter(id, p) },
    ...extra,
  });

describe("embedded broker, auth: centers", () => {
  it("refuses missing, wrong, unknown, disabled credentials and a foreign client id (CONNACK 4/5)", async () => {
    broker = await start();
    expect(broker.serverCredentials?.username).toBe("hazri-server");
    expect(await refusedCode(broker.url, { clientId: "edge-isb-01" })).toBe(4);
    expect(await refusedCode(broker.url, { clientId: "edge-isb-01", username: "isb-01", password: "wrong" })).toBe(4);
    expect(await refusedCode(broker.url, { clientId: "edge-nope", username: "nope", password: "x" })).toBe(4);
    // lhr-02's valid secret presented under isb-01's client id: a takeover of isb-01's session.
    expect(await refusedCode(broker.url, { clientId: "edge-isb-01", username: "lhr-02", password: pw["lhr-02"] })).toBe(5);
    expect(await refusedCode(broker.url, { clientId: "hazri-x", username: "hazri-server", password: "guess" })).toBe(4);
    const db = openRegistry(":memory:", migrations);
    const s2 = createCenterStore(db, { scrypt: FAST });
    const { password } = await s2.createCenter("gone-03");
    s2.disableCenter("gone-03");
    await broker.close();
    broker = await start({ auth: { mode: "centers", verifyCenter: (id, p) => s2.verifyCenter(id, p) } });
    expect(await refusedCode(broker.url, { clientId: "edge-gone-03", username: "gone-03", password })).toBe(4);
    db.close();
  });

  it("a center publishes only under its own up/ and subscribes only to exact topics under its own down/", async () => {
    broker = await start({ auth: { mode: "centers", verifyCenter: (id, p) => store.verifyCenter(id, p), serverPassword: "0123456789abcdef-server" } });
    expect(broker.serverCredentials?.password).toBe("0123456789abcdef-server");
    const server = await connect(broker.url, { clientId: "hazri-server-t", ...broker.serverCredentials });
    const got: string[] = [];
    server.on("message", (t, p) => got.push(`${t} ${p.toString()}`));
    expect(await subackCodes(server, [topics.allUp("events"), "$SYS/#"])).toEqual([1, 1]); // the server may use wildcards

    const edge = await connect(broker.url, { clientId: "edge-isb-01", username: "isb-01", password: pw["isb-01"] });
    const subs = await subackCodes(edge, [
        topics.down("isb-01", "ack"),
        topics.down("lhr-02", "ack"),
        "hazri/v1/c/isb-01/down/+",
        "hazri/v1/c/#",
        "$SYS/#",
        topics.up("isb-01", "events"),
      ]);
    // MQTT 3.1.1 §3.9.3: 0x80 = failure for that filter; the connection stays up.
    expect(subs).toEqual([1, 128, 128, 128, 128, 128]);

    await edge.publishAsync(topics.up("isb-01", "events"), "own", { qos: 1 });
    await deadline(
      (async () => {
        while (!got.includes(`${topics.up("isb-01", "events")} own`)) await new Promise((r) => setTimeout(r, 10));
      })(),
      5000,
      "own publish delivered",
    );

    // Another center's topic: refused, and aedes closes the connection (no negative PUBACK in 3.1.1, §3.3.5).
    const closed = new Promise<void>((r) => edge.once("close", () => r()));
    edge.publish(topics.up("lhr-02", "events"), "forged", { qos: 1 });
    await deadline(closed, 5000, "connection closed after a forged publish");
    // Canary: the server still gets a legitimate center's uplink, and never got the forged one.
    const other = await connect(broker.url, { clientId: "edge-lhr-02", username: "lhr-02", password: pw["lhr-02"] });
    await other.publishAsync(topics.up("lhr-02", "events"), "legit", { qos: 1 });
    await deadline(
      (async () => {
        while (!got.includes(`${topics.up("lhr-02", "events")} legit`)) await new Promise((r) => setTimeout(r, 10));
      })(),
      5000,
      "canary",
    );
    expect(got.filter((x) => x.endsWith("forged"))).toEqual([]);
  });

  it("a payload above MAX_PAYLOAD_BYTES is refused from the fixed header (connection closed, broker fine)", async () => {
    broker = await start();
    const edge = await connect(broker.url, { clientId: "edge-isb-01", username: "isb-01", password: pw["isb-01"] });
    const closed = new Promise<void>((r) => edge.once("close", () => r()));
    edge.publish(topics.up("isb-01", "events"), Buffer.alloc(2 * 1024 * 1024, 0x61), { qos: 1 });
    await deadline(closed, 8000, "oversize publish closes the connection");
    const again = await connect(broker.url, { clientId: "edge-lhr-02", username: "lhr-02", password: pw["lhr-02"] });
    expect(again.connected).toBe(true);
  });
});

const haveOpenssl = (() => {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
if (!haveOpenssl) console.log("[skip reason] openssl not installed: the TLS listener test needs a self-signed cert");

describe.skipIf(!haveOpenssl)("TLS listener (self-signed cert made with openssl)", () => {
  it("serves MQTT over TLS with the same auth; a client that does not trust the cert is refused", async () => {
    const cert = join(dir, "cert.pem");
    const key = join(dir, "key.pem");
    // The command docs/broker.md gives for a test/dev certificate.
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
      "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key, "-out", cert,
    ], { stdio: "ignore" });
    expect(existsSync(cert)).toBe(true);
    broker = await start({ tls: { port: 0, certFile: cert, keyFile: key } });
    expect(broker.tlsUrl).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);
    const ca = readFileSync(cert);
    const edge = await connect(broker.tlsUrl as string, { clientId: "edge-isb-01", username: "isb-01", password: pw["isb-01"], ca });
    const g = await edge.subscribeAsync(topics.down("isb-01", "ack"), { qos: 1 });
    expect(g[0]?.qos).toBe(1);
    const err = await deadline(
      new Promise<Error>((resolve, reject) => {
        const c = mqtt.connect(broker.tlsUrl as string, { reconnectPeriod: 0, clientId: "edge-lhr-02", username: "lhr-02", password: pw["lhr-02"] });
        clients.push(c);
        c.on("connect", () => reject(new Error("connected without trusting the cert")));
        c.on("error", resolve);
      }),
      8000,
      "untrusted TLS refused",
    );
    expect(err.message).toMatch(/self[- ]signed|certificate/i);
    expect(await refusedCode(broker.tlsUrl as string, { clientId: "edge-isb-01", username: "isb-01", password: "wrong", ca })).toBe(4);
  });
});
