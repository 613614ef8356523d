/**
 * Hazri web UI entry: hash routes (no server-side routing needed, API 404s
 * stay API 404s), a session in localStorage, language toggle (en / ur, RTL).
 *   #/login · #/network · #/center/:id · #/center/:id/tv · #/sla/:id · #/me
 */
import { render } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { createApi, loadSession, saveSession, type Role, type Session } from "./api.ts";
import { dirOf, translate, type Lang } from "./i18n.ts";
import { BoardPage } from "./pages/board.ts";
import { LoginPage } from "./pages/login.ts";
import { MemberPage } from "./pages/member.ts";
import { NetworkPage } from "./pages/network.ts";
import { SlaPage } from "./pages/sla.ts";
import { homeFor, html, StateBox, WrongRole, type Ctx } from "./ui.ts";

export type Route =
  | { page: "login" }
  | { page: "network" }
  | { page: "board"; center: string; tv: boolean }
  | { page: "sla"; center: string | null }
  | { page: "me" }
  | { page: "home" }
  | { page: "unknown" };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  const [a, b, c] = parts;
  if (a === undefined) return { page: "home" };
  if (a === "login") return { page: "login" };
  if (a === "network") return { page: "network" };
  if (a === "center" && b) return { page: "board", center: b, tv: c === "tv" };
  if (a === "sla") return { page: "sla", center: b ?? null };
  if (a === "me") return { page: "me" };
  return { page: "unknown" };
}

type Notice = "expired" | "logged_out";
const NOTICE_KEY = "hazri.notice";
function loadNotice(): Notice | null {
  const v = sessionStorage.getItem(NOTICE_KEY);
  return v === "expired" || v === "logged_out" ? v : null;
}
function saveNotice(n: Notice | null): void {
  if (n) sessionStorage.setItem(NOTICE_KEY, n);
  else sessionStorage.removeItem(NOTICE_KEY);
}

const ROLES: Record<string, Role[]> = {
  network: ["pseb_admin", "center_staff"],
  board: ["pseb_admin", "center_staff"],
  sla: ["pseb_admin", "center_staff"],
  me: ["member"],
};

function App() {
  const [hash, setHash] = useState(location.hash);
  const [session, setSession] = useState<Session | null>(() => loadSession());
  // The notice lives in sessionStorage too: the 401 that ends a session often lands just before a reload
  // (or the user reloads the login page), and the page must still say why they were signed out.
  const [notice, setNoticeState] = useState<Notice | null>(() => loadNotice());
  const setNotice = (n: Notice | null) => {
    saveNotice(n);
    setNoticeState(n);
  };
  const [lang, setLangState] = useState<Lang>(() => (localStorage.getItem("hazri.lang") === "ur" ? "ur" : "en"));

  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  useEffect(() => {
    document.documentElement.lang = lang;
    document.documentElement.dir = dirOf(lang);
    localStorage.setItem("hazri.lang", lang);
  }, [lang]);

  const ctx: Ctx = useMemo(() => {
    const endSession = (why: Notice) => {
      saveSession(null);
      setSession(null);
      setNotice(why);
      location.hash = "#/login";
    };
    const api = createApi({ session: () => loadSession(), onUnauthorized: () => endSession("expired") });
    return {
      lang,
      t: (k, vars) => translate(lang, k, vars),
      session,
      api,
      navigate: (h) => void (location.hash = h),
      setLang: setLangState,
      logout: () => {
        void api.post("/api/auth/logout", {}).catch(() => {});
        endSession("logged_out");
      },
    };
  }, [lang, session]);

  const route = parseRoute(hash);
  // An expired session is detected on the next API call (401) or locally from expiresAt.
  useEffect(() => {
    if (session && session.expiresAt <= Date.now()) {
      saveSession(null);
      setSession(null);
      setNotice("expired");
    }
  }, [hash]);

  if (!session || route.page === "login") {
    if (session && route.page === "login") {
      location.hash = homeFor(session);
      return null;
    }
    if (!session && route.page !== "login") location.hash = "#/login";
    return html`<${LoginPage} ctx=${ctx} notice=${notice} onLogin=${(s: Session) => {
      saveSession(s);
      setSession(s);
      setNotice(null);
      location.hash = homeFor(s);
    }} />`;
  }
  if (route.page === "home") {
    location.hash = homeFor(session);
    return null;
  }
  const tv = route.page === "board" && route.tv;
  const allowed = ROLES[route.page];
  let body;
  if (allowed && !allowed.includes(session.role)) body = html`<${WrongRole} ctx=${ctx} allowed=${allowed} />`;
  else if (route.page === "network") body = html`<${NetworkPage} ctx=${ctx} />`;
  else if (route.page === "board") body = html`<${BoardPage} key=${route.center} ctx=${ctx} centerId=${route.center} tv=${route.tv} />`;
  else if (route.page === "sla") {
    const center = route.center ?? session.centers[0] ?? null;
    body = center
      ? html`<${SlaPage} key=${center} ctx=${ctx} centerId=${center} />`
      : html`<${StateBox} kind="info">${ctx.t("notFound")}<//>`;
  } else if (route.page === "me") body = html`<${MemberPage} ctx=${ctx} />`;
  else body = html`<${StateBox} kind="warn" testid="state-not-found">${ctx.t("notFound")} <a href=${homeFor(session)}>${ctx.t("goHome")}</a><//>`;

  return html`<div class="app">
    ${tv ? null : html`<${Nav} ctx=${ctx} session=${session} />`}
    <main class="content">${body}</main>
  </div>`;
}

function Nav(p: { ctx: Ctx; session: Session }) {
  const { ctx, session } = p;
  const staff = session.role !== "member";
  return html`<nav class="nav no-print">
    <a class="brand" href=${homeFor(session)}>${ctx.t("appName")}</a>
    ${staff ? html`<a href="#/network" data-testid="nav-network">${ctx.t("network")}</a>` : null}
    ${staff && session.centers.length > 0
      ? session.centers.slice(0, 5).map((c) => html`<a href=${`#/center/${encodeURIComponent(c)}`}>${c}</a>`)
      : null}
    ${session.role === "member" ? html`<a href="#/me">${ctx.t("me")}</a>` : null}
    <span class="spacer"></span>
    <span class="who" data-testid="who">${session.username} · ${ctx.t(`role_${session.role}`)}</span>
    <button class="link" onClick=${() => ctx.setLang(ctx.lang === "en" ? "ur" : "en")} data-testid="lang-toggle">${ctx.t("language")}</button>
    <button class="link" onClick=${ctx.logout} data-testid="logout">${ctx.t("logout")}</button>
  </nav>`;
}

const root = typeof document === "undefined" ? null : document.getElementById("app");
if (root) render(html`<${App} />`, root);
