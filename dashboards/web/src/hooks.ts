import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "./api.ts";
import { openStream, type StreamStatus } from "./sse.ts";
import type { Ctx } from "./ui.ts";

export interface Loaded<T> {
  data: T | null;
  error: ApiError | null;
  loading: boolean;
  reload: () => void;
}

/** Load once per `key`; `reload()` refetches without clearing what is shown (no flicker on live refresh). */
export function useLoad<T>(fn: () => Promise<T>, key: string): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(true);
  const gen = useRef(0);
  const fnRef = useRef(fn);
  fnRef.current = fn;
  const reload = useCallback(() => {
    const my = ++gen.current;
    fnRef.current().then(
      (d) => {
        if (my !== gen.current) return;
        setData(d);
        setError(null);
        setLoading(false);
      },
      (e: unknown) => {
        if (my !== gen.current) return;
        setError(e instanceof ApiError ? e : new ApiError("server", 0, String(e)));
        setLoading(false);
      },
    );
  }, []);
  useEffect(() => {
    setData(null);
    setLoading(true);
    reload();
  }, [key]);
  return { data, error, loading, reload };
}

/**
 * Subscribe to the SSE stream while mounted; `onChange` is debounced so a
 * burst of events (a replayed outbox) causes one refetch, not hundreds.
 */
export function useLiveStream(ctx: Ctx, o: { center?: string; onChange: () => void; debounceMs?: number }): StreamStatus {
  const [status, setStatus] = useState<StreamStatus>("connecting");
  const cb = useRef(o.onChange);
  cb.current = o.onChange;
  const token = ctx.session?.token;
  useEffect(() => {
    if (!token) return;
    let t: ReturnType<typeof setTimeout> | null = null;
    const kick = () => {
      if (t) return;
      t = setTimeout(() => {
        t = null;
        cb.current();
      }, o.debounceMs ?? 200);
    };
    const q = new URLSearchParams({ token, ...(o.center ? { center: o.center } : {}) });
    const stop = openStream(`/api/stream?${q.toString()}`, {
      onEvent: kick,
      onEdge: kick,
      // "expired" needs no action here: checkSession's 401 already ended the session (api onUnauthorized → login with notice).
      onStatus: setStatus,
      onResync: () => cb.current(),
      checkSession: async () => {
        try {
          await ctx.api.get("/api/auth/me");
          return true;
        } catch (e) {
          if ((e as ApiError).kind === "unauthorized") return false;
          throw e;
        }
      },
    });
    return () => {
      stop();
      if (t) clearTimeout(t);
    };
  }, [token, o.center]);
  return status;
}
