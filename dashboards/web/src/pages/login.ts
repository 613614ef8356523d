import { useState } from "preact/hooks";
import { ApiError, type Session } from "../api.ts";
import { html, StateBox, type Ctx } from "../ui.ts";

/** Login: username + password → session token (POST /api/auth/login). `notice`: why we are here (expired, logged out). */
export function LoginPage(p: { ctx: Ctx; notice: "expired" | "logged_out" | null; onLogin: (s: Session) => void }) {
  const { ctx } = p;
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const s = await ctx.api.post<Session>("/api/auth/login", { username, password });
      p.onLogin(s);
    } catch (err) {
      const a = err as ApiError;
      if (a.kind === "unauthorized" || a.kind === "bad_request") setError(ctx.t("wrongPassword"));
      else if (a.kind === "rate_limited") setError(ctx.t("rateLimited", { s: a.retryAfterS ?? 60 }));
      else if (a.kind === "no_route") setError(ctx.t("noAuth"));
      else if (a instanceof ApiError) setError(ctx.t("serverDown"));
      else setError(String(err));
    } finally {
      setBusy(false);
    }
  };

  return html`<main class="login">
    <form class="card login-card" onSubmit=${submit} data-testid="login-form">
      <h1>${ctx.t("appName")}</h1>
      ${p.notice === "expired" ? html`<${StateBox} kind="warn" testid="state-expired">${ctx.t("sessionExpired")}<//>` : null}
      ${p.notice === "logged_out" ? html`<${StateBox} kind="info" testid="state-logged-out">${ctx.t("loggedOut")}<//>` : null}
      <label>${ctx.t("username")}
        <input name="username" autocomplete="username" required value=${username} onInput=${(e: Event) => setUsername((e.target as HTMLInputElement).value)} />
      </label>
      <label>${ctx.t("password")}
        <input name="password" type="password" autocomplete="current-password" required value=${password}
          onInput=${(e: Event) => setPassword((e.target as HTMLInputElement).value)} />
      </label>
      ${error ? html`<p class="form-error" role="alert" data-testid="login-error">${error}</p>` : null}
      <button type="submit" disabled=${busy}>${ctx.t("login")}</button>
      <button type="button" class="link" onClick=${() => ctx.setLang(ctx.lang === "en" ? "ur" : "en")} data-testid="lang-toggle">${ctx.t("language")}</button>
    </form>
  </main>`;
}
