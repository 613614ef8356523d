/**
 * `npm run bench`: runs every benchmark in bench/ (each its own Node process,
 * one after the other: they share 2 cores and must not disturb each other),
 * or only those named on the command line (`npm run bench -- ingest sla`).
 * Each benchmark prints its figures and appends its section to BENCHMARKS.md
 * with the command, the machine and the date.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";

const here = import.meta.dirname;
const all = readdirSync(here)
  .filter((f) => f.endsWith(".ts") && f !== "run.ts" && !f.endsWith(".test.ts") && !f.startsWith("_"))
  .map((f) => f.slice(0, -3))
  .sort();
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !all.includes(w));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(", ")}; available: ${all.join(", ")}`);
  process.exit(2);
}
const list = wanted.length > 0 ? wanted : all;
let failed = 0;
for (const name of list) {
  console.log(`\n=== bench/${name}.ts ===`);
  const r = spawnSync(process.execPath, ["--import", "tsx", path.join(here, `${name}.ts`)], { stdio: "inherit" });
  if (r.status !== 0) {
    failed++;
    console.error(`bench/${name}.ts failed (exit ${r.status ?? r.signal})`);
  }
}
process.exit(failed > 0 ? 1 : 0);
