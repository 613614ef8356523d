import { lstat, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { SerialPort } from "serialport";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startPtyPair, type PtyPair } from "./pty.ts";

// Runs the real socat (milliseconds to start); it is the unit under test.
let dir: string;
const pairs: PtyPair[] = [];
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "hazri-pty-"));
});
afterEach(async () => {
  for (const p of pairs.splice(0)) await p.stop();
  await rm(dir, { recursive: true, force: true });
});

async function exists(p: string): Promise<boolean> {
  return lstat(p).then(
    () => true,
    () => false,
  );
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function openPort(p: string): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    const port: SerialPort = new SerialPort({ path: p, baudRate: 9600 }, (err) => (err ? reject(err) : resolve(port)));
  });
}

/** Collect bytes from `port` until `n` arrived; rejects after the deadline. */
function readN(port: SerialPort, n: number, timeoutMs = 3000): Promise<Buffer> {
  const err = new Error(`readN(${n}) timed out`);
  return new Promise((resolve, reject) => {
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => reject(Object.assign(err, { message: `${err.message}; got ${got.toString("hex")}` })), timeoutMs);
    const onData = (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length >= n) {
        clearTimeout(timer);
        port.off("data", onData);
        resolve(got);
      }
    };
    port.on("data", onData);
  });
}

async function closePort(port: SerialPort): Promise<void> {
  if (!port.isOpen) return;
  await new Promise<void>((resolve) => port.close(() => resolve()));
}

describe("startPtyPair", () => {
  it("creates both links and carries raw bytes both ways (no CR/LF translation)", async () => {
    const pair = await startPtyPair({ dir, name: "rfid0" });
    pairs.push(pair);
    expect(pair.hostPath).toBe(path.join(dir, "rfid0"));
    expect(pair.devicePath).toBe(path.join(dir, "rfid0-dev"));
    const host = await openPort(pair.hostPath);
    const dev = await openPort(pair.devicePath);
    try {
      // EM4100 frame from device-protocols.md §1.5, plus bytes a tty would mangle (\r \n NUL ^C ^D).
      const frame = Buffer.from("0236324533303836434544303803" + "0d0a00030413", "hex");
      const rx = readN(host, frame.length);
      dev.write(frame);
      expect((await rx).toString("hex")).toBe(frame.toString("hex"));

      const cmd = Buffer.from("UNLOCK d1 3000\r\n");
      const rx2 = readN(dev, cmd.length);
      host.write(cmd);
      expect((await rx2).toString("hex")).toBe(cmd.toString("hex"));
    } finally {
      await closePort(host);
      await closePort(dev);
    }
  });

  it("stop() kills socat and removes the links; starting again (replug) works", async () => {
    const first = await startPtyPair({ dir, name: "ups0" });
    await first.stop();
    expect(pidAlive(first.pid)).toBe(false);
    expect(await exists(first.hostPath)).toBe(false);
    expect(await exists(first.devicePath)).toBe(false);
    await first.stop(); // idempotent

    const second = await startPtyPair({ dir, name: "ups0" });
    pairs.push(second);
    expect(second.pid).not.toBe(first.pid);
    const host = await openPort(second.hostPath);
    const dev = await openPort(second.devicePath);
    try {
      const rx = readN(host, 3);
      dev.write(Buffer.from("abc"));
      expect((await rx).toString()).toBe("abc");
    } finally {
      await closePort(host);
      await closePort(dev);
    }
  });

  it("kill9() (hard unplug) leaves no dangling links, and a stale link from an earlier SIGKILL is replaced", async () => {
    const a = await startPtyPair({ dir, name: "door" });
    await a.kill9();
    expect(await exists(a.hostPath)).toBe(false);

    // Simulate a socat SIGKILLed by someone else: stale symlinks to a missing pts.
    await symlink("/dev/pts/does-not-exist", path.join(dir, "door"));
    await symlink("/dev/pts/does-not-exist", path.join(dir, "door-dev"));
    const b = await startPtyPair({ dir, name: "door" });
    pairs.push(b);
    expect(await exists(b.hostPath)).toBe(true);
  });

  it("fails clearly when socat cannot start, and refuses to clobber a regular file", async () => {
    await expect(startPtyPair({ dir, name: "x", socatPath: "/nonexistent/socat" })).rejects.toThrow(/could not spawn socat/);
    // socat itself fails: the link directory does not exist -> error includes socat's stderr.
    await expect(startPtyPair({ dir: path.join(dir, "missing"), name: "x" })).rejects.toThrow(/socat exited early[\s\S]*E /);
    await writeFile(path.join(dir, "file"), "not a link");
    await expect(startPtyPair({ dir, name: "file" })).rejects.toThrow(/not a symlink/);
  });
});
