import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { main } from "./cli.ts";
import { openRegistry } from "./registry/db.ts";
import { createCenterStore, migrations } from "./registry/centers.ts";

describe("hazri server center … through the server CLI", () => {
  const dirs: string[] = [];
  afterEach(() => {
    vi.restoreAllMocks();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it("add/list/disable on the registry named by --config; the printed password verifies", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hazri-cli-center-"));
    dirs.push(dir);
    const reg = join(dir, "registry.sqlite");
    const cfg = join(dir, "server.yaml");
    writeFileSync(cfg, `broker: { embedded: {} }\ninflux: { kind: v1, url: "http://127.0.0.1:9", database: hazri }\nregistry: { path: "${reg}" }\n`);
    const out: string[] = [];
    const err: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((s) => (out.push(String(s)), true));
    vi.spyOn(process.stderr, "write").mockImplementation((s) => (err.push(String(s)), true));
    expect(await main(["center", "add", "pes-01", "--name", "Peshawar", "--config", cfg])).toBe(0);
    const pw = /password: (\S+)/.exec(out.join(""))?.[1] ?? "";
    expect(await main(["center", "list", "--config", cfg])).toBe(0);
    expect(out.join("")).toMatch(/pes-01\tPeshawar\t\S+\tenabled/);
    const db = openRegistry(reg, migrations);
    expect(await createCenterStore(db).verifyCenter("pes-01", pw)).toBe(true);
    db.close();
    expect(await main(["center", "disable", "pes-01", "--config", cfg])).toBe(0);
    expect(await main(["center", "add", "pes-01", "--config", cfg])).toBe(1); // exists
    expect(err.join("")).toMatch(/already exists/);
    // A config without registry.path is a usage error, not a crash.
    const bare = join(dir, "bare.yaml");
    writeFileSync(bare, `broker: { embedded: {} }\ninflux: { kind: v1, url: "http://127.0.0.1:9", database: hazri }\n`);
    expect(await main(["center", "list", "--config", bare])).toBe(2);
    expect(err.join("")).toMatch(/no registry\.path/);
  });
});
