import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadEdgeConfig, parseEdgeConfig } from "./config.ts";
import { loadMembers } from "./access/members.ts";
import { HazriError } from "../../protocol/errors.ts";

const examples = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../examples");

function errorOf(f: () => unknown): HazriError {
  try {
    f();
  } catch (e) {
    if (e instanceof HazriError) return e;
    throw e;
  }
  throw new Error("expected a HazriError");
}

describe("edge config", () => {
  it("the example parses, with paths resolved against its folder, and its member list loads", async () => {
    const c = await loadEdgeConfig(path.join(examples, "center.yaml"));
    expect(c.center).toBe("lhr-01");
    expect(c.members).toBe(path.join(examples, "members.yaml"));
    expect(c.dataDir).toBe(path.join(examples, ".hazri/edge/lhr-01"));
    expect(c.readers[0]?.door).toBe("main");
    expect(c.uplink.window).toBe(4);
    const dir = await loadMembers(c.members);
    expect(dir.lookupCard("62E3086CED")?.id).toBe("m-0001");
  });
  it("reports ALL errors at once with paths", () => {
    const e = errorOf(() =>
      parseEdgeConfig(
        {
          center: "bad center",
          dataDir: "d",
          uplink: { url: "http://x", batchSize: 0, typo: 1 },
          lan: {},
          members: "m.yaml",
          doors: [{ id: "main", relay: { path: "/dev/x" }, unlockMs: 5 }],
          readers: [{ id: "r1", type: "rdm6300", door: "side", direction: "in", path: "/dev/y" }],
        },
        "/tmp",
      ),
    );
    expect(e.code).toBe("CONFIG_INVALID");
    for (const p of ["center:", "uplink.url:", "uplink.batchSize:", "uplink:", "doors.0.unlockMs:"]) expect(e.message).toContain(p);
    expect(e.message).toContain("between 100 and 60000 milliseconds");
    // the cross-field check is reported together with the schema errors
    expect(e.message).toContain('readers.0.door: unknown door "side"');
  });
  it("cross-field checks: reader's door exists, unique ids", () => {
    const e = errorOf(() =>
      parseEdgeConfig(
        {
          center: "lhr-01",
          dataDir: "d",
          uplink: { url: "mqtt://h:1" },
          lan: {},
          members: "m.yaml",
          doors: [
            { id: "main", relay: { path: "/dev/x" } },
            { id: "main", relay: { path: "/dev/z" } },
          ],
          readers: [{ id: "r1", type: "rdm6300", door: "side", direction: "in", path: "/dev/y" }],
          seats: [
            { id: "s1", zone: "z", node: "n1" },
            { id: "s1", zone: "z", node: "n1" },
          ],
        },
        "/tmp",
      ),
    );
    expect(e.message).toContain('doors.1.id: duplicate id "main"');
    expect(e.message).toContain('readers.0.door: unknown door "side"');
    expect(e.message).toContain('seats.1.id: duplicate id "s1"');
    expect(e.message).toContain("seats.1.node: sensor n1/seat_occupied mapped twice");
  });
  it("missing file → CONFIG_NOT_FOUND; YAML syntax → CONFIG_PARSE", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "hazri-cfg-"));
    await expect(loadEdgeConfig(path.join(dir, "nope.yaml"))).rejects.toMatchObject({ code: "CONFIG_NOT_FOUND" });
    writeFileSync(path.join(dir, "bad.yaml"), "center: [unclosed\n");
    await expect(loadEdgeConfig(path.join(dir, "bad.yaml"))).rejects.toMatchObject({ code: "CONFIG_PARSE" });
  });
});
