/**
 * The browser's view of the Hazri API (server/src/routes/*): a session kept in
 * localStorage, fetch with the bearer token, and every failure mapped to a
 * kind the pages can show as a clear state (never a stack trace).
 */
export type Role = "pseb_admin" | "center_staff" | "member";
export interface Session {
  token: string;
  expiresAt: number;
  username: string;
  role: Role;
  centers: string[];
  memberId: string | null;
}

export type ApiErrorKind = "unauthorized" | "forbidden" | "not_found" | "no_route" | "rate_limited" | "bad_request" | "server" | "network";

export class ApiError extends Error {
  constructor(
    readonly kind: ApiErrorKind,
    readonly status: number,
    message: string,
    readonly retryAfterS?: number,
  ) {
    super(message);
  }
}

const KEY = "hazri.session";

export function loadSession(storage: Pick<Storage, "getItem"> = localStorage): Session | null {
  try {
    const s = JSON.parse(storage.getItem(KEY) ?? "null") as Session | null;
    return s && typeof s.token === "string" && typeof s.role === "string" ? s : null;
  } catch {
    return null;
  }
}
export function saveSession(s: Session | null): void {
  if (s) localStorage.setItem(KEY, JSON.stringify(s));
  else localStorage.removeItem(KEY);
}

/** Map an HTTP answer to an error kind. A 404 from the not-found handler ("no route") means the feature is not deployed. */
export function errorKind(status: number, code: string | undefined, message: string): ApiErrorKind {
  if (status === 401) return "unauthorized";
  if (status === 403) return "forbidden";
  if (status === 429) return "rate_limited";
  if (status === 404) return /^no route /.test(message) ? "no_route" : "not_found";
  if (status >= 400 && status < 500) return "bad_request";
  if (code === undefined && status >= 500) return "server";
  return "server";
}

export interface Api {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body: unknown): Promise<T>;
  text(path: string): Promise<string>;
  /** A file download with the bearer token (a plain link cannot carry it): body and the server's filename. */
  blob(path: string): Promise<{ blob: Blob; filename: string | null }>;
}

/** `onUnauthorized` runs on any 401 with a session: the session expired or was revoked. */
export function createApi(o: { session: () => Session | null; onUnauthorized: () => void; fetchFn?: typeof fetch }): Api {
  const f = o.fetchFn ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  async function call(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = {};
    const s = o.session();
    if (s) headers.authorization = `Bearer ${s.token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let r: Response;
    try {
      r = await f(path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    } catch (e) {
      throw new ApiError("network", 0, (e as Error).message);
    }
    if (r.ok) return r;
    let code: string | undefined;
    let message = r.statusText;
    try {
      const j = (await r.json()) as { error?: { code?: string; message?: string } };
      code = j.error?.code;
      message = j.error?.message ?? message;
    } catch {
      /* not JSON (a proxy's error page): keep the status text */
    }
    const kind = errorKind(r.status, code, message);
    if (kind === "unauthorized" && s) o.onUnauthorized();
    const retry = Number(r.headers.get("retry-after"));
    throw new ApiError(kind, r.status, message, Number.isFinite(retry) && retry > 0 ? retry : undefined);
  }
  return {
    async get<T>(path: string) {
      return (await (await call("GET", path)).json()) as T;
    },
    async post<T>(path: string, body: unknown) {
      return (await (await call("POST", path, body)).json()) as T;
    },
    async text(path: string) {
      return (await call("GET", path)).text();
    },
    async blob(path: string) {
      const r = await call("GET", path);
      const m = /filename="?([^";]+)"?/.exec(r.headers.get("content-disposition") ?? "");
      return { blob: await r.blob(), filename: m?.[1] ?? null };
    },
  };
}
