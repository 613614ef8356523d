/**
 * The LAN status page: one self-contained HTML document (inline CSS and JS, no external assets, so
 * it renders with the WAN down), polling /api/status every 2 s. All values are inserted with
 * textContent, never innerHTML: card ids and device ids come from the outside world.
 */
export function statusPageHtml(title: string): string {
  const t = title.replace(/[<>&"]/g, "");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${t}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}
header{background:#1d2330;color:#fff;padding:10px 16px;display:flex;gap:16px;align-items:baseline;flex-wrap:wrap}
header h1{font-size:18px;margin:0}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:12px;padding:12px}
section{background:#fff;border-radius:6px;padding:10px 12px;box-shadow:0 1px 2px #0002}
h2{font-size:15px;margin:0 0 6px}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:2px 6px;border-bottom:1px solid #eee;font-size:13px}
.ok,.granted,.up,.mains,.occupied,.locked,.closed{color:#08752e}.down,.denied,.battery,.low_battery,.forced_open,.held_open,.stale{color:#b3261e;font-weight:600}
.unknown,.degraded,.generator,.none{color:#8a6100}#err{color:#b3261e}.big{font-size:28px;font-weight:600}
</style></head><body>
<header><h1 id="title">${t}</h1><span id="center"></span><span>uplink <b id="uplink">?</b> <span id="rtt"></span></span><span>outbox <b id="depth">?</b></span><span id="updated"></span><span id="err"></span></header>
<main>
<section><h2>People in</h2><div class="big" id="inside">?</div><div id="cache"></div></section>
<section><h2>Doors</h2><table><thead><tr><th>door</th><th>relay</th><th>contact</th></tr></thead><tbody id="doors"></tbody></table></section>
<section><h2>Power</h2><table><thead><tr><th>device</th><th>source</th><th>link</th><th>charge</th><th>runtime</th></tr></thead><tbody id="power"></tbody></table></section>
<section><h2>Last door events</h2><table><thead><tr><th>time</th><th>door</th><th>event</th><th>who</th><th>why</th></tr></thead><tbody id="events"></tbody></table></section>
<section><h2>Seats</h2><div id="seatsum"></div><table><thead><tr><th>seat</th><th>zone</th><th>state</th></tr></thead><tbody id="seats"></tbody></table></section>
<section><h2>Devices</h2><table><thead><tr><th>device</th><th>health</th></tr></thead><tbody id="devices"></tbody></table></section>
</main>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
function cell(tr, text, cls) { const td = document.createElement("td"); td.textContent = text == null ? "" : String(text); if (cls) td.className = String(cls); tr.appendChild(td); }
function rows(id, list, fill) { const tb = $(id); tb.replaceChildren(); for (const x of list) { const tr = document.createElement("tr"); fill(tr, x); tb.appendChild(tr); } }
const time = (ms) => ms == null ? "" : new Date(ms).toLocaleTimeString();
function render(s) {
  $("center").textContent = s.center + (s.clockSynced ? "" : " (clock not synced)");
  $("uplink").textContent = s.uplink.state; $("uplink").className = s.uplink.state;
  $("rtt").textContent = s.uplink.rttMs == null ? "" : "rtt " + Math.round(s.uplink.rttMs) + " ms";
  $("depth").textContent = s.outbox.depth;
  $("inside").textContent = s.presence.inside;
  const mc = s.memberCache;
  $("cache").textContent = mc ? "member cache v" + mc.version + ", " + mc.members + " members" + (mc.ageMs == null ? "" : ", confirmed " + Math.round(mc.ageMs / 60000) + " min ago") : "member file (no signed cache)";
  rows("doors", Object.entries(s.doors), (tr, [id, d]) => { cell(tr, id); cell(tr, d.relay, d.relay); cell(tr, d.contact ?? "no contact", d.contact); });
  rows("power", Object.entries(s.power), (tr, [id, p]) => { cell(tr, id); cell(tr, p.source, p.source); cell(tr, p.link, p.link); cell(tr, p.ups && p.ups.chargePct != null ? p.ups.chargePct + " %" : ""); cell(tr, p.ups && p.ups.runtimeS != null ? Math.round(p.ups.runtimeS / 60) + " min" : ""); });
  rows("events", s.events, (tr, e) => {
    cell(tr, time(e.ts)); cell(tr, e.door);
    if (e.type === "badge") { cell(tr, e.decision + " " + e.direction, e.decision); cell(tr, e.memberId ?? ("card " + e.cardId)); cell(tr, e.reason + (e.flags ? " [" + e.flags.join(", ") + "]" : "")); }
    else { cell(tr, e.state, e.state); cell(tr, ""); cell(tr, ""); }
  });
  const seats = Object.entries(s.seats);
  $("seatsum").textContent = seats.filter(([, x]) => x.state === "occupied").length + " of " + seats.length + " occupied";
  rows("seats", seats, (tr, [id, x]) => { cell(tr, id); cell(tr, x.zone); cell(tr, x.state, x.state); });
  rows("devices", Object.entries(s.devices), (tr, [id, h]) => { cell(tr, id); cell(tr, h, h); });
  $("updated").textContent = "updated " + time(Date.now());
}
async function poll() {
  try { const r = await fetch("api/status", { cache: "no-store" }); if (!r.ok) throw new Error("HTTP " + r.status); render(await r.json()); $("err").textContent = ""; }
  catch (e) { $("err").textContent = "edge not answering: " + e.message; }
  setTimeout(poll, 2000);
}
poll();
</script></body></html>
`;
}
