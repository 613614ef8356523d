/** Helpers for the edge benchmarks (the leading "_" keeps bench/run.ts from running this file). */
import { readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { fileURLToPath } from "node:url";

const BENCH_MD = fileURLToPath(new URL("../BENCHMARKS.md", import.meta.url));
const TICKS = 100; // USER_HZ on Linux: /proc/<pid>/stat counts CPU time in 1/100 s

/** RSS, peak RSS and CPU seconds (user + system) of a process, from /proc. */
export function procSample(pid: number): { rssKiB: number; hwmKiB: number; cpuS: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  // Fields after the ")" closing the command name: state is field 3, utime 14, stime 15 (proc(5)).
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const cpuS = (Number(f[11]) + Number(f[12])) / TICKS;
  return { rssKiB: kib("VmRSS"), hwmKiB: kib("VmHWM"), cpuS };
}

/** Nearest-rank percentile. */
export function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? Number.NaN;
}

export function machineLine(): string {
  const load = os.loadavg().map((x) => x.toFixed(1)).join(" ");
  return `${os.cpus()[0]?.model ?? "?"}, nproc ${os.availableParallelism()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, load average at the end ${load}`;
}

/** Insert `text` at the end of the section `heading` of BENCHMARKS.md (the section is created when missing). */
export function appendBenchSection(heading: string, text: string): void {
  let md = readFileSync(BENCH_MD, "utf8");
  if (!md.includes(heading)) md = `${md.replace(/\n*$/, "\n\n")}${heading}\n\n`;
  const start = md.indexOf(heading);
  const next = md.indexOf("\n## ", start + heading.length);
  md = next === -1 ? `${md.replace(/\n*$/, "\n\n")}${text}\n` : `${md.slice(0, next).replace(/\n*$/, "\n\n")}${text}\n${md.slice(next)}`;
  writeFileSync(BENCH_MD, md);
}
