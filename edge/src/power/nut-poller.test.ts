import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../../protocol/clock.ts";
import { startNutPoller } from "./nut-poller.ts";
import type { PowerReading } from "./reading.ts";

/** Timed expectation: poll until true or fail after a deadline (style lesson 7). */
async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const err = new Error(`timed out waiting for ${what}`);
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw err;
    await new Promise((r) => setTimeout(r, 10));
  }
}

let reply = 'BEGIN LIST VAR u1\nVAR u1 ups.status "OL"\nEND LIST VAR u1\n';
const sockets = new Set<net.Socket>();
function serve(port = 0): Promise<net.Server> {
  const srv = net.createServer((s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => undefined);
    s.on("data", (c) => {
      for (const line of c.toString().split("\n")) if (line.startsWith("LIST VAR")) s.write(reply);
    });
  });
  return new Promise((r) => srv.listen(port, "127.0.0.1", () => r(srv)));
}
const closeServer = (srv: net.Server) =>
  new Promise<void>((r) => {
    for (const s of sockets) s.destroy();
    srv.close(() => r());
  });

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

describe("NUT poller (scripted upsd)", () => {
  it("readings; ERR DATA-STALE → stale at once; recovers; upsd gone → stale after staleAfterMs; reconnects with back-off", async () => {
    let srv = await serve();
    const port = (srv.address() as net.AddressInfo).port;
    cleanup.push(() => closeServer(srv));
    const readings: PowerReading[] = [];
    const links: string[] = [];
    const p = await startNutPoller({
      id: "n1", host: "127.0.0.1", port, ups: "u1", pollMs: 50, staleAfterMs: 400, requestTimeoutMs: 300,
      backoff: { initialMs: 50, maxMs: 100 }, logger: silentLogger,
      onReading: (r) => readings.push(r), onLink: (l) => links.push(l),
    });
    cleanup.unshift(() => p.close());
    await until(() => readings.length > 0, "first reading");
    expect(readings[0]!.status).toEqual(["OL"]);
    expect(p.health()).toBe("ok");
    reply = "ERR DATA-STALE\n";
    await until(() => links.length === 1, "stale from DATA-STALE");
    expect(p.counters.errors.DEVICE_STALE).toBeGreaterThan(0);
    expect(p.health()).toBe("degraded");
    reply = 'BEGIN LIST VAR u1\nVAR u1 ups.status "OB DISCHRG"\nEND LIST VAR u1\n';
    await until(() => readings.at(-1)?.status.includes("OB") === true, "reading after recovery");
    expect(p.health()).toBe("ok");
    await closeServer(srv);
    await until(() => links.length === 2, "stale after upsd vanished", 3000);
    const n = readings.length;
    srv = await serve(port);
    await until(() => readings.length > n, "reconnected and reading again", 3000);
    expect(p.counters.reopens).toBeGreaterThanOrEqual(2);
  });
});
