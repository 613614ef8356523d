/**
 * Live updates over the server's SSE stream (`GET /api/stream?token=`; WHATWG
 * HTML §9.2). EventSource retries by itself after a dropped connection, but
 * gives up for good on an HTTP error answer (readyState CLOSED), e.g. while a
 * restarting server answers 502 through a proxy, or 401 after the session
 * expired. So we own the retry loop: on CLOSED we ask `/api/auth/me` whether
 * the session is still valid (→ "expired") and otherwise reconnect with
 * backoff. After every (re)connect `onResync` runs so the page reloads the
 * state it may have missed while disconnected.
 */
export type StreamStatus = "connecting" | "live" | "reconnecting" | "expired";

export interface StreamHandlers {
  onEvent(data: { centerId: string; event: { type: string; [k: string]: unknown } }): void;
  onEdge?(data: { centerId: string; status: unknown }): void;
  onStatus(s: StreamStatus): void;
  /** After the first connect and after every reconnect. */
  onResync(): void;
  /** true: the session is still valid (retry); false: expired. */
  checkSession(): Promise<boolean>;
}

export function openStream(url: string, h: StreamHandlers, o: { maxBackoffMs?: number } = {}): () => void {
  let es: EventSource | null = null;
  let stopped = false;
  let attempt = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let wasLive = false;

  const connect = () => {
    if (stopped) return;
    h.onStatus(wasLive ? "reconnecting" : "connecting");
    es = new EventSource(url);
    es.addEventListener("hello", () => {
      attempt = 0;
      wasLive = true;
      h.onStatus("live");
      h.onResync();
    });
    es.addEventListener("event", (m) => h.onEvent(JSON.parse((m as MessageEvent<string>).data)));
    es.addEventListener("edge", (m) => h.onEdge?.(JSON.parse((m as MessageEvent<string>).data)));
    // The server ends a stream whose session expired or was revoked (server/src/routes/stream.ts): do not
    // let EventSource retry into a 401; ask the session now (→ "expired", or a reconnect if it is valid).
    es.addEventListener("end", () => {
      es?.close();
      es = null;
      h.checkSession().then(
        (valid) => (valid ? connect() : h.onStatus("expired")),
        () => connect(),
      );
    });
    es.onerror = () => {
      if (stopped || !es) return;
      if (es.readyState === EventSource.CONNECTING) {
        h.onStatus("reconnecting"); // the browser retries by itself
        return;
      }
      es.close();
      es = null;
      h.onStatus("reconnecting");
      const delay = Math.min(o.maxBackoffMs ?? 10_000, 500 * 2 ** Math.min(attempt++, 5));
      timer = setTimeout(() => {
        h.checkSession().then(
          (valid) => (valid ? connect() : h.onStatus("expired")),
          () => connect(), // server unreachable: keep trying
        );
      }, delay);
    };
  };
  connect();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    es?.close();
  };
}
