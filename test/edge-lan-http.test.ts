/**
 * The LAN status page and API of the real `hazri edge` process with the WAN down (its uplink points
 * at a port nobody listens on): a card tapped on a socat pty (RDM6300 bytes) is granted, drives the
 * relay, and shows up in GET /api/status and in the page rendered by a real Chromium; a seat sensor
 * on the embedded LAN broker shows as occupied; bad requests get 404/405 JSON with a code.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import path from "node:path";
import mqtt from "mqtt";
import { SerialPort } from "serialport";
import { chromium, type Browser } from "playwright-core";
import { freePort, makeTempDir, removeDir, spawnManaged, startPtyPair, waitFor, type ManagedProcess, type PtyPair } from "./harness/index.ts";
import { encodeRdm6300 } from "../edge/src/devices/rdm6300/decode.ts";

const ROOT = path.resolve(import.meta.dirname, "..");
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"];
let dir: string;
let rfid: PtyPair;
let relay: PtyPair;
let rfidDev: SerialPort;
let relayDev: SerialPort;
let relayHex = "";
let agent: ManagedProcess;
let httpPort: number;
let lanPort: number;
let browser: Browser | null = null;

const openDev = (p: string) =>
  new Promise<SerialPort>((resolve, reject) => {
    const sp = new SerialPort({ path: p, baudRate: 9600, autoOpen: false });
    sp.open((err) => (err ? reject(err) : resolve(sp)));
  });
const status = async () => {
  const r = await fetch(`http://127.0.0.1:${httpPort}/api/status`);
  if (!r.ok) throw new Error(`HTTP ${r.status}`);
  return (await r.json()) as Record<string, any>;
};

beforeAll(async () => {
  dir = await makeTempDir("edge-lan-http");
  rfid = await startPtyPair({ dir, name: "rfid" });
  relay = await startPtyPair({ dir, name: "relay" });
  rfidDev = await openDev(rfid.devicePath);
  relayDev = await openDev(relay.devicePath);
  relayDev.on("data", (b: Buffer) => (relayHex += b.toString("hex")));
  httpPort = await freePort();
  lanPort = await freePort();
  const wanPort = await freePort(); // nothing listens: the WAN is down for the whole test
  writeFileSync(path.join(dir, "members.yaml"), 'members:\n  - { id: m-alia, cards: ["62E3086CED"], status: active }\n');
  writeFileSync(
    path.join(dir, "center.yaml"),
    [
      "center: lhr-01",
      "dataDir: ./data",
      `uplink: { url: "mqtt://127.0.0.1:${wanPort}", heartbeatS: 3600 }`,
      `lan: { host: 127.0.0.1, port: ${lanPort}, http: { host: 127.0.0.1, port: ${httpPort} } }`,
      "members: ./members.yaml",
      "doors:",
      `  - { id: main, relay: { path: "${relay.hostPath}" }, unlockMs: 500 }`,
      "readers:",
      `  - { id: main-in, type: rdm6300, door: main, direction: in, path: "${rfid.hostPath}" }`,
      "seats:",
      "  - { id: s001, zone: z1, node: cw-s001, object: seat_occupied }",
      "  - { id: s002, zone: z1, node: cw-s002, object: seat_occupied }",
      "",
    ].join("\n"),
  );
  agent = await spawnManaged(process.execPath, ["--import", "tsx", path.join(ROOT, "edge/src/cli.ts"), "edge", "--config", path.join(dir, "center.yaml")], { name: "edge-lan", cwd: ROOT });
  await waitFor(
    async () => {
      const s = await status().catch(() => null);
      return s && s.devices["main-in"] === "ok" && s.devices.main === "ok" ? s : undefined;
    },
    { timeoutMs: 60_000, what: `status page up with both ptys open (log: ${agent.logTail(10)})` },
  );
});

afterAll(async () => {
  await browser?.close();
  await agent?.stop("SIGTERM", 10_000);
  for (const sp of [rfidDev, relayDev]) if (sp?.isOpen) await new Promise<void>((r) => sp.close(() => r()));
  await rfid?.stop();
  await relay?.stop();
  await removeDir(dir);
});

describe("LAN status page with the WAN down", () => {
  it("a tap is granted, drives the relay and appears in /api/status and in the page; a seat shows occupied", async () => {
    const before = await status();
    expect(before.uplink.state).toBe("down");
    expect(before.seats).toMatchObject({ s001: { state: "unknown" }, s002: { state: "unknown" } });
    const relayBefore = relayHex.length;
    await new Promise<void>((r, j) => rfidDev.write(Buffer.from(encodeRdm6300("62E3086CED")), (e) => (e ? j(e) : rfidDev.drain(() => r()))));
    const s = await waitFor(async () => {
      const x = await status();
      return x.events.some((e: any) => e.type === "badge") ? x : undefined;
    }, { timeoutMs: 20_000, what: "badge in /api/status" });
    expect(s.events.find((e: any) => e.type === "badge")).toMatchObject({ door: "main", reader: "main-in", cardId: "62E3086CED", memberId: "m-alia", decision: "granted", reason: "ok", direction: "in" });
    expect(s.presence.inside).toBe(1);
    expect(s.outbox.depth).toBeGreaterThanOrEqual(1); // WAN down: it waits on disk
    await waitFor(() => relayHex.slice(relayBefore).startsWith("a00101a2") || undefined, { timeoutMs: 10_000, what: "relay ON bytes" });

    const lan = await mqtt.connectAsync(`mqtt://127.0.0.1:${lanPort}`, { clientId: "cw-s001" });
    await lan.publishAsync("cw-s001/status", "online", { retain: true, qos: 1 });
    await lan.publishAsync("cw-s001/binary_sensor/seat_occupied/state", "ON", { retain: true, qos: 1 });
    await waitFor(async () => ((await status()).seats.s001?.state === "occupied") || undefined, { timeoutMs: 10_000, what: "seat s001 occupied" });
    await lan.endAsync();

    browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: CHROMIUM_ARGS });
    const page = await browser.newPage();
    const external: string[] = [];
    page.on("request", (r) => {
      if (!r.url().startsWith(`http://127.0.0.1:${httpPort}/`)) external.push(r.url());
    });
    await page.goto(`http://127.0.0.1:${httpPort}/`);
    await page.waitForFunction(() => document.getElementById("events")?.textContent?.includes("m-alia"), undefined, { timeout: 20_000 });
    expect(await page.textContent("#events")).toContain("granted in");
    expect(await page.textContent("#uplink")).toBe("down");
    expect(await page.textContent("#inside")).toBe("1");
    expect(await page.textContent("#seatsum")).toBe("1 of 2 occupied");
    expect(await page.textContent("#doors")).toContain("main");
    expect(external).toEqual([]);
  });

  it("bad requests → 404/405 JSON with a code; the agent keeps serving", async () => {
    const nf = await fetch(`http://127.0.0.1:${httpPort}/api/doors/../../etc/passwd`);
    expect(nf.status).toBe(404);
    expect((await nf.json()).error.code).toBe("API_NOT_FOUND");
    const na = await fetch(`http://127.0.0.1:${httpPort}/api/status`, { method: "POST", body: "{}" });
    expect(na.status).toBe(405);
    expect((await na.json()).error.code).toBe("API_METHOD_NOT_ALLOWED");
    expect(agent.hasExited()).toBe(false);
    expect((await status()).center).toBe("lhr-01");
  });
});
