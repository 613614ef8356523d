/** Helpers shared by bench/ingest.ts and bench/connections.ts (the leading "_" keeps bench/run.ts from running it). */
import { execSync } from "node:child_process";
import { appendFile, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import { fileURLToPath } from "node:url";

const BENCH_MD = fileURLToPath(new URL("../BENCHMARKS.md", import.meta.url));

export function machine(): string {
  const load = os.loadavg().map((x) => x.toFixed(1)).join(" ");
  let mem = "";
  try {
    mem = execSync("free -g | awk '/Mem:/ {print $2}'").toString().trim();
  } catch {
    mem = String(Math.round(os.totalmem() / 2 ** 30));
  }
  return `${os.cpus()[0]?.model ?? "?"}, nproc ${os.availableParallelism()}, ${mem} GB RAM (free -g), Node ${process.version}, load average at the end ${load} (the box is shared with other work)`;
}

/** Append under "## Server ingest (issue 5)" (created at the end of the file when missing). */
export async function appendSection(text: string): Promise<void> {
  const HEADING = "## Server ingest (issue 5)";
  let md = "";
  try {
    md = await readFile(BENCH_MD, "utf8");
  } catch {
    md = "# Benchmarks\n";
  }
  if (!md.includes(HEADING)) {
    await writeFile(BENCH_MD, `${md.replace(/\n*$/, "\n\n")}${HEADING}\n\n${text}\n`);
    return;
  }
  // Insert at the end of our section (before the next "## " heading, if any).
  const start = md.indexOf(HEADING);
  const next = md.indexOf("\n## ", start + HEADING.length);
  if (next === -1) await appendFile(BENCH_MD, `${md.endsWith("\n") ? "" : "\n"}\n${text}\n`);
  else await writeFile(BENCH_MD, `${md.slice(0, next).replace(/\n*$/, "\n\n")}${text}\n${md.slice(next)}`);
}
