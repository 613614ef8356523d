import { Aedes } from "aedes";
import net from "node:net";

/** In-process aedes on 127.0.0.1:0 for tests (style guide lesson 14: no fixed ports). */
export async function startTestBroker(): Promise<{ url: string; port: number; broker: Aedes; close(): Promise<void> }> {
  const broker = await Aedes.createBroker();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sock.setNoDelay(true);
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    broker.handle(sock);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    broker,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => broker.close(() => r()));
    },
  };
}

/** Timed expectation: poll until true or fail after a deadline (style guide lesson 7). */
export async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const err = new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw err;
    await new Promise((r) => setTimeout(r, 5));
  }
}
