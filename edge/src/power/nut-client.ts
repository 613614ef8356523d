/**
 * Minimal NUT network-protocol client (device-protocols.md §5; NUT
 * docs/net-protocol.txt): TCP, one request per line, replies one line or a
 * `BEGIN LIST …` … `END LIST …` block, errors `ERR <CODE> [extra]`. Requests
 * are never pipelined: one in flight, the next waits (simpler matching, and a
 * monitoring client sends one every few seconds). TCP_NODELAY is set (project
 * note: Nagle costs ~20 ms per exchange).
 */
import net from "node:net";
import { HazriError, type ErrorCode } from "../../../protocol/errors.ts";

export interface NutClient {
  /** `LIST VAR <ups>` → all variables. */
  listVar(ups: string): Promise<Record<string, string>>;
  /** `GET VAR <ups> <var>` → value. */
  getVar(ups: string, name: string): Promise<string>;
  /** Raw request; resolves with the reply lines. */
  request(line: string, list?: boolean): Promise<string[]>;
  readonly closed: boolean;
  close(): void;
}

/** §5.3 error codes → HazriError codes. DATA-STALE / DRIVER-NOT-CONNECTED are "communication lost", never "on battery". */
export function nutErrorCode(nut: string): ErrorCode {
  switch (nut) {
    case "DATA-STALE":
      return "DEVICE_STALE";
    case "DRIVER-NOT-CONNECTED":
      return "DEVICE_NOT_CONNECTED";
    case "UNKNOWN-UPS":
      return "CONFIG_INVALID"; // §5.3: a configuration error
    default:
      return "DEVICE_PROTOCOL";
  }
}

/** Split one reply line into tokens: spaces separate, `"…"` quotes, `\"` and `\\` escape (§5.1). */
export function tokenizeNutLine(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (line[i] === " ") {
      i++;
      continue;
    }
    let tok = "";
    if (line[i] === '"') {
      i++;
      while (i < line.length && line[i] !== '"') {
        if (line[i] === "\\" && i + 1 < line.length) i++;
        tok += line[i];
        i++;
      }
      i++; // closing quote
    } else {
      while (i < line.length && line[i] !== " ") tok += line[i++];
    }
    out.push(tok);
  }
  return out;
}

const quote = (s: string) => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
const MAX_LINE = 64 * 1024;
const MAX_LIST_LINES = 10_000;

interface Pending {
  line: string;
  list: boolean;
  lines: string[];
  resolve(lines: string[]): void;
  reject(e: unknown): void;
  timer: NodeJS.Timeout | null;
}

export async function connectNut(o: { host: string; port: number; timeoutMs?: number }): Promise<NutClient> {
  const timeoutMs = o.timeoutMs ?? 5000;
  const sock = net.connect({ host: o.host, port: o.port });
  sock.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => {
      sock.destroy();
      reject(new HazriError("DEVICE_TIMEOUT", `NUT ${o.host}:${o.port}: connect timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    sock.once("connect", () => {
      clearTimeout(t);
      resolve();
    });
    sock.once("error", (e) => {
      clearTimeout(t);
      reject(new HazriError("DEVICE_OPEN_FAILED", `NUT ${o.host}:${o.port}: ${e.message}`, { host: o.host, port: o.port }, { cause: e }));
    });
  });
  let closed = false;
  let buf = "";
  const queue: Pending[] = [];
  let current: Pending | null = null;

  const failAll = (e: unknown) => {
    closed = true;
    const all = current ? [current, ...queue] : [...queue];
    current = null;
    queue.length = 0;
    for (const p of all) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(e);
    }
  };
  const finish = (p: Pending, err: unknown, lines?: string[]) => {
    if (p.timer) clearTimeout(p.timer);
    current = null;
    if (err) p.reject(err);
    else p.resolve(lines ?? []);
    next();
  };
  const onLine = (line: string) => {
    const p = current;
    if (!p) return; // unsolicited: upsd sends none in this protocol version; ignore
    if (line.startsWith("ERR ")) {
      const [, code = "UNKNOWN", ...extra] = line.split(" ");
      finish(p, new HazriError(nutErrorCode(code), `NUT ${p.line}: ERR ${code}${extra.length ? ` ${extra.join(" ")}` : ""}`, { nut: code, request: p.line }));
      return;
    }
    if (!p.list) return finish(p, null, [line]);
    if (p.lines.length === 0 && !line.startsWith("BEGIN LIST ")) {
      finish(p, new HazriError("DEVICE_PROTOCOL", `NUT ${p.line}: expected BEGIN LIST, got ${JSON.stringify(line.slice(0, 100))}`));
      return;
    }
    if (line.startsWith("END LIST ")) return finish(p, null, p.lines.slice(1));
    p.lines.push(line);
    if (p.lines.length > MAX_LIST_LINES) {
      sock.destroy();
      failAll(new HazriError("DEVICE_PROTOCOL", `NUT ${p.line}: list longer than ${MAX_LIST_LINES} lines`));
    }
  };
  sock.setEncoding("utf8");
  sock.on("data", (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl).replace(/\r$/, "");
      buf = buf.slice(nl + 1);
      onLine(line);
    }
    if (buf.length > MAX_LINE) {
      sock.destroy();
      failAll(new HazriError("DEVICE_PROTOCOL", `NUT reply line longer than ${MAX_LINE} bytes`));
    }
  });
  sock.on("error", () => undefined); // 'close' follows and fails what is pending
  sock.on("close", () => failAll(new HazriError("DEVICE_PORT_CLOSED", `NUT ${o.host}:${o.port}: connection closed`)));

  function next(): void {
    if (current || closed) return;
    const p = queue.shift();
    if (!p) return;
    current = p;
    p.timer = setTimeout(() => {
      // A reply may still come; the stream position is unknown now, so drop the connection.
      sock.destroy();
      failAll(new HazriError("DEVICE_TIMEOUT", `NUT ${p.line}: no reply within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.write(`${p.line}\n`);
  }

  const request = (line: string, list = false): Promise<string[]> =>
    new Promise((resolve, reject) => {
      if (closed) return reject(new HazriError("DEVICE_PORT_CLOSED", "NUT connection is closed"));
      if (/[\r\n]/.test(line)) return reject(new TypeError("NUT request must be one line"));
      queue.push({ line, list, lines: [], resolve, reject, timer: null });
      next();
    });

  return {
    request,
    get closed() {
      return closed;
    },
    async listVar(ups) {
      const lines = await request(`LIST VAR ${ups}`, true);
      const vars: Record<string, string> = {};
      for (const l of lines) {
        const [kw, u, name, value] = tokenizeNutLine(l);
        if (kw === "VAR" && u === ups && name !== undefined) vars[name] = value ?? "";
      }
      return vars;
    },
    async getVar(ups, name) {
      const [line = ""] = await request(`GET VAR ${ups} ${name}`);
      const [kw, u, n, value] = tokenizeNutLine(line);
      if (kw !== "VAR" || u !== ups || n !== name || value === undefined) {
        throw new HazriError("DEVICE_PROTOCOL", `NUT GET VAR ${ups} ${name}: unexpected reply ${JSON.stringify(line.slice(0, 100))}`);
      }
      return value;
    },
    close() {
      if (closed) return;
      closed = true;
      sock.end("LOGOUT\n");
      sock.destroySoon?.();
      failAll(new HazriError("DEVICE_PORT_CLOSED", "NUT client closed"));
    },
  };
}

export { quote as nutQuote };
