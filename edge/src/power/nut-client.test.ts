import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { connectNut, nutErrorCode, tokenizeNutLine } from "./nut-client.ts";
import { isHazriError } from "../../../protocol/errors.ts";

// A scripted upsd stand-in on a free loopback port; the real upsd is exercised in test/edge-power-nut.test.ts.
let server: net.Server | null = null;
afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = null;
});
async function fakeUpsd(reply: (line: string) => string | null): Promise<number> {
  server = net.createServer((s) => {
    s.setNoDelay(true);
    let buf = "";
    s.on("data", (c) => {
      buf += c.toString();
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const r = reply(line);
        if (r !== null) s.write(r);
      }
    });
    s.on("error", () => undefined);
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
  return (server!.address() as net.AddressInfo).port;
}

describe("NUT line grammar (§5.1)", () => {
  it("tokenizes quotes and escapes", () => {
    expect(tokenizeNutLine('VAR seat-ups ups.status "OB DISCHRG LB"')).toEqual(["VAR", "seat-ups", "ups.status", "OB DISCHRG LB"]);
    expect(tokenizeNutLine('VAR u x "a \\"q\\" \\\\ b"')).toEqual(["VAR", "u", "x", 'a "q" \\ b']);
    expect(tokenizeNutLine('VAR u empty ""')).toEqual(["VAR", "u", "empty", ""]);
  });
  it("maps ERR codes (§5.3)", () => {
    expect(nutErrorCode("DATA-STALE")).toBe("DEVICE_STALE");
    expect(nutErrorCode("DRIVER-NOT-CONNECTED")).toBe("DEVICE_NOT_CONNECTED");
    expect(nutErrorCode("UNKNOWN-UPS")).toBe("CONFIG_INVALID");
    expect(nutErrorCode("ACCESS-DENIED")).toBe("DEVICE_PROTOCOL");
  });
});

describe("connectNut against a scripted server", () => {
  it("LIST VAR / GET VAR, requests serialised; ERR → HazriError with the mapped code", async () => {
    const port = await fakeUpsd((l) => {
      if (l === "LIST VAR u1")
        return 'BEGIN LIST VAR u1\nVAR u1 battery.charge "97"\nVAR u1 ups.status "OL CHRG"\nEND LIST VAR u1\n';
      if (l === "GET VAR u1 ups.status") return 'VAR u1 ups.status "OL CHRG"\n';
      if (l === "LIST VAR stale") return "ERR DATA-STALE\n";
      if (l === "LIST VAR nope") return "ERR UNKNOWN-UPS\n";
      return null;
    });
    const c = await connectNut({ host: "127.0.0.1", port, timeoutMs: 2000 });
    const [a, b] = await Promise.all([c.listVar("u1"), c.getVar("u1", "ups.status")]);
    expect(a).toEqual({ "battery.charge": "97", "ups.status": "OL CHRG" });
    expect(b).toBe("OL CHRG");
    const e1 = await c.listVar("stale").catch((e) => e);
    expect(isHazriError(e1, "DEVICE_STALE")).toBe(true);
    const e2 = await c.listVar("nope").catch((e) => e);
    expect(isHazriError(e2, "CONFIG_INVALID")).toBe(true);
    c.close();
    expect(isHazriError(await c.getVar("u1", "x").catch((e) => e), "DEVICE_PORT_CLOSED")).toBe(true);
  });
  it("no reply → DEVICE_TIMEOUT and the connection is dropped; refused → DEVICE_OPEN_FAILED", async () => {
    const port = await fakeUpsd(() => null);
    const c = await connectNut({ host: "127.0.0.1", port, timeoutMs: 200 });
    const e = await c.listVar("u1").catch((x) => x);
    expect(isHazriError(e, "DEVICE_TIMEOUT")).toBe(true);
    expect(c.closed).toBe(true);
    await new Promise<void>((r) => server!.close(() => r()));
    server = null;
    const e2 = await connectNut({ host: "127.0.0.1", port, timeoutMs: 500 }).catch((x) => x);
    expect(isHazriError(e2, "DEVICE_OPEN_FAILED")).toBe(true);
  });
});
