import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../../protocol/clock.ts";
import { isHazriError } from "../../../protocol/errors.ts";
import { openRegistry } from "./db.ts";
import { createMemberImporter } from "./member-import.ts";
import { createMembersRegistry, migrations } from "./members.ts";

const clock = { now: () => 1_763_700_000_000, mono: () => 0 };
function make() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "hazri-members-"));
  const db = openRegistry(path.join(dir, "registry.db"), migrations);
  const members = createMembersRegistry(db, { clock });
  return { db, members, importer: createMemberImporter(members, { clock, logger: silentLogger, chunkRows: 500 }) };
}
async function* chunks(text: string, size: number) {
  for (let i = 0; i < text.length; i += size) yield Buffer.from(text.slice(i, i + size));
}

describe("members registry", () => {
  it("create, update, suspend, revoke, delete: every change bumps the version", () => {
    const { members } = make();
    const seen: number[] = [];
    members.onChange((v) => seen.push(v));
    const m = members.create({ id: "m1", cards: ["62e3086ced"], centers: ["lhr-01"] });
    expect(m).toMatchObject({ id: "m1", cards: ["62E3086CED"], status: "active", centers: ["lhr-01"], schedule: "24x7", staff: false, version: 1 });
    expect(members.update("m1", { status: "suspended", validUntil: "2026-01-31" })).toMatchObject({ status: "suspended", validUntil: "2026-01-31", cards: ["62E3086CED"] });
    expect(members.revokeCard("m1", "62E3086CED")).toMatchObject({ cards: [], revokedCards: ["62E3086CED"], version: 3 });
    members.remove("m1");
    expect(members.get("m1")).toBeNull();
    expect(seen).toEqual([1, 2, 3, 4]);
    expect(members.version()).toBe(4);
  });

  it("conflicts and missing members are coded errors", () => {
    const { members } = make();
    members.create({ id: "m1", cards: ["AA01"] });
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return isHazriError(e) ? e.code : "other";
      }
      return "none";
    };
    expect(code(() => members.create({ id: "m1" }))).toBe("API_CONFLICT");
    expect(code(() => members.create({ id: "m2", cards: ["AA01"] }))).toBe("API_CONFLICT");
    expect(code(() => members.update("nope", { status: "active" }))).toBe("API_NOT_FOUND");
    expect(members.version()).toBe(1); // failed changes roll back their version bump
    // A revoked card can be issued to someone else.
    members.revokeCard("m1", "AA01");
    expect(members.create({ id: "m2", cards: ["AA01"] }).cards).toEqual(["AA01"]);
  });

  it("per-center cache and deltas: only members allowed there; removals named", () => {
    const { members } = make();
    members.create({ id: "a", cards: ["A1"], centers: ["lhr-01"] });
    members.create({ id: "b", cards: ["B1"], centers: "all", staff: true });
    members.create({ id: "c", cards: ["C1"], centers: ["isb-01"] });
    expect([...members.cacheMembers("lhr-01")].map((m) => m.id)).toEqual(["a", "b"]);
    expect([...members.cacheMembers("isb-01")].map((m) => m.id)).toEqual(["b", "c"]);
    const v = members.version();
    members.revokeCard("b", "B1");
    members.update("a", { centers: ["isb-01"] });
    const d = members.changesSince(v, "lhr-01");
    expect(d.members).toEqual([{ id: "b", cards: [], status: "active", centers: "all", schedule: "24x7", staff: true }]);
    expect(d.removed).toEqual(["a"]);
    expect(members.namedCenters()).toEqual(["isb-01"]);
    // A change at another center is not a removal here.
    const v2 = members.version();
    members.update("c", { name: "C" });
    expect(members.changesSince(v2, "lhr-01")).toEqual({ members: [], removed: [] });
    expect(members.changesSince(v2, "isb-01").members.map((m) => m.id)).toEqual(["c"]);
    members.remove("c");
    expect(members.changesSince(v2, "isb-01")).toEqual({ members: [], removed: ["c"] });
    expect(members.changesSince(v2, "lhr-01")).toEqual({ members: [], removed: [] });
  });

  it("lists with keyset pagination, filtered to a staff member's centers", () => {
    const { members } = make();
    for (let i = 0; i < 25; i++) members.create({ id: `m${String(i).padStart(2, "0")}`, centers: i % 2 ? ["lhr-01"] : ["isb-01"] });
    const p1 = members.list({ limit: 10 });
    expect(p1.members).toHaveLength(10);
    const p3 = members.list({ limit: 10, after: members.list({ limit: 10, after: p1.next ?? "" }).next ?? "" });
    expect(p3.members).toHaveLength(5);
    expect(p3.next).toBeNull();
    const lhr = members.list({ limit: 100, atCenters: ["lhr-01"] });
    expect(lhr.members.every((m) => m.centers !== "all" && m.centers.includes("lhr-01"))).toBe(true);
    expect(lhr.members).toHaveLength(12);
  });
});

describe("CSV import", () => {
  it("commits valid rows and reports each bad row with row number and column", async () => {
    const { members, importer } = make();
    members.create({ id: "owner", cards: ["FF00"] });
    const csv = [
      "id,name,cards,status,validUntil,centers,schedule,staff",
      'm1,"Ali, A.",62E3086CED;0A0B,active,2026-01-31,lhr-01;isb-01,day,no',
      "m2,Sana,zz,active,,all,,",
      "m3,Bilal,,paused,,,,",
      "m4,Omar,,,2026-13,,,maybe",
      "m1,Dup,,,,,,",
      "m5,Card,FF00,,,,,",
      "m6,short",
      "m7,Ok,,suspended,,lhr-01,night,yes",
    ].join("\r\n");
    const { id, done } = importer.start(chunks(csv, 7));
    expect(importer.status(id)?.state).toBe("running");
    const st = await done;
    expect(st).toMatchObject({ state: "done", rowsDone: 8, rowsTotal: 8, ok: 2, failed: 6 });
    expect(st.errors).toEqual(
      expect.arrayContaining([
        { row: 3, column: "cards", problem: expect.stringContaining("hex") },
        { row: 4, column: "status", problem: expect.any(String) },
        { row: 5, column: "staff", problem: "expected true/false" },
        { row: 5, column: "validUntil", problem: "expected YYYY-MM-DD" },
        { row: 6, column: "id", problem: "duplicate id (first at row 2)" },
        { row: 7, column: "cards", problem: "card FF00 belongs to member owner" },
        { row: 8, column: null, problem: "expected 8 fields, got 2" },
      ]),
    );
    expect(members.get("m1")).toMatchObject({ name: "Ali, A.", cards: ["0A0B", "62E3086CED"], centers: ["isb-01", "lhr-01"], schedule: "day" });
    expect(members.get("m7")).toMatchObject({ status: "suspended", staff: true, schedule: "night" });
    expect(importer.status(id)).toEqual(st);
  });

  it("a bad header fails the import with a reason; nothing is written", async () => {
    const { members, importer } = make();
    const st = await importer.start(chunks("id,colour\nm1,red\n", 100)).done;
    expect(st.state).toBe("failed");
    expect(st.errors[0]?.problem).toMatch(/unknown column\(s\): colour/);
    expect(members.version()).toBe(0);
  });

  it("imports 50,000 rows in chunks (timing printed)", async () => {
    const { members, importer } = make();
    const lines = ["id,cards,centers"];
    for (let i = 0; i < 50_000; i++) lines.push(`m${i},${(0x10000000 + i).toString(16).toUpperCase()},lhr-01`);
    const t0 = performance.now();
    const st = await importer.start(chunks(lines.join("\n"), 64 * 1024)).done;
    const ms = performance.now() - t0;
    console.log(`[timing] 50,000-row member CSV import: ${ms.toFixed(0)} ms`);
    expect(st).toMatchObject({ state: "done", ok: 50_000, failed: 0 });
    expect(members.version()).toBe(100); // 500-row chunks → one version per chunk
    let n = 0;
    for (const _m of members.cacheMembers("lhr-01")) n++;
    expect(n).toBe(50_000);
  });
});
