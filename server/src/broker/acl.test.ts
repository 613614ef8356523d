import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { MAX_PAYLOAD_BYTES } from "../../../protocol/messages.ts";
import { MAX_PACKET_BYTES, centerClientIdOk, createPacketSizeGuard, publishDenied, subscribeDenied } from "./acl.ts";
import type { BrokerIdentity } from "./acl.ts";

const isb: BrokerIdentity = { role: "center", centerId: "isb-01" };
const server: BrokerIdentity = { role: "server" };

describe("aedes pin", () => {
  it("installed aedes is >= 1.1.3 (prototype-name fix, GHSA-52qw-whmv-87c5)", () => {
    const require = createRequire(import.meta.url);
    // aedes' "exports" hide package.json; read the one next to its resolved entry point.
    const pkg = path.join(path.dirname(require.resolve("aedes")), "package.json");
    const { version } = JSON.parse(readFileSync(pkg, "utf8")) as { version: string };
    const [maj, min, pat] = version.split(".").map((x) => Number.parseInt(x, 10)) as [number, number, number];
    const atLeast = maj > 1 || (maj === 1 && (min > 1 || (min === 1 && pat >= 3)));
    expect(atLeast, `aedes ${version} < 1.1.3`).toBe(true);
  });
});

describe("publishDenied", () => {
  it.each([
    [isb, "hazri/v1/c/isb-01/up/events", null],
    [isb, "hazri/v1/c/isb-01/up/status", null],
    [isb, "hazri/v1/c/isb-01/up/", /only under/],
    [isb, "hazri/v1/c/lhr-02/up/events", /only under/],
    [isb, "hazri/v1/c/isb-01/down/ack", /only under/],
    [isb, "hazri/v1/c/isb-01x/up/events", /only under/],
    [isb, "hazri/v1/c/+/up/events", /wildcard/],
    [isb, "$SYS/broker/uptime", /reserved/],
    [isb, "", /empty/],
    [isb, `hazri/v1/c/isb-01/up/${"x/".repeat(10)}y`, /deeper/],
    [isb, `hazri/v1/c/isb-01/up/${"x".repeat(300)}`, /longer/],
    [server, "hazri/v1/c/lhr-02/down/ack", null],
    [server, "$SYS/x", /reserved/],
    [{ role: "anonymous", clientId: "edge-isb-01" }, "hazri/v1/c/lhr-02/up/events", /may not publish/],
    [{ role: "anonymous", clientId: "sensor-7" }, "hazri/v1/c/lhr-02/up/events", null],
  ] as const)("%o publishing %s", (who, topic, expected) => {
    const r = publishDenied(who, topic, 10);
    if (expected === null) expect(r).toBeNull();
    else expect(r).toMatch(expected);
  });

  it("payload above MAX_PAYLOAD_BYTES is refused, also for the server", () => {
    expect(publishDenied(isb, "hazri/v1/c/isb-01/up/events", MAX_PAYLOAD_BYTES)).toBeNull();
    expect(publishDenied(isb, "hazri/v1/c/isb-01/up/events", MAX_PAYLOAD_BYTES + 1)).toMatch(/payload/);
    expect(publishDenied(server, "hazri/v1/c/isb-01/down/ack", MAX_PAYLOAD_BYTES + 1)).toMatch(/payload/);
  });
});

describe("subscribeDenied", () => {
  it.each([
    [isb, "hazri/v1/c/isb-01/down/ack", null],
    [isb, "hazri/v1/c/isb-01/down/time", null],
    [isb, "hazri/v1/c/isb-01/down/+", /wildcards/],
    [isb, "hazri/v1/c/isb-01/down/#", /wildcards/],
    [isb, "#", /wildcards/],
    [isb, "$SYS/broker/clients", /\$-topics/],
    [isb, "hazri/v1/c/lhr-02/down/ack", /only under/],
    [isb, "hazri/v1/c/isb-01/up/events", /only under/],
    [server, "hazri/v1/c/+/up/events", null],
    [{ role: "anonymous", clientId: "x" }, "$SYS/#", /SYS/],
  ] as const)("%o subscribing %s", (who, filter, expected) => {
    const r = subscribeDenied(who, filter);
    if (expected === null) expect(r).toBeNull();
    else expect(r).toMatch(expected);
  });

  it("client id must be edge-<center>", () => {
    expect(centerClientIdOk("isb-01", "edge-isb-01")).toBe(true);
    expect(centerClientIdOk("isb", "edge-isb-01")).toBe(false);
    expect(centerClientIdOk("isb-01", "edge-lhr-02")).toBe(false);
    expect(centerClientIdOk("__proto__", "edge-__proto__")).toBe(false);
  });
});

describe("createPacketSizeGuard", () => {
  // Remaining length encoding, MQTT 3.1.1 §2.2.3 (128 → 0x80 0x01; 268435455 → ff ff ff 7f).
  it("passes normal packets split anywhere, refuses from the fixed header alone", () => {
    const g = createPacketSizeGuard(200);
    const pingreq = Uint8Array.from([0xc0, 0x00]);
    const pub = Uint8Array.from([0x30, 0x80, 0x01, ...new Array(128).fill(0x61)]);
    const all = Uint8Array.from([...pingreq, ...pub, ...pingreq]);
    for (let i = 0; i < all.length; i++) expect(g(all.subarray(i, i + 1))).toBe("ok");
    expect(g(Uint8Array.from([0x30, 0xc9]))).toBe("ok"); // length not complete yet
    expect(g(Uint8Array.from([0x01]))).toBe("too_large"); // 0x49 + 128 = 201 > 200
    expect(createPacketSizeGuard(MAX_PACKET_BYTES)(Uint8Array.from([0x30, 0xff, 0xff, 0xff, 0x7f]))).toBe("too_large");
    expect(createPacketSizeGuard(MAX_PACKET_BYTES)(Uint8Array.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]))).toBe("malformed");
  });
});
