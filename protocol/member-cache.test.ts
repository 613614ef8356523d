import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { canonicalCachePayload, MemberCacheUnsigned, signMemberCache, verifyMemberCache } from "./member-cache.ts";
import type { MemberCacheMessage } from "./member-cache.ts";

const { privateKey, publicKey } = generateKeyPairSync("ed25519");
const pub = publicKey.export({ type: "spki", format: "pem" }).toString();
const base: MemberCacheUnsigned = {
  v: 1,
  centerId: "lhr-01",
  version: 7,
  issuedAt: 1_763_700_000_000,
  full: false,
  baseVersion: 5,
  members: [{ id: "m-1", cards: ["62E3086CED"], status: "active", centers: ["lhr-01"], schedule: "day", staff: false, validUntil: "2026-01-31" }],
  removed: ["m-9"],
};

describe("member cache signature", () => {
  it("canonical form sorts keys at every depth and drops undefined", () => {
    const a = canonicalCachePayload({ b: 1, a: { d: [2, { z: 1, y: undefined, x: "é" }], c: null } }).toString();
    expect(a).toBe('{"a":{"c":null,"d":[2,{"x":"é","z":1}]},"b":1}');
    expect(canonicalCachePayload({ ...base, signature: "xx" }).toString()).toBe(canonicalCachePayload(base).toString());
  });

  it("a signed cache verifies; key order in the transported JSON does not matter", () => {
    const signed = signMemberCache(MemberCacheUnsigned.parse(base), privateKey);
    expect(verifyMemberCache(signed, pub)).toBe(true);
    const reordered = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(signed).reverse())));
    expect(verifyMemberCache(reordered, pub)).toBe(true);
  });

  it("tampering with any single byte of the JSON → verify false", () => {
    const signed = signMemberCache(base, privateKey);
    const text = JSON.stringify(signed);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: text.length - 1 }), fc.integer({ min: 1, max: 94 }), (i, delta) => {
        const code = text.charCodeAt(i);
        const ch = String.fromCharCode(32 + ((code - 32 + delta) % 95));
        const bad = text.slice(0, i) + ch + text.slice(i + 1);
        let parsed: unknown;
        try {
          parsed = JSON.parse(bad);
        } catch {
          return; // not JSON any more: the edge cannot even parse it
        }
        // A change inside the JSON syntax only (e.g. whitespace) is not a tamper of content.
        if (canonicalCachePayload(parsed as Record<string, unknown>).equals(canonicalCachePayload(signed)) &&
          (parsed as MemberCacheMessage).signature === signed.signature) return;
        expect(verifyMemberCache(parsed, pub)).toBe(false);
      }),
      { numRuns: 3000 },
    );
  });

  it("refuses a revoked card sneaked back, a wrong key, a malformed key or message", () => {
    const signed = signMemberCache(base, privateKey);
    expect(verifyMemberCache({ ...signed, members: [{ ...base.members[0], cards: ["62E3086CED", "01026F6C3A"] }] }, pub)).toBe(false);
    expect(verifyMemberCache({ ...signed, extra: 1 }, pub)).toBe(false);
    const other = generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "pem" }).toString();
    expect(verifyMemberCache(signed, other)).toBe(false);
    expect(verifyMemberCache(signed, "not a key")).toBe(false);
    expect(verifyMemberCache(null, pub)).toBe(false);
    expect(verifyMemberCache({ ...signed, signature: "" }, pub)).toBe(false);
    // Base64 malleability: same 64 bytes, different text (unused low bits of the last char).
    const sig = signed.signature;
    const last = sig.replace(/=+$/, "").slice(-1);
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const twin = alphabet[alphabet.indexOf(last) ^ 1] as string;
    const malleable = sig.replace(/.(=+)$/, `${twin}$1`);
    expect(Buffer.from(malleable, "base64").equals(Buffer.from(sig, "base64"))).toBe(true);
    expect(verifyMemberCache({ ...signed, signature: malleable }, pub)).toBe(false);
  });

  it("a delta without baseVersion is not a valid cache", () => {
    const { baseVersion: _b, ...noBase } = base;
    expect(MemberCacheUnsigned.safeParse(noBase).success).toBe(false);
    expect(MemberCacheUnsigned.safeParse({ ...noBase, full: true }).success).toBe(true);
  });
});
