import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "../../../test/harness/wait.ts";
import { startNetProxy, type NetProxy } from "./net-proxy.ts";

/** An echo server that records what it received. */
async function echoServer(): Promise<{ port: number; received: () => string; close: () => Promise<void> }> {
  let got = "";
  const socks = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    socks.add(s);
    s.on("error", () => {});
    s.on("close", () => socks.delete(s));
    s.on("data", (b) => {
      got += b.toString();
      s.write(b);
    });
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  return {
    port: (srv.address() as net.AddressInfo).port,
    received: () => got,
    close: () =>
      new Promise<void>((r) => {
        for (const s of socks) s.destroy();
        srv.close(() => r());
      }),
  };
}

function connect(port: number): Promise<{ sock: net.Socket; data: () => string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    let data = "";
    const sock = net.connect({ host: "127.0.0.1", port });
    sock.on("data", (b) => (data += b.toString()));
    sock.on("error", () => {});
    const closed = new Promise<void>((r) => sock.once("close", () => r()));
    sock.once("connect", () => resolve({ sock, data: () => data, closed }));
    sock.once("error", reject);
  });
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(): Promise<{ proxy: NetProxy; echo: Awaited<ReturnType<typeof echoServer>>; transitions: boolean[] }> {
  const echo = await echoServer();
  cleanups.push(echo.close);
  const transitions: boolean[] = [];
  const proxy = await startNetProxy({ target: { host: "127.0.0.1", port: echo.port }, onTransition: (t) => transitions.push(t.up) });
  cleanups.push(() => proxy.close());
  return { proxy, echo, transitions };
}

describe("net-proxy", () => {
  it("forwards both ways while up", async () => {
    const { proxy } = await setup();
    expect(proxy.url).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
    const c = await connect(proxy.port);
    c.sock.write("hello");
    await waitFor(() => c.data() === "hello", { timeoutMs: 3000, what: "echo through the proxy" });
    expect(proxy.stats()).toMatchObject({ accepted: 1, open: 1, bytesUp: 5, bytesDown: 5 });
    c.sock.destroy();
  });

  it("cut('reset') closes live connections and refuses new ones; restore() lets them through again", async () => {
    const { proxy, transitions } = await setup();
    const c = await connect(proxy.port);
    proxy.cut();
    await c.closed; // the client sees its connection die at once
    expect(proxy.isUp()).toBe(false);
    const d = await connect(proxy.port);
    await d.closed; // accepted then closed: like an upstream that refuses
    expect(proxy.stats().refused).toBe(1);
    proxy.restore();
    const e = await connect(proxy.port);
    e.sock.write("back");
    await waitFor(() => e.data() === "back", { timeoutMs: 3000, what: "echo after restore" });
    expect(transitions).toEqual([false, true]);
    e.sock.destroy();
  });

  it("cut('blackhole') keeps the connection open but drops every byte; restore() closes it", async () => {
    const { proxy, echo } = await setup();
    const c = await connect(proxy.port);
    c.sock.write("a");
    await waitFor(() => c.data() === "a", { timeoutMs: 3000, what: "first echo" });
    proxy.cut("blackhole");
    c.sock.write("lost");
    await waitFor(() => proxy.stats().bytesDropped >= 4, { timeoutMs: 3000, what: "bytes dropped" });
    // Dropping happens instead of forwarding (same tick), so the far end never saw them.
    expect(echo.received()).toBe("a");
    expect(c.sock.destroyed).toBe(false);
    proxy.restore();
    await c.closed;
    expect(proxy.stats().open).toBe(0);
  });

  it("cut/restore are idempotent and count one cut", async () => {
    const { proxy, transitions } = await setup();
    proxy.cut();
    proxy.cut();
    proxy.restore();
    proxy.restore();
    expect(proxy.stats().cuts).toBe(1);
    expect(transitions).toEqual([false, true]);
  });
});
