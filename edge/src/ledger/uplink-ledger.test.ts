import { describe, expect, it } from "vitest";
import type { EventDraft } from "../../../protocol/events.ts";
import { createUplinkLedger } from "./uplink-ledger.ts";

describe("uplink ledger", () => {
  it("records transitions once each, with the last contact as the true start of an outage", () => {
    let wall = 1_000_000;
    let mono = 0;
    const out: EventDraft[] = [];
    const l = createUplinkLedger({ clock: { now: () => wall, mono: () => mono }, record: (d) => out.push(d) });
    l.down(); // WAN already down at boot
    l.down();
    l.up();
    l.up();
    mono += 1000;
    wall += 1000;
    l.contact(); // last PINGRESP at wall 1_001_000
    mono += 22_500; // keepalive 15 s × 1.5 until MQTT.js gives up
    wall += 22_500 + 3_600_000; // wall clock synced meanwhile (+1 h): lastContactTs is mono-derived, in the synced frame like ts
    l.down();
    expect(out).toEqual([
      { type: "uplink", state: "down", cause: "connect_failed" },
      { type: "uplink", state: "up", cause: "connack" },
      { type: "uplink", state: "down", cause: "close", lastContactTs: 1_001_000 + 3_600_000 },
    ]);
    expect(l.state()).toBe("down");
  });
});
