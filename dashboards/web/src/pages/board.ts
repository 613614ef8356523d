import { useEffect, useState } from "preact/hooks";
import type { ApiError } from "../api.ts";
import { useLiveStream, useLoad } from "../hooks.ts";
import { ALARM_DOOR_STATES, feedItems, fmtTime, seatZones, type CenterConfig, type CenterLive } from "../model.ts";
import { ErrorState, html, StateBox, StreamBadge, type Ctx } from "../ui.ts";

/**
 * A center's live board for the front desk: seat map by zone, people in vs
 * capacity, the check-in feed (names; denials with reasons), doors and alarms,
 * power and UPS, uplink. `tv`: full-screen layout without navigation.
 */
export function BoardPage(p: { ctx: Ctx; centerId: string; tv: boolean }) {
  const { ctx, centerId } = p;
  const enc = encodeURIComponent(centerId);
  const live = useLoad<CenterLive | null>(async () => {
    try {
      return await ctx.api.get<CenterLive>(`/api/centers/${enc}/live`);
    } catch (e) {
      if ((e as ApiError).kind === "not_found") return null; // nothing reported yet: a state, not an error
      throw e;
    }
  }, centerId);
  // null: no configuration (404); "error": it could not be read (the board still shows the live data).
  const config = useLoad<CenterConfig | null | "error">(async () => {
    try {
      return (await ctx.api.get<{ config: CenterConfig }>(`/api/centers/${enc}`)).config;
    } catch (e) {
      return (e as ApiError).kind === "not_found" ? null : "error";
    }
  }, centerId);
  const [names, setNames] = useState<Map<string, string>>(new Map());
  useEffect(() => {
    // Member names for the feed: up to 5 pages of the center's members (best effort; ids shown otherwise).
    let cancelled = false;
    (async () => {
      const m = new Map<string, string>();
      let after: string | null = null;
      for (let i = 0; i < 5; i++) {
        const q: string = `/api/members?center=${enc}&limit=1000${after ? `&after=${encodeURIComponent(after)}` : ""}`;
        const page = await ctx.api.get<{ members: { id: string; name: string | null }[]; next: string | null }>(q).catch(() => null);
        if (!page) break;
        for (const x of page.members) if (x.name) m.set(x.id, x.name);
        after = page.next;
        if (!after) break;
      }
      if (!cancelled) setNames(m);
    })();
    return () => {
      cancelled = true;
    };
  }, [centerId]);
  const stream = useLiveStream(ctx, { center: centerId, onChange: live.reload });

  useEffect(() => {
    document.body.classList.toggle("tv", p.tv);
    return () => document.body.classList.remove("tv");
  }, [p.tv]);

  if (live.loading && !live.data) return html`<${StateBox} kind="info" testid="state-loading">${ctx.t("loading")}<//>`;
  if (live.error && !live.data) return html`<${ErrorState} ctx=${ctx} error=${live.error} retry=${live.reload} center=${centerId} />`;
  const l = live.data;
  const cfg = config.data && config.data !== "error" ? config.data : null;
  const title = cfg?.name ?? centerId;
  // Never reported and not configured: most likely a mistyped address, not a center waiting for its edge.
  const unknown = l === null && !config.loading && config.data === null;

  const tvToggle = p.tv
    ? html`<a class="button" href=${`#/center/${enc}`} onClick=${() => document.fullscreenElement && document.exitFullscreen()}>${ctx.t("exitTv")}</a>`
    : html`<a class="button" href=${`#/center/${enc}/tv`} data-testid="tv-link"
        onClick=${() => document.documentElement.requestFullscreen?.().catch(() => {})}>${ctx.t("tvMode")}</a>`;

  return html`<section class="board" data-testid="board" data-center=${centerId}>
    <header class="page-head">
      <h1>${title} <small>${centerId}</small></h1>
      <div class="head-tools">
        <${StreamBadge} ctx=${ctx} status=${stream} />
        ${!p.tv ? html`<a class="button" href=${`#/sla/${enc}`}>${ctx.t("sla")}</a>` : null}
        ${tvToggle}
      </div>
    </header>
    ${stream === "reconnecting" ? html`<${StateBox} kind="warn" testid="state-reconnecting">${ctx.t("reconnecting")}<//>` : null}
    ${unknown
      ? html`<${StateBox} kind="warn" title=${ctx.t("unknownCenterTitle")} testid="state-unknown-center">${ctx.t("unknownCenter", { c: centerId })}<//>`
      : l === null
        ? html`<${StateBox} kind="info" testid="state-no-data">${ctx.t(cfg ? "noDataYetConfigured" : "noDataYet")}<//>`
        : null}
    <div class="kpis">
      <${Kpi} label=${ctx.t("peopleIn")} testid="kpi-people" value=${`${l?.peopleInCount ?? 0}${cfg ? ` / ${cfg.capacity}` : ""}`}
        warn=${cfg !== null && (l?.peopleInCount ?? 0) >= cfg.capacity && cfg.capacity > 0} />
      <${Kpi} label=${ctx.t("seats")} testid="kpi-seats" value=${`${l?.seatsOccupied ?? 0} / ${Math.max(Object.keys(l?.seats ?? {}).length, cfg?.seats.length ?? 0)}`} />
      <${PowerKpi} ctx=${ctx} live=${l} />
      <${Kpi} label=${ctx.t("uplink")} testid="kpi-uplink"
        value=${l?.edge ? (l.edge.online ? ctx.t("online") : ctx.t("offline")) : ctx.t("neverSeen")}
        sub=${l?.edge ? `${ctx.t("lastSeen")} ${fmtTime(l.edge.lastSeen)}` : ""} warn=${l?.edge?.online === false} />
    </div>
    <div class="board-grid">
      <div class="card">
        <h2>${ctx.t("seatMap")}</h2>
        <${SeatMap} ctx=${ctx} live=${l} config=${cfg} />
      </div>
      <div class="card">
        <h2>${ctx.t("feed")}</h2>
        <${Feed} ctx=${ctx} live=${l} names=${names} />
      </div>
      <div class="card">
        <h2>${ctx.t("doors")}</h2>
        <${Doors} ctx=${ctx} live=${l} />
      </div>
    </div>
  </section>`;
}

function Kpi(p: { label: string; value: string; sub?: string; warn?: boolean; testid: string; attrs?: Record<string, string> }) {
  return html`<div class=${`kpi${p.warn ? " kpi-warn" : ""}`} data-testid=${p.testid} ...${p.attrs ?? {}}>
    <span class="kpi-label">${p.label}</span><span class="kpi-value">${p.value}</span>${p.sub ? html`<span class="kpi-sub">${p.sub}</span>` : null}
  </div>`;
}

function PowerKpi(p: { ctx: Ctx; live: CenterLive | null }) {
  const pw = p.live?.power;
  const src = pw ? p.ctx.t(`src_${pw.source}`) : "—";
  const ups = pw?.ups;
  const sub = ups
    ? // A Megatec Q1 UPS reports no runtime (and its charge is an estimate): show only what the device said.
      [
        ups.chargePct === null ? null : `${p.ctx.t("battery")} ${ups.chargePct}%`,
        ups.runtimeS === null ? null : `${p.ctx.t("runtime")} ${Math.round(ups.runtimeS / 60)} ${p.ctx.t("minutes")}`,
      ]
        .filter(Boolean)
        .join(" · ") || `${p.ctx.t("ups")}: ${p.ctx.t("noReading")}`
    : pw
      ? pw.link === "stale"
        ? `${p.ctx.t("ups")}: ${p.ctx.t("unknown")}`
        : ""
      : p.ctx.t("noReading");
  const warn = pw !== null && pw !== undefined && pw.source !== "mains" && pw.source !== "generator";
  const attrs = { "data-source": pw?.source ?? "none", "data-charge": ups?.chargePct === null || ups?.chargePct === undefined ? "" : String(ups.chargePct) };
  return html`<${Kpi} label=${p.ctx.t("power")} value=${src} sub=${sub} warn=${warn} testid="kpi-power" attrs=${attrs} />`;
}

function SeatMap(p: { ctx: Ctx; live: CenterLive | null; config: CenterConfig | null }) {
  const zones = seatZones(p.live, p.config);
  if (zones.length === 0) return html`<p class="muted">${p.ctx.t("noReading")}</p>`;
  const label = (s: string) =>
    s === "occupied" ? p.ctx.t("occupied") : s === "vacant" ? p.ctx.t("vacant") : s === "unknown" ? p.ctx.t("sensorOffline") : p.ctx.t("noReading");
  return html`<div class="seatmap">
    ${zones.map(
      (z) => html`<div class="zone"><h3>${p.config?.zones.find((x) => x.id === z.zone)?.name ?? z.zone}</h3>
        <div class="seats">${z.seats.map(
          (s) => html`<div class=${`seat seat-${s.state}`} data-testid=${`seat-${s.id}`} data-state=${s.state} title=${label(s.state)}>
            <span class="seat-id">${s.id}</span><span class="seat-state">${label(s.state)}</span></div>`,
        )}</div></div>`,
    )}
    <div class="legend">
      ${["occupied", "vacant", "unknown", "none"].map((s) => html`<span class=${`seat-dot seat-${s}`}></span>${label(s)} `)}
    </div>
  </div>`;
}

function Feed(p: { ctx: Ctx; live: CenterLive | null; names: Map<string, string> }) {
  const items = feedItems(p.live?.lastEvents ?? [], p.names).slice(0, 20);
  if (items.length === 0) return html`<p class="muted" data-testid="feed-empty">${p.ctx.t("noEvents")}</p>`;
  return html`<ol class="feed" data-testid="feed">
    ${items.map(
      (i) => html`<li class=${`feed-item feed-${i.decision}`} data-testid="feed-item" data-card=${i.cardId} data-decision=${i.decision}>
        <time>${fmtTime(i.ts)}</time>
        <span class="who">${i.who}</span>
        <span class="dir">${p.ctx.t(i.direction === "out" ? "out" : "in")}</span>
        <span class="decision">${p.ctx.t(i.decision)}${i.decision === "denied" ? html`: <em data-testid="deny-reason">${p.ctx.t(`reason_${i.reason}`)}</em>` : null}</span>
      </li>`,
    )}
  </ol>`;
}

function Doors(p: { ctx: Ctx; live: CenterLive | null }) {
  const doors = Object.entries(p.live?.doors ?? {});
  if (doors.length === 0) return html`<p class="muted">${p.ctx.t("noReading")}</p>`;
  return html`<ul class="doors">
    ${doors.map(
      ([id, d]) => html`<li class=${ALARM_DOOR_STATES.has(d.state) ? "door door-alarm" : "door"} data-testid=${`door-${id}`} data-state=${d.state}>
        <strong>${id}</strong> ${p.ctx.t(`door_${d.state}`)} <time>${fmtTime(d.since)}</time>
        ${d.lock && d.lock.state !== d.state ? html` <span class="muted" data-testid=${`door-lock-${id}`}>· ${p.ctx.t(`door_${d.lock.state}`)}</span>` : null}</li>`,
    )}
  </ul>`;
}
