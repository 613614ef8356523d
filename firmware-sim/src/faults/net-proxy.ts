/**
 * A small TCP forwarder that plays a center's internet link: the edge's uplink
 * connects to the proxy instead of the central broker, and a scenario calls
 * `cut()` to make the WAN vanish and `restore()` to bring it back.
 *
 * Why a real TCP hop and not a flag in the edge: the edge must discover the
 * outage the way it does in the field (reliability-matrix §2: keepalive
 * timeout, RST, connect refused), persist what it captures meanwhile, and
 * reconnect on its own. A cut can look like two different failures:
 *  - "reset": every forwarded connection is destroyed (RST/FIN seen at once),
 *    new connections are accepted and closed immediately (like a router with
 *    no upstream that refuses).
 *  - "blackhole": forwarded connections stay open but every byte is dropped in
 *    both directions, and new connections are accepted but never forwarded
 *    (a dead upstream link): only MQTT keepalive (3.1.1 §3.1.2.10) can notice.
 * `restore()` ends the cut; connections black-holed during the cut are closed
 * then (their MQTT stream is corrupt after dropped bytes), so clients reconnect.
 */
import net from "node:net";

export type CutMode = "reset" | "blackhole";

export interface NetProxyOptions {
  /** Where to forward to (the central broker). */
  target: { host: string; port: number };
  /** Listen address (default 127.0.0.1, port 0 = a free port). */
  host?: string;
  port?: number;
  /** Called on every cut/restore with the true wall time (scenarios write it to ground truth). */
  onTransition?: (t: { up: boolean; mode: CutMode | null; at: number }) => void;
  now?: () => number;
}

export interface NetProxyStats {
  accepted: number;
  /** Connections refused or black-holed because the link was cut. */
  refused: number;
  open: number;
  bytesUp: number;
  bytesDown: number;
  /** Bytes read and thrown away on a black-holed link. */
  bytesDropped: number;
  cuts: number;
}

export interface NetProxy {
  /** `mqtt://host:port` of the proxy (what the edge's uplink.url should be). */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  isUp(): boolean;
  /** Cut the link (idempotent). Default mode "reset". */
  cut(mode?: CutMode): void;
  /** Restore the link (idempotent). */
  restore(): void;
  /** Close every forwarded connection now without cutting the link (a WAN IP change). */
  dropConnections(): void;
  stats(): NetProxyStats;
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket | null;
}

export async function startNetProxy(opts: NetProxyOptions): Promise<NetProxy> {
  const now = opts.now ?? Date.now;
  let mode: CutMode | null = null;
  const pairs = new Set<Pair>();
  const holes = new Set<net.Socket>();
  const stats: NetProxyStats = { accepted: 0, refused: 0, open: 0, bytesUp: 0, bytesDown: 0, bytesDropped: 0, cuts: 0 };

  const destroyPair = (p: Pair): void => {
    p.client.destroy();
    p.upstream?.destroy();
    if (pairs.delete(p)) stats.open--;
  };

  const server = net.createServer((client) => {
    client.on("error", () => {}); // a peer reset is normal here; never an unhandled 'error'
    client.setNoDelay(true); // MQTT acks are tiny: Nagle would add ~40 ms per hop
    if (mode === "reset") {
      stats.refused++;
      client.destroy();
      return;
    }
    if (mode === "blackhole") {
      stats.refused++;
      holes.add(client);
      client.on("close", () => holes.delete(client));
      client.on("data", (b: Buffer) => void (stats.bytesDropped += b.length)); // read and drop
      return;
    }
    stats.accepted++;
    stats.open++;
    const pair: Pair = { client, upstream: null };
    pairs.add(pair);
    const up = net.connect({ host: opts.target.host, port: opts.target.port });
    pair.upstream = up;
    up.setNoDelay(true);
    up.on("error", () => destroyPair(pair));
    up.on("close", () => destroyPair(pair));
    client.on("close", () => destroyPair(pair));
    // Manual forwarding (not pipe) so a blackhole can drop bytes without closing anything.
    client.on("data", (b: Buffer) => {
      if (mode !== null) return void (stats.bytesDropped += b.length);
      stats.bytesUp += b.length;
      if (!up.write(b)) {
        client.pause();
        up.once("drain", () => client.resume());
      }
    });
    up.on("data", (b: Buffer) => {
      if (mode !== null) return void (stats.bytesDropped += b.length);
      stats.bytesDown += b.length;
      if (!client.write(b)) {
        up.pause();
        client.once("drain", () => up.resume());
      }
    });
    client.on("end", () => up.end());
    up.on("end", () => client.end());
  });

  const addr = await new Promise<net.AddressInfo>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: opts.host ?? "127.0.0.1", port: opts.port ?? 0 }, () => {
      server.off("error", reject);
      resolve(server.address() as net.AddressInfo);
    });
  });
  const host = addr.address.includes(":") ? `[${addr.address}]` : addr.address;

  return {
    url: `mqtt://${host}:${addr.port}`,
    port: addr.port,
    host: addr.address,
    isUp: () => mode === null,
    cut(m = "reset") {
      if (mode === m) return;
      const wasUp = mode === null;
      mode = m;
      stats.cuts += wasUp ? 1 : 0;
      if (m === "reset") {
        for (const p of [...pairs]) destroyPair(p);
        for (const h of [...holes]) h.destroy();
      }
      opts.onTransition?.({ up: false, mode: m, at: now() });
    },
    restore() {
      if (mode === null) return;
      const was = mode;
      mode = null;
      // After a blackhole the MQTT byte streams have gaps: close them so both ends start clean.
      if (was === "blackhole") for (const p of [...pairs]) destroyPair(p);
      for (const h of [...holes]) h.destroy();
      opts.onTransition?.({ up: true, mode: null, at: now() });
    },
    dropConnections() {
      for (const p of [...pairs]) destroyPair(p);
    },
    stats: () => ({ ...stats }),
    async close() {
      for (const p of [...pairs]) destroyPair(p);
      for (const h of [...holes]) h.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
