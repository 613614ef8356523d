import { afterEach, describe, expect, it } from "vitest";
import net from "node:net";
import mqtt from "mqtt";
import { silentLogger } from "../../../protocol/clock.ts";
import { publishDeniedReason, startEmbeddedBroker } from "./embedded.ts";
import type { EmbeddedBroker } from "./embedded.ts";

describe("publishDeniedReason", () => {
  it.each([
    ["edge-isb-01", "hazri/v1/c/isb-01/up/events", null],
    ["edge-isb-01", "hazri/v1/c/lhr-02/up/events", /may not publish/],
    ["hazri-server-1", "hazri/v1/c/lhr-02/down/ack", null],
    ["sensor-7", "hazri/v1/c/lhr-02/up/events", null],
    ["edge-isb-01", "hazri/v1/c/+/up/events", /wildcard/],
    ["x", "a/#", /wildcard/],
    ["x", "$SYS/broker/uptime", /reserved/],
    ["x", "", /empty/],
  ])("%s publishing %s", (client, topic, expected) => {
    const r = publishDeniedReason(client, topic);
    if (expected === null) expect(r).toBeNull();
    else expect(r).toMatch(expected);
  });
});

describe("startEmbeddedBroker", () => {
  let broker: EmbeddedBroker | undefined;
  const clients: mqtt.MqttClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
    await broker?.close();
  });

  it("routes QoS 1 messages and drops a cross-center publish", async () => {
    broker = await startEmbeddedBroker({ host: "127.0.0.1", port: 0, logger: silentLogger });
    expect(broker.url).toBe(`mqtt://127.0.0.1:${broker.port}`);
    const sub = await mqtt.connectAsync(broker.url, { clientId: "hazri-server-t" });
    clients.push(sub);
    (sub.stream as net.Socket).setNoDelay?.(true);
    const got: string[] = [];
    sub.on("message", (t) => got.push(t));
    await sub.subscribeAsync("hazri/v1/c/+/up/events", { qos: 1 });
    const evil = await mqtt.connectAsync(broker.url, { clientId: "edge-isb-01", reconnectPeriod: 0 });
    clients.push(evil);
    const closed = new Promise<void>((r) => evil.once("close", () => r()));
    evil.publish("hazri/v1/c/lhr-02/up/events", "x", { qos: 1 });
    await closed; // aedes disconnects a client whose publish is not authorized
    const good = await mqtt.connectAsync(broker.url, { clientId: "edge-lhr-02" });
    clients.push(good);
    await good.publishAsync("hazri/v1/c/lhr-02/up/events", "y", { qos: 1 });
    const deadline = Date.now() + 5000;
    while (got.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(got).toEqual(["hazri/v1/c/lhr-02/up/events"]);
  });
});
