import { lstat } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { pidAlive } from "./alive.ts";
import { seriesRows, startInfluxd, type InfluxInstance } from "./influxd.ts";
import { makeTempDir, removeDir } from "./tmp.ts";
import { waitFor } from "./wait.ts";

const running: InfluxInstance[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const i of running.splice(0)) await i.stop();
  for (const d of dirs.splice(0)) await removeDir(d);
});

const exists = (p: string): Promise<boolean> =>
  lstat(p).then(
    () => true,
    () => false,
  );

async function ping(url: string, timeoutMs: number): Promise<number> {
  const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(timeoutMs) });
  return res.status;
}

describe("startInfluxd (real influxd 1.6.7)", () => {
  it("without auth: create db, write a line, read it back; pause/resume; restart keeps data; stop cleans up", async () => {
    const influx = await startInfluxd();
    running.push(influx);
    expect(influx.url).toBe(`http://127.0.0.1:${influx.port}`);
    expect(influx.port).not.toBe(8086);
    expect(pidAlive(influx.pid)).toBe(true);

    await influx.createDatabase("hazri");
    await influx.write("hazri", "door_event,center=isb-01,door=main granted=true,card=\"62E3086CED\" 1700000000000");
    const rows = seriesRows(await influx.query("SELECT * FROM door_event", "hazri", { epoch: "ms" }));
    expect(rows).toEqual([{ time: 1700000000000, center: "isb-01", door: "main", granted: true, card: "62E3086CED" }]);

    // Hung sink: TCP accepts but nothing answers.
    await influx.pause();
    await expect(ping(influx.url, 300)).rejects.toThrow();
    await influx.resume();
    await waitFor(() => ping(influx.url, 1000).then((s) => s === 204), { timeoutMs: 10_000, what: "ping after resume" });

    const oldPid = influx.pid;
    await influx.restart();
    expect(influx.pid).not.toBe(oldPid);
    expect(pidAlive(oldPid)).toBe(false);
    const after = seriesRows(await influx.query("SELECT count(granted) FROM door_event", "hazri"));
    expect(after[0]?.count).toBe(1);

    // Same point key again = overwrite, not a second row (the replay rule).
    await influx.write("hazri", "door_event,center=isb-01,door=main granted=false 1700000000000");
    const replayed = seriesRows(await influx.query("SELECT count(granted), last(granted) FROM door_event", "hazri"));
    expect(replayed[0]).toMatchObject({ count: 1, last: false });

    const { pid, dataDir } = influx;
    await influx.stop();
    expect(pidAlive(pid)).toBe(false);
    expect(await exists(dataDir)).toBe(false);
  });

  it("kill -9 then restart: acknowledged writes survive (WAL)", async () => {
    const influx = await startInfluxd();
    running.push(influx);
    await influx.createDatabase("d");
    const lines = Array.from({ length: 100 }, (_, i) => `m,center=c v=${i}i ${1700000000000 + i}`).join("\n");
    await influx.write("d", lines);
    await influx.kill9();
    await influx.restart();
    const rows = seriesRows(await influx.query("SELECT count(v) FROM m", "d"));
    expect(rows[0]?.count).toBe(100);
  });

  it("with auth: creates the admin user, rejects anonymous queries, accepts Basic auth (also after restart)", async () => {
    const influx = await startInfluxd({ auth: { username: "hazri-admin", password: "s3cret'\"x" } });
    running.push(influx);
    expect(influx.username).toBe("hazri-admin");

    const anon = await fetch(`${influx.url}/query?q=${encodeURIComponent("SHOW DATABASES")}`);
    expect(anon.status).toBe(401);
    const wrong = await fetch(`${influx.url}/query?q=SHOW%20DATABASES`, {
      headers: { authorization: `Basic ${Buffer.from("hazri-admin:nope").toString("base64")}` },
    });
    expect(wrong.status).toBe(401);

    await influx.createDatabase("hazri");
    await influx.write("hazri", "power,center=lhr-02,ups=seat status=\"OB DISCHRG\" 1700000000500");
    expect(seriesRows(await influx.query('SELECT status FROM power', "hazri", { epoch: "ms" }))).toEqual([
      { time: 1700000000500, status: "OB DISCHRG" },
    ]);
    const users = seriesRows(await influx.query("SHOW USERS"));
    expect(users).toEqual([{ user: "hazri-admin", admin: true }]);

    // Existing admin user: restart must not try (and fail) to create it again.
    await influx.restart();
    expect(seriesRows(await influx.query("SELECT count(status) FROM power", "hazri"))[0]?.count).toBe(1);
  });

  it("demo mode: fixed dataDir and port are used and the data dir is kept on stop", async () => {
    const base = await makeTempDir("influx-demo");
    dirs.push(base);
    const dataDir = path.join(base, "influxdb");
    const first = await startInfluxd({ dataDir });
    running.push(first);
    await first.createDatabase("demo");
    await first.write("demo", "m v=1 1700000000000");
    const port = first.port;
    await first.stop();
    expect(await exists(path.join(dataDir, "meta"))).toBe(true);

    const second = await startInfluxd({ dataDir, port });
    running.push(second);
    expect(second.port).toBe(port);
    expect(seriesRows(await second.query("SELECT v FROM m", "demo"))).toHaveLength(1);
  });

  it("query errors are thrown, not returned", async () => {
    const influx = await startInfluxd();
    running.push(influx);
    await expect(influx.query("SELEKT 1")).rejects.toThrow(/error parsing query/);
    await expect(influx.query("SELECT * FROM m", "nope")).rejects.toThrow(/database not found/);
  });
});
