import { describe, expect, it } from "vitest";
import { silentLogger } from "../../../protocol/clock.ts";
import type { EventDraft, SeatEvent } from "../../../protocol/events.ts";
import { lanTopics } from "../../../protocol/topics.ts";
import { SeatConfig } from "../serial/device-config.ts";
import { createSeatTracker } from "./seats.ts";
import { decodeTasmota } from "./tasmota.ts";

// Payload vectors after device-protocols.md §7.2 (topic `%prefix%/%topic%/<name>`, LWT Online/Offline,
// stat POWER ON/OFF, tele STATE/SENSOR JSON every TelePeriod, stat RESULT JSON).
describe("decodeTasmota (payload vectors)", () => {
  const cases: Array<[prefix: "tele" | "stat", name: string, payload: string, object: string, want: ReturnType<typeof decodeTasmota>]> = [
    ["tele", "LWT", "Online", "POWER", { kind: "status", online: true }],
    ["tele", "LWT", "Offline", "Switch1", { kind: "status", online: false }],
    ["stat", "POWER", "ON", "POWER", { kind: "state", on: true }],
    ["stat", "POWER", "OFF", "POWER1", { kind: "state", on: false }], // POWER = POWER1 on single-relay devices
    ["stat", "POWER1", " ON\n", "POWER", { kind: "state", on: true }],
    ["stat", "POWER2", "ON", "POWER1", { kind: "none" }],
    ["stat", "POWER", "ON", "Switch1", { kind: "none" }],
    ["tele", "STATE", '{"Time":"2026-03-01T09:12:00","Uptime":"0T01:00:00","POWER":"ON","Wifi":{"RSSI":70}}', "POWER", { kind: "state", on: true }],
    ["tele", "STATE", '{"Time":"2026-03-01T09:12:00","POWER1":"OFF","POWER2":"ON"}', "POWER2", { kind: "state", on: true }],
    ["tele", "SENSOR", '{"Time":"2026-03-01T09:12:00","Switch1":"ON"}', "Switch1", { kind: "state", on: true }],
    ["tele", "SENSOR", '{"Time":"2026-03-01T09:12:00","Switch1":"OFF","Switch2":"ON"}', "Switch2", { kind: "state", on: true }],
    ["tele", "SENSOR", '{"Time":"2026-03-01T09:12:00","AM2301":{"Temperature":29.1}}', "Switch1", { kind: "none" }],
    ["stat", "RESULT", '{"POWER":"OFF"}', "POWER", { kind: "state", on: false }],
    ["stat", "RESULT", '{"Switch1":{"Action":"ON"}}', "Switch1", { kind: "state", on: true }],
    ["stat", "RESULT", '{"Dimmer":40}', "POWER", { kind: "none" }],
    ["tele", "INFO1", '{"Module":"Generic"}', "POWER", { kind: "none" }],
  ];
  it.each(cases)("%s/<topic>/%s %j for %s", (prefix, name, payload, object, want) => {
    expect(decodeTasmota(prefix, name, payload, object)).toEqual(want);
  });
  it("malformed payloads say what is wrong", () => {
    expect(decodeTasmota("tele", "LWT", "online", "POWER")).toMatchObject({ kind: "malformed", detail: expect.stringMatching(/not Online\/Offline/) });
    expect(decodeTasmota("stat", "POWER", "1", "POWER")).toMatchObject({ kind: "malformed", detail: expect.stringMatching(/not ON\/OFF/) });
    expect(decodeTasmota("tele", "SENSOR", '{"Switch1":', "Switch1")).toMatchObject({ kind: "malformed", detail: expect.stringMatching(/not JSON/) });
    expect(decodeTasmota("tele", "SENSOR", "[1]", "Switch1")).toMatchObject({ kind: "malformed", detail: expect.stringMatching(/not a JSON object/) });
    expect(decodeTasmota("tele", "SENSOR", '{"Switch1":"PRESSED"}', "Switch1")).toMatchObject({ kind: "malformed", detail: "SENSOR.Switch1 is not ON/OFF" });
  });
  it("topics: build and parse %prefix%/%topic%/<name>", () => {
    expect(lanTopics.tasmota.lwt("tasmota_A1B2C3")).toBe("tele/tasmota_A1B2C3/LWT");
    expect(lanTopics.tasmota.power("desk-7", "POWER2")).toBe("stat/desk-7/POWER2");
    expect(lanTopics.tasmota.tele("desk-7", "SENSOR")).toBe("tele/desk-7/SENSOR");
    expect(lanTopics.tasmota.parse("stat/desk-7/RESULT")).toEqual({ prefix: "stat", topic: "desk-7", name: "RESULT" });
    expect(lanTopics.tasmota.parse("cmnd/desk-7/POWER")).toBeNull(); // commands are the edge's to send, not readings
    expect(lanTopics.tasmota.parse("tele/desk 7/LWT")).toBeNull();
    expect(lanTopics.tasmota.parse("desk-7/status")).toBeNull();
  });
});

describe("seat tracker with Tasmota seats", () => {
  const seats = [
    { id: "t01", zone: "z", node: "desk-1", object: "POWER", convention: "tasmota" as const },
    { id: "t02", zone: "z", node: "desk-2", object: "Switch1", convention: "tasmota" as const },
    { id: "e01", zone: "z", node: "desk-1", object: "seat_occupied" }, // an ESPHome node with the same name
  ];
  const enc = (s: string) => new TextEncoder().encode(s);
  function setup() {
    const events: string[] = [];
    const t = createSeatTracker({ seats, debounceMs: 0, record: (d: EventDraft) => void events.push(`${(d as SeatEvent).seat}:${(d as SeatEvent).state}`), logger: silentLogger });
    return { t, events, pub: (topic: string, p: string) => t.handle(topic, enc(p)) };
  }
  it("LWT Online → states count; Offline → unknown, like ESPHome; a state before Online is held", () => {
    const { events, pub } = setup();
    pub("stat/desk-1/POWER", "ON");
    expect(events).toEqual([]);
    pub("tele/desk-1/LWT", "Online");
    expect(events).toEqual(["t01:occupied"]);
    pub("tele/desk-1/STATE", '{"Time":"2026-03-01T10:00:00","POWER":"ON"}'); // telemetry repeats: no new event
    pub("stat/desk-1/RESULT", '{"POWER":"OFF"}');
    pub("tele/desk-2/LWT", "Online");
    pub("tele/desk-2/SENSOR", '{"Time":"2026-03-01T10:00:01","Switch1":"ON"}');
    pub("tele/desk-1/LWT", "Offline");
    expect(events).toEqual(["t01:occupied", "t01:vacant", "t02:occupied", "t01:unknown"]);
  });
  it("conventions do not cross: ESPHome desk-1/status does not bring the Tasmota desk-1 online, and back", () => {
    const { events, pub } = setup();
    pub("desk-1/status", "online");
    pub("stat/desk-1/POWER", "ON");
    pub("desk-1/binary_sensor/seat_occupied/state", "OFF");
    expect(events).toEqual(["e01:vacant"]);
    pub("tele/desk-1/LWT", "Online");
    expect(events).toEqual(["e01:vacant", "t01:occupied"]);
  });
  it("malformed Tasmota payloads are counted; unknown Tasmota devices ignored", () => {
    const { t, events, pub } = setup();
    pub("tele/desk-1/LWT", "Online");
    pub("stat/desk-1/POWER", "TOGGLE");
    pub("tele/desk-1/STATE", "{not json");
    pub("stat/desk-9/POWER", "ON");
    expect(events).toEqual([]);
    expect(t.counters.malformed).toBe(2);
    expect(t.counters.ignored).toBe(1);
  });
});

describe("seat config: convention", () => {
  it("defaults to esphome; tasmota defaults object to POWER; bad values are refused", () => {
    expect(SeatConfig.parse({ id: "s1", zone: "z", node: "n1" })).toMatchObject({ source: "mqtt", convention: "esphome", object: "seat_occupied" });
    expect(SeatConfig.parse({ id: "s1", zone: "z", node: "desk-1", convention: "tasmota" })).toMatchObject({ convention: "tasmota", object: "POWER" });
    expect(SeatConfig.parse({ id: "s1", zone: "z", node: "desk-1", convention: "tasmota", object: "Switch1" })).toMatchObject({ object: "Switch1" });
    expect(SeatConfig.safeParse({ id: "s1", zone: "z", node: "n1", convention: "zigbee" }).success).toBe(false);
  });
});
