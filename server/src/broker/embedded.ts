import { randomBytes, timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import net from "node:net";
import tls from "node:tls";
import { Aedes } from "aedes";
import type { AuthenticateError, Client } from "aedes";
import { HazriError } from "../../../protocol/errors.ts";
import type { Logger } from "../../../protocol/clock.ts";
import { MAX_PACKET_BYTES, MAX_TOPIC_LEVELS, centerClientIdOk, createPacketSizeGuard, publishDenied, subscribeDenied } from "./acl.ts";
import type { BrokerIdentity } from "./acl.ts";

/**
 * Embedded aedes 1.x broker for a single-box install, tests and the demo.
 *
 * auth "centers": username = center id, password verified against the
 * registry (scrypt); the client id must be `edge-<center>` so one center
 * cannot take over another's persistent session. The Hazri server connects
 * with `serverCredentials` (configured, or generated per start: the embedded
 * broker lives and dies with the server process, so nobody else needs them).
 * auth "none": explicitly insecure dev mode, anyone may connect.
 */

/** Backwards-compatible name for the spine's pure check (anonymous identity). */
export function publishDeniedReason(clientId: string | null, topic: string): string | null {
  return publishDenied({ role: "anonymous", clientId: clientId ?? "" }, topic, 0);
}

export interface BrokerAuthOptions {
  mode: "centers" | "none";
  /** Registry check; required for mode "centers". */
  verifyCenter?: (id: string, password: Buffer) => Promise<boolean>;
  /** The server client's credential; generated when absent. */
  serverUsername?: string;
  serverPassword?: string;
}

export interface EmbeddedBrokerOptions {
  host: string;
  port: number;
  logger: Logger;
  auth?: BrokerAuthOptions;
  /** Additional TLS listener (MQTT over TLS, conventionally port 8883). */
  tls?: { host?: string; port: number; certFile: string; keyFile: string };
}

export interface EmbeddedBroker {
  url: string;
  port: number;
  /** `mqtts://host:port` when a TLS listener is configured. */
  tlsUrl: string | null;
  tlsPort: number | null;
  /** What the server's own MQTT client must present. */
  serverCredentials: { username: string; password: string } | null;
  /** Clients currently connected (benchmarks, tests). */
  connectedClients(): number;
  close(): Promise<void>;
}

const authError = (code: 4 | 5, msg: string): AuthenticateError =>
  Object.assign(new Error(msg), { returnCode: code }) as unknown as AuthenticateError;

function safeEqual(a: Buffer, b: string): boolean {
  const bb = Buffer.from(b, "utf8");
  return a.length === bb.length && timingSafeEqual(a, bb);
}

export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const log = opts.logger.child({ component: "broker" });
  const mode = opts.auth?.mode ?? "none";
  if (mode === "centers" && !opts.auth?.verifyCenter) throw new Error('broker auth "centers" needs verifyCenter');
  const serverCreds =
    mode === "centers"
      ? {
          username: opts.auth?.serverUsername ?? "hazri-server",
          password: opts.auth?.serverPassword ?? randomBytes(24).toString("base64url"),
        }
      : null;
  if (mode === "none") log.warn({}, 'embedded broker runs WITHOUT authentication (auth: "none", insecure dev mode)');

  const who = new WeakMap<Client, BrokerIdentity>();
  const identity = (c: Client | null): BrokerIdentity =>
    c === null ? { role: "server" } : (who.get(c) ?? { role: "anonymous", clientId: String(c.id) });

  const broker = await Aedes.createBroker({
    // The edge's client id is `edge-` + a 64-char id: above MQTT 3.1.1's 23 (§3.1.3.1 lets a server allow more).
    maxClientsIdLength: 128,
    maxTopicLevels: MAX_TOPIC_LEVELS,
    authenticate(client, username, password, done) {
      if (mode === "none") {
        who.set(client, { role: "anonymous", clientId: String(client.id) });
        return done(null, true);
      }
      const creds = serverCreds as { username: string; password: string };
      if (username === creds.username) {
        if (password && safeEqual(password, creds.password)) {
          who.set(client, { role: "server" });
          return done(null, true);
        }
        log.warn({ clientId: client.id }, "server credential refused");
        return done(authError(4, "bad username or password"), false);
      }
      if (typeof username !== "string" || !password || !centerClientIdOk(username, String(client.id))) {
        log.warn({ clientId: client.id, username }, "connect refused: missing credentials or client id is not edge-<username>");
        return done(authError(username && password ? 5 : 4, "not authorized"), false);
      }
      (opts.auth?.verifyCenter as NonNullable<BrokerAuthOptions["verifyCenter"]>)(username, password).then(
        (ok) => {
          if (!ok) {
            log.warn({ clientId: client.id, username }, "connect refused: bad center credentials");
            return done(authError(4, "bad username or password"), false);
          }
          who.set(client, { role: "center", centerId: username });
          done(null, true);
        },
        (e: unknown) => {
          log.error({ err: e, username }, "credential check failed");
          done(authError(5, "not authorized"), false);
        },
      );
    },
    authorizePublish(client, packet, cb) {
      const reason = publishDenied(identity(client), packet.topic, packet.payload?.length ?? 0);
      if (reason === null) return cb(null);
      log.warn({ clientId: client?.id, topic: packet.topic.slice(0, 300), reason }, "publish refused");
      // MQTT 3.1.1 has no negative PUBACK: aedes closes the connection (§3.3.5 allows it).
      cb(new HazriError("MQTT_NOT_AUTHORIZED", reason));
    },
    authorizeSubscribe(client, sub, cb) {
      const reason = subscribeDenied(identity(client), sub.topic);
      if (reason === null) return cb(null, sub);
      log.warn({ clientId: client.id, filter: sub.topic.slice(0, 300), reason }, "subscribe refused");
      // null subscription → SUBACK return code 0x80 (MQTT 3.1.1 §3.9.3); the connection stays up.
      cb(null, null);
    },
  });
  broker.on("clientError", (client, err) => log.debug({ clientId: client?.id, err: err.message }, "client error"));
  broker.on("connectionError", (client, err) => log.debug({ clientId: client?.id, err: err.message }, "connection error"));

  const sockets = new Set<net.Socket>();
  const onSocket = (socket: net.Socket) => {
    // aedes leaves Nagle on: acks and small batches would wait ~40 ms for a delayed ACK.
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {}); // reported through aedes; never an unhandled 'error'
    /*
     * aedes/mqtt-packet buffer a whole packet before parsing it, up to the
     * 256 MB the remaining-length field allows (§2.2.3). aedes pulls with
     * `conn.read()` on 'readable' (lib/client.js), so we check each chunk it
     * pulls: an oversize packet is refused from its fixed header.
     */
    const guard = createPacketSizeGuard(MAX_PACKET_BYTES);
    const read = socket.read.bind(socket);
    socket.read = ((n?: number) => {
      const buf = read(n) as Buffer | null;
      if (buf && guard(buf) !== "ok") {
        log.warn({ remote: socket.remoteAddress }, "packet larger than the limit or malformed length: disconnecting");
        socket.destroy();
        return null;
      }
      return buf;
    }) as typeof socket.read;
    broker.handle(socket);
  };
  const listen = (server: net.Server, host: string, port: number) =>
    new Promise<net.AddressInfo>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host, port }, () => {
        server.off("error", reject);
        resolve(server.address() as net.AddressInfo);
      });
    });
  const urlHost = (h: string) => (h === "0.0.0.0" ? "127.0.0.1" : h.includes(":") ? `[${h}]` : h);

  const servers: net.Server[] = [];
  const closeBroker = () => new Promise<void>((r) => broker.close(() => r()));
  try {
    const server = net.createServer(onSocket);
    servers.push(server);
    const addr = await listen(server, opts.host, opts.port);
    let tlsPort: number | null = null;
    let tlsUrl: string | null = null;
    if (opts.tls) {
      const [cert, key] = await Promise.all([readFile(opts.tls.certFile), readFile(opts.tls.keyFile)]);
      const tserver = tls.createServer({ cert, key, minVersion: "TLSv1.2" }, (s) => onSocket(s));
      tserver.on("tlsClientError", (e) => log.debug({ err: e.message }, "TLS handshake failed"));
      servers.push(tserver);
      const host = opts.tls.host ?? opts.host;
      const taddr = await listen(tserver, host, opts.tls.port);
      tlsPort = taddr.port;
      tlsUrl = `mqtts://${urlHost(host)}:${taddr.port}`;
    }
    const url = `mqtt://${urlHost(opts.host)}:${addr.port}`;
    log.info({ url, tlsUrl, auth: mode }, "embedded broker listening");
    let closed = false;
    return {
      url,
      port: addr.port,
      tlsUrl,
      tlsPort,
      serverCredentials: serverCreds,
      connectedClients: () => broker.connectedClients,
      async close() {
        if (closed) return;
        closed = true;
        const serversClosed = Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
        await closeBroker();
        for (const s of sockets) s.destroy();
        await serversClosed;
      },
    };
  } catch (e) {
    for (const s of servers) s.close();
    await closeBroker();
    throw e;
  }
}
