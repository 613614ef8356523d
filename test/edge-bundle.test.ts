/**
 * `npm run build:edge` (scripts/build-edge.mjs): the bundled edge agent is the same program as
 * `hazri edge` — it prints its usage, refuses a bad config with every error and exit code 2, and runs
 * a config until SIGTERM (it opens its outbox and LAN broker and logs "edge agent started").
 */
import { execFile, spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir, removeDir, waitFor } from "./harness/index.ts";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BUNDLE = path.join(ROOT, "dist/hazri-edge.mjs");
let dir: string;

beforeAll(async () => {
  dir = await makeTempDir("edge-bundle");
  await run(process.execPath, ["scripts/build-edge.mjs"], { cwd: ROOT });
});
afterAll(async () => {
  await removeDir(dir);
});

describe("the bundled edge agent", () => {
  it("is built, prints its usage, and refuses a bad config with all errors and exit 2", async () => {
    expect(existsSync(BUNDLE)).toBe(true);
    const help = await run(process.execPath, [BUNDLE, "--help"]);
    expect(help.stdout).toMatch(/usage: hazri edge --config/);
    writeFileSync(path.join(dir, "bad.yaml"), "center: 'no spaces allowed'\nuplink: { url: 42 }\ndoors: nope\n");
    const bad = await run(process.execPath, [BUNDLE, "--config", path.join(dir, "bad.yaml")]).then(
      () => ({ code: 0, stderr: "" }),
      (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/center/);
    expect(bad.stderr).toMatch(/uplink\.url/);
    expect(bad.stderr).toMatch(/doors/);
  });

  it("runs a center config until SIGTERM and stops cleanly", async () => {
    writeFileSync(path.join(dir, "members.yaml"), 'members:\n  - { id: m1, cards: ["62E3086CED"], status: active }\n');
    writeFileSync(
      path.join(dir, "center.yaml"),
      "center: lhr-01\ndataDir: ./data\nuplink: { url: 'mqtt://127.0.0.1:1' }\nlan: { host: 127.0.0.1, port: 0 }\nmembers: ./members.yaml\nseats:\n  - { id: s001, zone: z1, node: cw-s001 }\n",
    );
    const p = spawn(process.execPath, [BUNDLE, "--config", path.join(dir, "center.yaml")], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((r) => p.on("exit", (code) => r(code)));
    try {
      await waitFor(() => out.includes('"msg":"edge agent started"') || undefined, { timeoutMs: 30_000, what: "edge agent started" });
      expect(existsSync(path.join(dir, "data/outbox.sqlite"))).toBe(true);
    } finally {
      p.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
    expect(out).toContain('"msg":"edge agent stopped"');
  });
});
