/**
 * Edge member cache at 1,000,000 members (issue 3 "Scale"): install from
 * signed parts (verify + build maps), atomic persist, load at start (in a
 * fresh process, so RSS is the cache's), lookup and decide() time.
 * Figures are printed; copy them into BENCHMARKS.md. Not a test: nothing is asserted.
 *
 *   node --import tsx bench/edge-cache.ts [members=1000000]
 */
import { spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, statSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { silentLogger, systemClock } from "../protocol/clock.ts";
import { signMemberCache, type CacheMember } from "../protocol/member-cache.ts";
import { createMemberCache } from "../edge/src/access/member-cache.ts";
import { decide } from "../edge/src/access/decide.ts";

const mb = (n: number) => `${(n / 1048576).toFixed(0)} MB`;
const card = (i: number) => (0x1000000000 + i * 7).toString(16).toUpperCase();
const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] as number;

if (process.argv[2] === "load") {
  // Child: load the persisted cache and report time + memory.
  const [, , , file, pem, n] = process.argv as string[];
  const base = process.memoryUsage().rss;
  const s = createMemberCache({ file: file!, centerId: "lhr-01", publicKeyPem: readFileSync(pem!, "utf8"), clock: systemClock, logger: silentLogger });
  const t0 = performance.now();
  await s.load();
  const loadMs = performance.now() - t0;
  globalThis.gc?.();
  const rss = process.memoryUsage().rss;
  const lat: number[] = [];
  for (let i = 0; i < 200_000; i++) {
    const c = card(Math.floor(Math.random() * Number(n)));
    const a = performance.now();
    const m = s.directory.lookupCard(c);
    decide(m, { now: Date.now(), centerId: "lhr-01", cacheAgeMs: s.ageMs() });
    lat.push(performance.now() - a);
  }
  lat.sort((a, b) => a - b);
  console.log(JSON.stringify({ loadMs, rssMb: rss / 1048576, rssGrowthMb: (rss - base) / 1048576, size: s.directory.size(), p50us: pct(lat, 50) * 1000, p99us: pct(lat, 99) * 1000, maxus: (lat[lat.length - 1] ?? 0) * 1000 }));
  process.exit(0);
}

const N = Number(process.argv[2] ?? 1_000_000);
const dir = mkdtempSync(path.join(tmpdir(), "hazri-bench-cache-"));
const { privateKey, publicKey } = generateKeyPairSync("ed25519");
const pemFile = path.join(dir, "pub.pem");
writeFileSync(pemFile, publicKey.export({ type: "spki", format: "pem" }).toString());
try {
  const members: CacheMember[] = Array.from({ length: N }, (_, i) => ({
    id: `m${i}`,
    cards: [card(i)],
    status: i % 50 === 0 ? "suspended" : "active",
    validUntil: "2027-12-31",
    schedule: i % 3 === 0 ? "day" : "24x7",
    staff: i % 1000 === 0,
  }));
  // Parts like the server's publisher (≤ 512 KiB each): ~4,000 members per part.
  const per = 4000;
  const count = Math.ceil(N / per);
  let t0 = performance.now();
  const parts: string[] = [];
  for (let p = 0; p < count; p++) {
    parts.push(JSON.stringify(signMemberCache({ v: 1, centerId: "lhr-01", version: 1, issuedAt: Date.now(), full: true, part: { index: p, count }, members: members.slice(p * per, (p + 1) * per) }, privateKey)));
  }
  const signMs = performance.now() - t0;
  const store = createMemberCache({ file: path.join(dir, "member-cache.ndjson"), centerId: "lhr-01", publicKeyPem: readFileSync(pemFile, "utf8"), clock: systemClock, logger: silentLogger });
  const partMs: number[] = [];
  t0 = performance.now();
  for (const p of parts) {
    const a = performance.now();
    store.handle(p);
    partMs.push(performance.now() - a);
  }
  const installMs = performance.now() - t0;
  partMs.sort((a, b) => a - b);
  t0 = performance.now();
  await store.flush();
  const writeMs = performance.now() - t0;
  const fileSize = statSync(path.join(dir, "member-cache.ndjson")).size;
  await store.close();
  const child = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", import.meta.filename, "load", path.join(dir, "member-cache.ndjson"), pemFile, String(N)], { encoding: "utf8" });
  if (child.status !== 0) throw new Error(child.stderr);
  const load = JSON.parse(child.stdout.trim().split("\n").pop() as string);
  console.log(`members: ${N.toLocaleString("en")} in ${count} signed parts (server-side signing ${signMs.toFixed(0)} ms)`);
  console.log(`install (verify + maps) total ${installMs.toFixed(0)} ms; per part p50 ${pct(partMs, 50).toFixed(1)} ms, max ${(partMs[partMs.length - 1] ?? 0).toFixed(1)} ms (the longest the door path can wait behind one part)`);
  console.log(`persist (background, chunked, atomic): ${writeMs.toFixed(0)} ms, file ${mb(fileSize)}`);
  console.log(`load at start (fresh process): ${load.loadMs.toFixed(0)} ms, RSS ${load.rssMb.toFixed(0)} MB (growth ${load.rssGrowthMb.toFixed(0)} MB), ${load.size.toLocaleString("en")} members`);
  console.log(`lookup + decide over 200,000 random cards: p50 ${load.p50us.toFixed(2)} µs, p99 ${load.p99us.toFixed(2)} µs, max ${load.maxus.toFixed(0)} µs`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
