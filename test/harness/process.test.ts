import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { pidAlive, procState } from "./alive.ts";
import { freePort } from "./ports.ts";
import { spawnManaged, waitReady } from "./process.ts";
import { makeTempDir, removeDir } from "./tmp.ts";
import { waitFor } from "./wait.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await removeDir(d);
});

describe("waitFor", () => {
  it("resolves with the first truthy value", async () => {
    let n = 0;
    await expect(waitFor(() => (++n >= 3 ? { n } : null), { timeoutMs: 2000, intervalMs: 1, what: "n>=3" })).resolves.toEqual({ n: 3 });
  });

  it("rejects after the deadline naming `what` and the last value, with the caller in the stack", async () => {
    const err = await waitFor(() => 0, { timeoutMs: 50, intervalMs: 5, what: "a real UPS status" }).catch(
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/a real UPS status.*last value: 0/);
    expect((err as Error).stack).toContain("process.test.ts");
  });

  it("does not hang on an attempt that never settles (rejects at the deadline)", async () => {
    const t0 = Date.now();
    const err = await waitFor(() => new Promise<boolean>(() => undefined), { timeoutMs: 100, what: "a close event" }).catch(
      (e: unknown) => e as Error,
    );
    expect((err as Error).message).toMatch(/a close event.*still pending at the deadline/);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it("reports the last error thrown by fn", async () => {
    const err = await waitFor(
      () => {
        throw new Error("ECONNREFUSED");
      },
      { timeoutMs: 30, intervalMs: 5, what: "ping" },
    ).catch((e: unknown) => e as Error);
    expect((err as Error).message).toMatch(/ping; last error: ECONNREFUSED/);
  });
});

describe("freePort", () => {
  it("returns a bindable port number", async () => {
    const p = await freePort();
    expect(p).toBeGreaterThan(1024);
    expect(p).toBeLessThan(65536);
  });
});

describe("spawnManaged", () => {
  it("writes output to the log file, pauses/resumes, and stops with SIGTERM", async () => {
    const dir = await makeTempDir("proc");
    dirs.push(dir);
    const logFile = path.join(dir, "out.log");
    const p = await spawnManaged(process.execPath, ["-e", "console.log('hello'); console.error('oops'); setInterval(() => {}, 1000)"], {
      name: "idler",
      logFile,
    });
    await waitFor(() => p.logTail(5).includes("oops"), { timeoutMs: 5000, what: "both streams in the log" });
    expect(await readFile(logFile, "utf8")).toMatch(/hello[\s\S]*oops|oops[\s\S]*hello/);
    await p.pause();
    await waitFor(async () => (await procState(p.pid)) === "T", { timeoutMs: 2000, what: "state T (stopped)" });
    await p.resume();
    await waitFor(async () => (await procState(p.pid)) !== "T", { timeoutMs: 2000, what: "state not T" });
    await p.pause(); // stop() must still work on a paused process (SIGCONT after SIGTERM)
    await p.stop("SIGTERM", 5000);
    expect(await p.exited).toEqual({ code: null, signal: "SIGTERM" });
    expect(pidAlive(p.pid)).toBe(false);
    await p.stop(); // idempotent
  });

  it("escalates to SIGKILL when SIGTERM is ignored, after the grace period", async () => {
    const p = await spawnManaged(
      process.execPath,
      ["-e", "process.on('SIGTERM', () => console.log('ignoring TERM')); console.log('ready'); setInterval(() => {}, 1000)"],
      { name: "stubborn" },
    );
    await waitFor(() => p.logTail().includes("ready"), { timeoutMs: 5000, what: "ready" });
    const t0 = Date.now();
    await p.stop("SIGTERM", 300);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect((await p.exited).signal).toBe("SIGKILL");
    expect(p.logTail()).toContain("ignoring TERM");
  });

  it("waitReady fails fast with the log tail when the daemon dies at startup", async () => {
    const p = await spawnManaged(process.execPath, ["-e", "console.error('bad config line 3'); process.exit(3)"], { name: "crasher" });
    const t0 = Date.now();
    await expect(waitReady(p, () => false, { timeoutMs: 30_000, what: "never" })).rejects.toThrow(
      /crasher .*exited \(code 3[\s\S]*bad config line 3/,
    );
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it("rejects a missing binary clearly", async () => {
    await expect(spawnManaged("/nonexistent/daemon", [], { name: "ghost" })).rejects.toThrow(/cannot spawn \/nonexistent\/daemon/);
  });
});
