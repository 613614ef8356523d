import type net from "node:net";
import mqtt, { type MqttClient } from "mqtt";
import { afterEach, describe, expect, it } from "vitest";
import { pidAlive } from "./alive.ts";
import { startMosquitto, type MosquittoInstance } from "./mosquitto.ts";

const brokers: MosquittoInstance[] = [];
const clients: MqttClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.endAsync(true);
  for (const b of brokers.splice(0)) await b.stop();
});

async function connect(url: string, opts: mqtt.IClientOptions = {}): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts });
  (c.stream as net.Socket).setNoDelay?.(true);
  clients.push(c);
  return c;
}

/** Next message on `client` (any topic); rejects after the deadline. Error made at call time. */
function nextMessage(client: MqttClient, timeoutMs = 5000): Promise<{ topic: string; payload: string }> {
  const err = new Error(`no message within ${timeoutMs} ms`);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off("message", on);
      reject(err);
    }, timeoutMs);
    const on = (topic: string, payload: Buffer): void => {
      clearTimeout(timer);
      client.off("message", on);
      resolve({ topic, payload: payload.toString() });
    };
    client.on("message", on);
  });
}

describe("startMosquitto (real mosquitto 2.x)", () => {
  it("anonymous: QoS 1 pub/sub round trip; stop kills it and removes the dir", async () => {
    const broker = await startMosquitto();
    brokers.push(broker);
    expect(broker.url).toBe(`mqtt://127.0.0.1:${broker.port}`);
    expect(broker.port).not.toBe(1883);
    const sub = await connect(broker.url);
    await sub.subscribeAsync("hazri/up/isb-01/events", { qos: 1 });
    const pub = await connect(broker.url);
    const got = nextMessage(sub);
    await pub.publishAsync("hazri/up/isb-01/events", '{"seq":1}', { qos: 1 });
    expect(await got).toEqual({ topic: "hazri/up/isb-01/events", payload: '{"seq":1}' });

    const { pid } = broker;
    await sub.endAsync(true);
    await pub.endAsync(true);
    await broker.stop();
    expect(pidAlive(pid)).toBe(false);
  });

  it("password file + ACL: wrong password refused; other centers' topics never delivered", async () => {
    const broker = await startMosquitto({
      users: { "edge-isb": "isb-pw", "edge-lhr": "lhr-pw" },
      acl: ["user edge-isb", "topic readwrite hazri/isb/#", "", "user edge-lhr", "topic readwrite hazri/lhr/#", ""].join("\n"),
    });
    brokers.push(broker);

    await expect(connect(broker.url, { username: "edge-isb", password: "wrong" })).rejects.toThrow(/Not authorized/i);
    await expect(connect(broker.url)).rejects.toThrow(/Not authorized/i); // anonymous off

    const lhr = await connect(broker.url, { username: "edge-lhr", password: "lhr-pw" });
    // mosquitto 2.0 grants a SUBSCRIBE outside the ACL and filters at delivery (observed).
    await lhr.subscribeAsync(["hazri/isb/#", "hazri/lhr/#"], { qos: 1 });

    const isb = await connect(broker.url, { username: "edge-isb", password: "isb-pw" });
    await isb.publishAsync("hazri/isb/events", "isb-secret", { qos: 1 }); // lhr may not read isb
    // MQTT 3.1.1: a denied PUBLISH is PUBACKed and dropped (observed), so use a
    // canary: the same publisher's allowed message must be the first to arrive.
    const first = nextMessage(lhr);
    await isb.publishAsync("hazri/lhr/events", "forged-into-lhr", { qos: 1 }); // isb may not write lhr
    const lhrOwn = await connect(broker.url, { username: "edge-lhr", password: "lhr-pw" });
    await lhrOwn.publishAsync("hazri/lhr/events", "canary", { qos: 1 });
    expect(await first).toEqual({ topic: "hazri/lhr/events", payload: "canary" });

    // MQTT 5: the same denied publish is refused with reason 0x87 (Not authorized).
    const isb5 = await connect(broker.url, { username: "edge-isb", password: "isb-pw", protocolVersion: 5 });
    await expect(isb5.publishAsync("hazri/lhr/events", "x", { qos: 1 })).rejects.toThrow(/Not authorized/i);
  });

  it("kill9 drops connected clients; pause freezes the broker until resume", async () => {
    const broker = await startMosquitto();
    brokers.push(broker);
    const c = await connect(broker.url);
    await c.subscribeAsync("t", { qos: 1 });

    await broker.pause();
    const got = nextMessage(c, 10_000);
    const puback = c.publishAsync("t", "while-paused", { qos: 1 });
    let acked = false;
    void puback.then(() => (acked = true));
    // A frozen broker cannot PUBACK; the message must arrive only after resume.
    await expect(Promise.race([puback.then(() => "acked"), new Promise((r) => setTimeout(r, 300, "pending"))])).resolves.toBe("pending");
    await broker.resume();
    expect(await got).toEqual({ topic: "t", payload: "while-paused" });
    await puback;
    expect(acked).toBe(true);

    const closed = new Promise<void>((r) => c.once("close", () => r()));
    await broker.kill9();
    await closed;
    expect(pidAlive(broker.pid)).toBe(false);
  });
});
