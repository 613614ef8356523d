import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "../../../protocol/clock.ts";
import type { ErrorCode } from "../../../protocol/errors.ts";
import { statusPageHtml } from "./lan-page.ts";

/**
 * The edge's local status page and API on the center's LAN (issue 3 "At the center"): served by the
 * agent itself from memory, so it works with the WAN down and without the server.
 *
 *   GET /            self-contained HTML (no external assets) that polls /api/status
 *   GET /api/status  JSON snapshot (agent.ts localStatus)
 *   other paths      404 { error: { code: "API_NOT_FOUND", message } }
 *   other methods    405 { error: { code: "API_METHOD_NOT_ALLOWED", message } } with `Allow`
 *
 * node:http rather than fastify: two read-only routes on a Pi-class box do not need a framework's
 * memory. No auth: bind it to the LAN (or 127.0.0.1, the default when `lan.http` has no host) only;
 * it shows member ids of recent taps (center staff use it at the desk) and never changes anything.
 * Read-only, so a request body is never read; HEAD is answered like GET without a body.
 */
export interface LanHttp {
  readonly port: number;
  close(): Promise<void>;
}

const ROUTES: Record<string, "page" | "status"> = { "/": "page", "/index.html": "page", "/api/status": "status" };

export async function startLanHttp(o: { host: string; port: number; status: () => unknown; logger: Logger; title?: string }): Promise<LanHttp> {
  const log = o.logger.child({ ns: "edge:lan-http" });
  const page = Buffer.from(statusPageHtml(o.title ?? "Hazri edge"), "utf8");
  const send = (res: http.ServerResponse, head: boolean, code: number, type: string, body: Buffer, extra: Record<string, string> = {}) => {
    res.writeHead(code, { "content-type": type, "content-length": String(body.length), "cache-control": "no-store", "x-content-type-options": "nosniff", ...extra });
    res.end(head ? undefined : body);
  };
  const error = (res: http.ServerResponse, head: boolean, code: number, errCode: ErrorCode, message: string, extra: Record<string, string> = {}) =>
    send(res, head, code, "application/json; charset=utf-8", Buffer.from(JSON.stringify({ error: { code: errCode, message } })), extra);

  const server = http.createServer((req, res) => {
    const head = req.method === "HEAD";
    let pathname: string;
    try {
      pathname = new URL(req.url ?? "/", "http://edge.local").pathname;
    } catch {
      error(res, head, 404, "API_NOT_FOUND", "bad request target");
      return;
    }
    const route = ROUTES[pathname];
    if (!route) {
      error(res, head, 404, "API_NOT_FOUND", `no such resource: ${pathname.slice(0, 200)}`);
      return;
    }
    if (req.method !== "GET" && !head) {
      error(res, head, 405, "API_METHOD_NOT_ALLOWED", `${String(req.method).slice(0, 20)} is not allowed on ${pathname}: read-only`, { allow: "GET, HEAD" });
      req.resume(); // drain and ignore any body
      return;
    }
    if (route === "page") {
      send(res, head, 200, "text/html; charset=utf-8", page, { "content-security-policy": "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'" });
      return;
    }
    let body: Buffer;
    try {
      body = Buffer.from(JSON.stringify(o.status()));
    } catch (e) {
      log.error({ err: e }, "status snapshot failed");
      error(res, head, 500, "API_INTERNAL", "status snapshot failed");
      return;
    }
    send(res, head, 200, "application/json; charset=utf-8", body);
  });
  // A slow or stuck LAN client must not hold sockets for ever.
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  server.maxHeadersCount = 50;
  server.on("clientError", (_err, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ host: o.host, port }, "LAN status page listening");
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
