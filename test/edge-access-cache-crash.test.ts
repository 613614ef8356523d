/**
 * A crash mid-write of the member cache leaves the last good version
 * (reliability matrix DA-4), with a real process: a child edge-cache writer
 * installs signed full caches v1, v2, ... (20,000 members each) as fast as it
 * can; we SIGKILL it at a random moment; the file on disk must then load as one
 * complete version (the last reported done, or the next one if the rename
 * landed before the report), members all of that version, never torn.
 */
import { spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeCacheFs, readCacheFile } from "../edge/src/access/cache-file.ts";
import { makeTempDir, removeDir, waitFor } from "./harness/index.ts";

const ROOT = path.resolve(import.meta.dirname, "..");
let dir: string;
let script: string;

beforeAll(async () => {
  dir = await makeTempDir("edge-cache-crash");
  script = path.join(dir, "writer.mts");
  writeFileSync(
    script,
    `
import { generateKeyPairSync } from "node:crypto";
import { createMemberCache } from ${JSON.stringify(path.join(ROOT, "edge/src/access/member-cache.ts"))};
import { signMemberCache } from ${JSON.stringify(path.join(ROOT, "protocol/member-cache.ts"))};
const { privateKey, publicKey } = generateKeyPairSync("ed25519");
const log = { debug() {}, info() {}, warn() {}, error() {}, child() { return log; } };
const s = createMemberCache({ file: process.argv[2], centerId: "lhr-01", publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(), clock: { now: () => Date.now(), mono: () => performance.now() }, logger: log });
for (let v = 1; ; v++) {
  const members = Array.from({ length: 20000 }, (_, i) => ({ id: "m" + v + "-" + i, cards: [(0x1000000000 + i).toString(16).toUpperCase()], status: "active", staff: false }));
  const out = s.handle(JSON.stringify(signMemberCache({ v: 1, centerId: "lhr-01", version: v, issuedAt: Date.now(), full: true, members }, privateKey)));
  if (out !== "installed") throw new Error(out);
  await s.flush();
  process.stdout.write("done " + v + "\\n");
}
`,
  );
});
afterAll(async () => {
  await removeDir(dir);
});

describe("member cache write vs SIGKILL", () => {
  it("after a kill at a random moment the file holds one complete version", async () => {
    for (let round = 0; round < 5; round++) {
      const file = path.join(dir, `cache-${round}.ndjson`);
      const child = spawn(process.execPath, ["--import", "tsx", script, file], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      let err = "";
      child.stdout.on("data", (d) => (out += d));
      child.stderr.on("data", (d) => (err += d));
      const exited = new Promise<void>((r) => child.on("exit", () => r()));
      await waitFor(() => /done 1\n/.test(out) || (err.length > 0 ? Promise.reject(new Error(err)) : undefined), { timeoutMs: 60_000, what: "first version written" });
      // Kill inside the next write: once its temp file exists, after a random 0-30 ms
      // (a write of 20,000 members takes tens of ms), so rounds land before and after the rename.
      await waitFor(() => existsSync(`${file}.tmp`) || undefined, { timeoutMs: 60_000, intervalMs: 1, what: "second write started" });
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 30)));
      const tmpAtKill = existsSync(`${file}.tmp`);
      child.kill("SIGKILL");
      await exited;
      const done = Math.max(...[...out.matchAll(/done (\d+)/g)].map((m) => Number(m[1])));
      const r = await readCacheFile(nodeCacheFs, file);
      expect(r).not.toBeNull();
      const v = r!.header.version;
      expect([done, done + 1]).toContain(v);
      expect(r!.members).toHaveLength(20000);
      expect(r!.members.every((m) => m.id.startsWith(`m${v}-`))).toBe(true);
      console.log(`round ${round}: killed after "done ${done}" (temp file ${tmpAtKill ? "present" : "gone"}), file holds complete v${v}`);
    }
  });
});
