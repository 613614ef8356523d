import { Aedes } from "aedes";
import net from "node:net";
import type { Logger } from "../../../protocol/clock.ts";

/**
 * The center's LAN broker, embedded in the edge agent: ESPHome-style seat
 * sensors (device-protocols.md §7.1/§7.4) connect here, so seats keep working
 * when the internet is down. TCP_NODELAY on every socket (Nagle adds ~20 ms).
 * No auth yet (a LAN-only listener; bind it to the sensor VLAN address).
 */
export interface LanBroker {
  readonly broker: Aedes;
  readonly port: number;
  readonly host: string;
  close(): Promise<void>;
}

export async function startLanBroker(opts: { host: string; port: number; logger: Logger }): Promise<LanBroker> {
  const log = opts.logger.child({ ns: "edge:lan" });
  const broker = await Aedes.createBroker();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sock.setNoDelay(true);
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    broker.handle(sock);
  });
  broker.on("clientError", (client, err) => log.debug({ client: client?.id, err: err.message }, "lan client error"));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as net.AddressInfo).port;
  log.info({ host: opts.host, port }, "LAN broker listening");
  return {
    broker,
    port,
    host: opts.host,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => broker.close(() => r()));
    },
  };
}
