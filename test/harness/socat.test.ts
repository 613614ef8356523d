import { lstat, open } from "node:fs/promises";
import { SerialPort } from "serialport";
import { afterEach, describe, expect, it } from "vitest";
import { pidAlive } from "./alive.ts";
import { startPtyPair, type PtyPair } from "./socat.ts";
import { makeTempDir, removeDir } from "./tmp.ts";
import { waitFor } from "./wait.ts";

const pairs: PtyPair[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const p of pairs.splice(0)) await p.stop();
  for (const d of dirs.splice(0)) await removeDir(d);
});

const exists = (p: string): Promise<boolean> =>
  lstat(p).then(
    () => true,
    () => false,
  );

describe("startPtyPair via the harness (real socat)", () => {
  it("simulator writes with fs, agent reads with serialport; unplug (stop) and replug", async () => {
    const dir = await makeTempDir("socat");
    dirs.push(dir);
    const pair = await startPtyPair({ dir, name: "rfid0" });
    pairs.push(pair);

    const port = new SerialPort({ path: pair.hostPath, baudRate: 9600, autoOpen: false });
    await new Promise<void>((res, rej) => port.open((e) => (e ? rej(e) : res())));
    let rx = Buffer.alloc(0);
    port.on("data", (d: Buffer) => (rx = Buffer.concat([rx, d])));
    port.on("error", () => undefined);

    const dev = await open(pair.devicePath, "r+");
    const frame = Buffer.from("02303130323646364333413341" + "03", "hex"); // §1.5 vector, ID 01026F6C3A
    await dev.write(frame);
    await waitFor(() => rx.equals(frame), { timeoutMs: 3000, what: `host side receives ${frame.toString("hex")}` });
    await dev.close();

    await pair.stop(); // unplug
    expect(pidAlive(pair.pid)).toBe(false);
    expect(await exists(pair.hostPath)).toBe(false);
    expect(await exists(pair.devicePath)).toBe(false);
    // Deliberately no assertion that the agent's SerialPort emits "close" here: on a
    // vanished pty it sometimes does and sometimes does not (observed; same as real
    // USB unplug, serialport#2351), which is why the agent needs a liveness check.
    await new Promise<void>((r) => (port.isOpen ? port.close(() => r()) : r()));

    const again = await startPtyPair({ dir, name: "rfid0" }); // replug, same paths
    pairs.push(again);
    const port2 = new SerialPort({ path: again.hostPath, baudRate: 9600, autoOpen: false });
    await new Promise<void>((res, rej) => port2.open((e) => (e ? rej(e) : res())));
    let rx2 = "";
    port2.on("data", (d: Buffer) => (rx2 += d.toString()));
    const dev2 = await open(again.devicePath, "r+");
    await dev2.write("W26:0B40288\r\n");
    await waitFor(() => rx2 === "W26:0B40288\r\n", { timeoutMs: 3000, what: "Wiegand line after replug" });
    await dev2.close();
    await new Promise<void>((r) => port2.close(() => r()));
  });
});
