/**
 * The README's demo command, as a user runs it: `hazri demo` starts a private
 * InfluxDB, the server with its embedded broker and two simulated centers with
 * their edges (each with a simulated UPS and door contacts), plays the day, lets
 * the printed admin log in to the API, and on stop reports what reached InfluxDB,
 * exits 0 and leaves no daemon behind.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir, removeDir, spawnManaged, waitFor } from "./harness/index.ts";

const ROOT = path.resolve(import.meta.dirname, "..");
let dir: string;

beforeAll(async () => {
  dir = await makeTempDir("hazri-demo-");
});
afterAll(async () => {
  if (dir) await removeDir(dir);
});

/** PIDs of processes whose command line mentions `needle` (our private influxd is started with its data dir). */
function pidsMentioning(needle: string): number[] {
  const out = execFileSync("ps", ["-eo", "pid=,args="], { encoding: "utf8" });
  return out
    .split("\n")
    .filter((l) => l.includes(needle) && !l.includes("ps -eo"))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

describe("hazri demo", () => {
  it("runs the network, stores both centers' events in InfluxDB, and stops cleanly after --duration", async () => {
    const proc = await spawnManaged(
      process.execPath,
      [path.join(ROOT, "bin/hazri.mjs"), "demo", "--dir", dir, "--port", "0", "--duration", "20", "--speed", "1500"],
      { name: "hazri-demo", cwd: ROOT },
    );
    // While it runs: the web UI's admin can log in with the printed password, and the SLA report service answers.
    const started = await waitFor(() => /web UI\s+(http:\/\/\S+)\/\s+\(user admin, password (\S+)\)/.exec(proc.logTail(400)) ?? null, {
      timeoutMs: 60_000,
      what: "the demo's web UI line",
    }).catch((e: Error) => {
      throw new Error(`${e.message}\n${proc.logTail(60)}`);
    });
    const [, url, password] = started;
    const login = await fetch(`${url}/api/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "admin", password }) });
    expect(login.status).toBe(200);
    const { token } = (await login.json()) as { token: string };
    const month = new Date(Date.now() + 5 * 3_600_000).toISOString().slice(0, 7);
    const sla = await fetch(`${url}/api/reports/sla?month=${month}`, { headers: { authorization: `Bearer ${token}` } });
    expect(sla.status).toBe(200);
    const report = (await sla.json()) as { centers: { centerId: string }[] };
    expect(report.centers.map((c) => c.centerId).sort()).toEqual(["isb-01", "lhr-01"]);

    const exit = await proc.exited;
    const log = proc.logTail(400);
    expect(exit, log).toEqual({ code: 0, signal: null });

    // What the user is told: where things live, then a final count per center.
    expect(log).toContain("InfluxDB   http://127.0.0.1:");
    expect(log).toMatch(/reader main-in\s+pty \S+rfid-main-in/);
    expect(log).toMatch(/ups\s+ups\s+pty \S+ \(Megatec Q1\)/);
    expect(log).toMatch(/door\s+main\s+pty \S+contact-main \(reed contact\)/);
    for (const center of ["lhr-01", "isb-01"]) {
      const m = new RegExp(`${center}: (\\d+) events stored in InfluxDB \\((\\d+) power readings\\)`).exec(log);
      expect(m, `final line for ${center} in:\n${log}`).not.toBeNull();
      expect(Number(m?.[1])).toBeGreaterThan(0);
      expect(Number(m?.[2])).toBeGreaterThan(0); // the edge read the sim's UPS
    }
    // The influxd it started is gone, and so are the ptys.
    expect(existsSync(path.join(dir, "influxdb", "influxdb.conf"))).toBe(true); // the needle below is the right one
    expect(pidsMentioning(path.join(dir, "influxdb"))).toEqual([]);
    expect(existsSync(path.join(dir, "run", "lhr-01", "dev", "rfid-main-in"))).toBe(false);
  });
});
