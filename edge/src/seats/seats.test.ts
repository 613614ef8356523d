import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import mqtt from "mqtt";
import { createSeatTracker } from "./seats.ts";
import { startLanBroker } from "./lan-broker.ts";
import { until } from "../uplink/test-broker.ts";
import { silentLogger } from "../../../protocol/clock.ts";
import type { EventDraft, SeatEvent } from "../../../protocol/events.ts";

const seats = [
  { id: "s001", zone: "z1", node: "cw-s001", object: "seat_occupied" },
  { id: "s002", zone: "z1", node: "cw-s002", object: "seat_occupied" },
];
const enc = (s: string) => new TextEncoder().encode(s);

function setup(debounceMs = 0) {
  const events: string[] = [];
  const t = createSeatTracker({
    seats,
    debounceMs,
    record: (d: EventDraft) => void events.push(`${(d as SeatEvent).seat}:${(d as SeatEvent).state}`),
    logger: silentLogger,
  });
  const pub = (topic: string, p: string) => t.handle(topic, enc(p));
  return { t, events, pub };
}

describe("seat tracker (§7.4)", () => {
  it("ON/OFF after online → occupied/vacant, only on change; offline → unknown", () => {
    const { events, pub } = setup();
    pub("cw-s001/status", "online");
    pub("cw-s001/binary_sensor/seat_occupied/state", "ON");
    pub("cw-s001/binary_sensor/seat_occupied/state", "ON");
    pub("cw-s001/binary_sensor/seat_occupied/state", "OFF");
    pub("cw-s001/status", "offline");
    pub("cw-s001/status", "offline");
    expect(events).toEqual(["s001:occupied", "s001:vacant", "s001:unknown"]);
  });
  it("a retained state before the node's status is held until online", () => {
    const { events, pub } = setup();
    pub("cw-s002/binary_sensor/seat_occupied/state", "ON");
    expect(events).toEqual([]);
    pub("cw-s002/status", "online");
    expect(events).toEqual(["s002:occupied"]);
  });
  it("malformed payloads and unknown sensors are counted and ignored", () => {
    const { t, events, pub } = setup();
    pub("cw-s001/status", "maybe");
    pub("cw-s001/status", "online");
    pub("cw-s001/binary_sensor/seat_occupied/state", "1");
    pub("cw-s009/binary_sensor/seat_occupied/state", "ON");
    pub("cw-s001/binary_sensor/seat_occupied/attributes", "{}");
    expect(events).toEqual([]);
    expect(t.counters.malformed).toBe(2);
    expect(t.counters.ignored).toBe(1);
  });
  describe("debounce", () => {
    beforeEach(() => vi.useFakeTimers());
    afterEach(() => vi.useRealTimers());
    it("a flicker shorter than debounceMs records nothing; a stable change records once", async () => {
      const { events, pub } = setup(1000);
      pub("cw-s001/status", "online");
      pub("cw-s001/binary_sensor/seat_occupied/state", "OFF");
      await vi.advanceTimersByTimeAsync(1000);
      expect(events).toEqual(["s001:vacant"]);
      pub("cw-s001/binary_sensor/seat_occupied/state", "ON");
      await vi.advanceTimersByTimeAsync(500);
      pub("cw-s001/binary_sensor/seat_occupied/state", "OFF");
      await vi.advanceTimersByTimeAsync(2000);
      expect(events).toEqual(["s001:vacant"]);
      pub("cw-s001/binary_sensor/seat_occupied/state", "ON");
      await vi.advanceTimersByTimeAsync(1000);
      expect(events).toEqual(["s001:vacant", "s001:occupied"]);
    });
  });
});

describe("LAN broker + tracker end to end", () => {
  it("an ESPHome-style node with birth + LWT drives seat events", async () => {
    const lan = await startLanBroker({ host: "127.0.0.1", port: 0, logger: silentLogger });
    const { t, events } = setup();
    lan.broker.on("publish", (packet, client) => {
      if (client) t.handle(packet.topic, packet.payload as Buffer);
    });
    const node = await mqtt.connectAsync(`mqtt://127.0.0.1:${lan.port}`, {
      clientId: "cw-s001",
      will: { topic: "cw-s001/status", payload: Buffer.from("offline"), qos: 1, retain: true },
    });
    await node.publishAsync("cw-s001/status", "online", { qos: 1, retain: true });
    await node.publishAsync("cw-s001/binary_sensor/seat_occupied/state", "ON", { qos: 1, retain: true });
    await until(() => events.length === 1, "occupied");
    node.stream.destroy(); // ungraceful: the broker publishes the LWT
    await until(() => events.length === 2, "unknown via LWT");
    expect(events).toEqual(["s001:occupied", "s001:unknown"]);
    await node.endAsync(true);
    await lan.close();
  });
});
