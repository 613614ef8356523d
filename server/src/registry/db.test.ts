import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openRegistry } from "./db.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("openRegistry", () => {
  it("applies each migration once, across reopen, and refuses duplicate ids", () => {
    const dir = mkdtempSync(join(tmpdir(), "hazri-reg-"));
    dirs.push(dir);
    const path = join(dir, "registry.sqlite");
    const m1 = { id: "t-001", sql: "CREATE TABLE t (x INTEGER)" };
    const db1 = openRegistry(path, [m1]);
    db1.prepare("INSERT INTO t VALUES (1)").run();
    db1.close();
    const m2 = { id: "t-002", sql: "ALTER TABLE t ADD COLUMN y TEXT" };
    const db2 = openRegistry(path, [m1, m2]); // m1 would fail if applied twice
    expect(db2.prepare("SELECT count(*) FROM t").pluck().get()).toBe(1);
    expect(db2.prepare("SELECT id FROM schema_migrations ORDER BY id").pluck().all()).toEqual(["t-001", "t-002"]);
    db2.close();
    expect(() => openRegistry(path, [m1, m1])).toThrow(/duplicate migration/);
  });
});
