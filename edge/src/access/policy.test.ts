import { describe, expect, it } from "vitest";
import { parseEdgeConfig } from "../config.ts";
import { accessPolicy } from "./policy.ts";

const base = { center: "lhr-01", dataDir: "d", uplink: { url: "mqtt://x" }, lan: {}, members: "m.yaml" };

describe("access/outbox/memberCache config", () => {
  it("defaults: day 08-20, night 20-08, deny at capacity, 72 h staleness; outbox 1M / 80 %", () => {
    const c = parseEdgeConfig(base, "/etc/hazri");
    expect(accessPolicy(c)).toEqual({ schedules: { day: { from: 480, to: 1200 }, night: { from: 1200, to: 480 } }, capacity: undefined, capacityMode: "deny", staleAfterMs: 72 * 3600_000 });
    expect(c.outbox).toEqual({ maxEvents: 1_000_000 });
    expect(c.memberCache).toBeUndefined();
  });
  it("custom values, relative key path resolved; bad hours and seatCoalesceAt > maxEvents reported together", () => {
    const c = parseEdgeConfig(
      { ...base, capacity: 40, memberCache: { publicKeyFile: "keys/cache.pem" }, access: { capacityMode: "flag", staleAfterH: 36, schedules: { day: { from: "09:00", to: "17:30" } } } },
      "/etc/hazri",
    );
    expect(c.memberCache?.publicKeyFile).toBe("/etc/hazri/keys/cache.pem");
    expect(accessPolicy(c)).toMatchObject({ capacity: 40, capacityMode: "flag", staleAfterMs: 36 * 3600_000, schedules: { day: { from: 540, to: 1050 }, night: { from: 1200, to: 480 } } });
    expect(() => parseEdgeConfig({ ...base, access: { schedules: { night: { from: "25:00", to: "8" } } }, outbox: { maxEvents: 1000, seatCoalesceAt: 2000 } }, "/")).toThrow(
      /access\.schedules\.night\.from[\s\S]*access\.schedules\.night\.to[\s\S]*outbox\.seatCoalesceAt|outbox\.seatCoalesceAt[\s\S]*access\.schedules\.night/,
    );
  });
});
