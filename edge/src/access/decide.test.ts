import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { decide, localDate } from "./decide.ts";
import { Member, createMemberDirectory, loadMembers } from "./members.ts";
import { isHazriError } from "../../../protocol/errors.ts";

const m = (over: Partial<Member> = {}): Member => Member.parse({ id: "m1", cards: ["62E3086CED"], status: "active", ...over });
// 2026-03-31T18:59:59Z = 23:59:59 PKT on 31 March; one second later is 1 April PKT.
const lastSecond = Date.UTC(2026, 2, 31, 18, 59, 59);
const ctx = (now: number) => ({ now, centerId: "lhr-01" });

describe("decide (table)", () => {
  it.each([
    ["unknown card", undefined, lastSecond, "denied", "unknown_card"],
    ["active, no end date", m(), lastSecond, "granted", "ok"],
    ["suspended", m({ status: "suspended" }), lastSecond, "denied", "suspended"],
    ["suspended beats expired", m({ status: "suspended", validUntil: "2020-01-01" }), lastSecond, "denied", "suspended"],
    ["valid through last local second", m({ validUntil: "2026-03-31" }), lastSecond, "granted", "ok"],
    ["expired one second later (PKT)", m({ validUntil: "2026-03-31" }), lastSecond + 1000, "denied", "plan_expired"],
    ["staff active", m({ staff: true }), lastSecond, "granted", "ok"],
  ] as const)("%s", (_n, member, now, decision, reason) => {
    expect(decide(member, ctx(now))).toEqual({ decision, reason });
  });
  it("localDate uses the offset", () => {
    expect(localDate(lastSecond + 1000)).toBe("2026-04-01");
    expect(localDate(lastSecond + 1000, 0)).toBe("2026-03-31");
  });
});

describe("members", () => {
  it("directory looks up canonical card ids case-insensitively", () => {
    const d = createMemberDirectory([m({ cards: ["62e3086ced"] })]);
    expect(d.lookupCard("62E3086CED")?.id).toBe("m1");
    expect(d.lookupCard("62e3086ced")?.id).toBe("m1");
    expect(d.lookupCard("01026F6C3A")).toBeUndefined();
  });
  it("loadMembers reports all errors with paths", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "hazri-members-"));
    const f = path.join(dir, "m.yaml");
    writeFileSync(f, "members:\n  - { id: a, cards: [ZZ], status: active }\n  - { id: b, status: gone, validUntil: tomorrow }\n");
    try {
      await loadMembers(f);
      expect.fail("should throw");
    } catch (e) {
      expect(isHazriError(e, "CONFIG_INVALID")).toBe(true);
      const msg = (e as Error).message;
      expect(msg).toContain("members.0.cards.0");
      expect(msg).toContain("members.1.status");
      expect(msg).toContain("members.1.validUntil");
    }
    await expect(loadMembers(path.join(dir, "missing.yaml"))).rejects.toMatchObject({ code: "CONFIG_NOT_FOUND" });
  });
});
