/** Shared view pieces: htm bound to preact, the app context, status boxes. */
import { html } from "htm/preact";
import type { Api, ApiError, Role, Session } from "./api.ts";
import type { Key, Lang } from "./i18n.ts";

export { html };

export interface Ctx {
  lang: Lang;
  t: (key: Key | string, vars?: Record<string, string | number>) => string;
  session: Session | null;
  api: Api;
  navigate: (hash: string) => void;
  setLang: (l: Lang) => void;
  logout: () => void;
}

export const homeFor = (s: Session): string =>
  s.role === "member" ? "#/me" : s.role === "center_staff" && s.centers.length === 1 ? `#/center/${s.centers[0]}` : "#/network";

export function StateBox(p: { kind: "info" | "warn" | "error"; title?: string; children?: unknown; testid?: string }) {
  return html`<div class=${`state state-${p.kind}`} role=${p.kind === "error" ? "alert" : "status"} data-testid=${p.testid ?? `state-${p.kind}`}>
    ${p.title ? html`<strong>${p.title}</strong>` : null}
    <div>${p.children}</div>
  </div>`;
}

/** The clear state for a failed API call: expired session, wrong role, missing data, server down. */
export function ErrorState(p: { ctx: Ctx; error: ApiError | Error; retry?: () => void; center?: string }) {
  const { ctx, error } = p;
  const kind = (error as ApiError).kind;
  if (kind === "forbidden")
    return html`<${StateBox} kind="warn" title=${ctx.t("forbiddenTitle")} testid="state-forbidden">
      ${p.center ? ctx.t("noAccessCenter", { c: p.center }) : error.message} <a href=${ctx.session ? homeFor(ctx.session) : "#/login"}>${ctx.t("goHome")}</a>
    <//>`;
  if (kind === "network" || kind === "server")
    return html`<${StateBox} kind="error" title=${ctx.t("errorTitle")} testid="state-server-down">
      ${ctx.t("serverDown")} ${p.retry ? html`<button onClick=${p.retry}>${ctx.t("retry")}</button>` : null}
    <//>`;
  return html`<${StateBox} kind="error" title=${ctx.t("errorTitle")} testid="state-error">
    ${error.message} ${p.retry ? html`<button onClick=${p.retry}>${ctx.t("retry")}</button>` : null}
  <//>`;
}

export function WrongRole(p: { ctx: Ctx; allowed: Role[] }) {
  const { ctx } = p;
  const role = ctx.session ? ctx.t(`role_${ctx.session.role}`) : "";
  const allowed = p.allowed.map((r) => ctx.t(`role_${r}`)).join(" / ");
  return html`<${StateBox} kind="warn" title=${ctx.t("forbiddenTitle")} testid="state-wrong-role">
    ${ctx.t("forbidden", { role, allowed })} ${" "}
    <a href=${ctx.session ? homeFor(ctx.session) : "#/login"}>${ctx.t("goHome")}</a>
  <//>`;
}

export function StreamBadge(p: { ctx: Ctx; status: string }) {
  const label = p.status === "live" ? p.ctx.t("live") : p.status === "reconnecting" ? p.ctx.t("reconnecting") : p.ctx.t("connecting");
  return html`<span class=${`stream stream-${p.status}`} data-testid="stream-status" data-status=${p.status}>${label}</span>`;
}

/** Save text as a file through a Blob URL (works offline, no server round trip). */
export function download(filename: string, data: string | Blob, type = "text/csv;charset=utf-8"): void {
  const url = URL.createObjectURL(typeof data === "string" ? new Blob([data], { type }) : data);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
