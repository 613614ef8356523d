/**
 * The web UI in headless Chromium (playwright-core driving Debian's
 * /usr/bin/chromium) against a running demo network (cli/network.ts, inline:
 * InfluxDB 1.6.7, the server with its registry and API, two simulated centers
 * whose devices speak the real byte protocols to real edge agents). Each role
 * logs in; a badge tap and a seat change driven on the simulator appear on the
 * staff board through SSE; a report is downloaded; the bad-input states
 * (expired session, wrong role, unknown center, server restart) are shown.
 * Screenshots of every page go to test/artifacts/ui-*.png.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger, systemClock } from "../protocol/clock.ts";
import { demoSla, startNetwork, type Network } from "../cli/network.ts";
import type { ServerConfigInput } from "../server/src/config.ts";
import { openRegistry } from "../server/src/registry/db.ts";
import { createUsersRegistry, migrations as userMigrations } from "../server/src/registry/users.ts";
import { makeTempDir, removeDir } from "./harness/tmp.ts";
import { waitFor } from "./harness/wait.ts";

const ART = fileURLToPath(new URL("./artifacts/", import.meta.url));
const LHR = "lhr-01";
const ISB = "isb-01";
/** Configured in the test, never reported. */
const KHI = "khi-02";
const PW = "correct-horse-battery";
const NAMES = ["Ayesha Khan", "Bilal Ahmed", "Fatima Noor", "Hamza Tariq", "Zainab Ali", "Usman Raza", "Sana Iqbal", "Omar Farooq"];
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"];

let net: Network;
let dir: string;
let browser: Browser;
let member: { id: string; card: string; name: string };

async function api<T>(method: string, url: string, token: string | null, body?: unknown): Promise<T> {
  const r = await fetch(`${net.httpUrl}${url}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (!r.ok) throw new Error(`${method} ${url}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

async function newPage(o: { width?: number; height?: number; mobile?: boolean } = {}): Promise<{ ctx: BrowserContext; page: Page }> {
  const ctx = await browser.newContext({
    viewport: { width: o.width ?? 1366, height: o.height ?? 768 },
    acceptDownloads: true,
    ...(o.mobile ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
  });
  const page = await ctx.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  (page as Page & { jsErrors: string[] }).jsErrors = errors;
  return { ctx, page };
}
const jsErrors = (p: Page) => (p as Page & { jsErrors: string[] }).jsErrors;

async function login(page: Page, username: string): Promise<void> {
  await page.goto(`${net.httpUrl}/`);
  await page.waitForSelector('[data-testid="login-form"]', { timeout: 20_000 });
  await page.fill('input[name="username"]', username);
  await page.fill('input[name="password"]', PW);
  await page.click('button[type="submit"]');
  await page.waitForSelector('[data-testid="who"]', { timeout: 10_000 });
}
const shot = (page: Page, name: string, fullPage = true) => page.screenshot({ path: path.join(ART, `ui-${name}.png`), fullPage });

beforeAll(async () => {
  dir = await makeTempDir("hazri-ui-");
  const registry = path.join(dir, "registry.sqlite");
  net = await startNetwork({
    dir,
    mode: "inline",
    // Each center has a simulated Megatec UPS (battery model at 30× so a short cut shows a drop) and reed contacts on its doors.
    centers: [
      { id: LHR, seed: 7, seats: 6, members: 12, heartbeatS: 5, ups: { speed: 30, sampleMs: 2000 }, doorContacts: true },
      { id: ISB, seed: 11, seats: 4, members: 8, heartbeatS: 5, ups: { speed: 30, sampleMs: 2000 }, doorContacts: true },
    ],
    // The SLA report routes with the demo's settings (24/7 calendar, evidence gap from the 5 s heartbeat).
    sla: demoSla(5),
    // The authenticated API needs the registry; the sim edges carry no broker credentials, so the embedded broker stays open.
    amendServerConfig: (base) => ({ ...base, registry: { path: registry }, broker: { embedded: { ...(base.broker as { embedded: object }).embedded, auth: "none" } } }) as ServerConfigInput,
    logger: silentLogger,
  });
  // Users straight into the registry (as `hazri server user add` does); members with names through the API.
  const db = openRegistry(registry, userMigrations);
  const users = createUsersRegistry(db, { clock: systemClock });
  const m = net.center(LHR).layout.members.find((x) => x.status === "active" && !x.validUntil);
  if (!m?.cards[0]) throw new Error("no plain active member in the layout");
  member = { id: m.id, card: m.cards[0], name: NAMES[0] as string };
  await users.create({ username: "admin", password: PW, role: "pseb_admin" });
  await users.create({ username: "staff-lhr", password: PW, role: "center_staff", centers: [LHR] });
  await users.create({ username: "member1", password: PW, role: "member", memberId: member.id });
  db.close();
  const { token } = await api<{ token: string }>("POST", "/api/auth/login", null, { username: "admin", password: PW });
  for (const [i, x] of net.center(LHR).layout.members.entries()) {
    await api("POST", "/api/members", token, {
      id: x.id,
      name: x.id === member.id ? member.name : (NAMES[i % NAMES.length] as string),
      status: x.status,
      ...(x.validUntil ? { validUntil: x.validUntil } : {}),
      centers: [LHR],
      cards: x.cards,
    });
  }
  // A configured center: name, capacity, zones and every seat (silent sensors show as "no reading").
  const seats = net.center(LHR).layout.seats.map((x) => ({ id: x.id, zone: x.zone }));
  const zones = [...new Set(seats.map((x) => x.zone))].map((id) => ({ id, name: id === "quiet" ? "Quiet room" : "Hot desks", seats: seats.filter((x) => x.zone === id).length }));
  await api("PUT", `/api/centers/${LHR}`, token, { name: "Lahore — Arfa Tower", capacity: 40, zones, seats, hours: { day: { open: "09:00", close: "21:00" } } });
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  await net?.stop();
  if (dir) await removeDir(dir);
});

describe("web UI in Chromium against the demo network", () => {
  it("login page (English and Urdu), wrong password gives a clear message", async () => {
    const { ctx, page } = await newPage();
    await page.goto(`${net.httpUrl}/`);
    await page.waitForSelector('[data-testid="login-form"]');
    await shot(page, "login");
    await page.fill('input[name="username"]', "admin");
    await page.fill('input[name="password"]', "not-the-password");
    await page.click('button[type="submit"]');
    expect(await (await page.waitForSelector('[data-testid="login-error"]')).textContent()).toContain("Wrong username or password");
    await page.click('[data-testid="lang-toggle"]');
    await page.waitForFunction(() => document.documentElement.dir === "rtl");
    expect(await page.textContent("h1")).toBe("حاضری");
    await shot(page, "login-ur");
    expect(jsErrors(page)).toEqual([]);
    await ctx.close();
  });

  it("a reload right after a hash navigation runs the app every time (bundle by content hash, cached immutable)", async () => {
    const { ctx, page } = await newPage();
    await login(page, "admin");
    await page.waitForSelector('[data-testid="centers-table"]');
    const bundle: string[] = [];
    page.on("request", (r) => {
      if (r.url().includes("/ui/app.js")) bundle.push(r.url());
    });
    for (let i = 0; i < 6; i++) {
      await page.goto(`${net.httpUrl}/#/${i % 2 ? "network" : `center/${LHR}`}`);
      await page.reload();
      await page.waitForSelector(i % 2 ? '[data-testid="centers-table"]' : '[data-testid="board"]', { timeout: 15_000 });
    }
    expect(bundle.length).toBeGreaterThan(0);
    expect(bundle.every((u) => /\/ui\/app\.js\?v=[A-Za-z0-9_-]{22}$/.test(u))).toBe(true);
    expect(jsErrors(page)).toEqual([]);
    await ctx.close();
  });

  it("PSEB admin: network view lists both centers online, sorts and filters", async () => {
    const { ctx, page } = await newPage();
    await login(page, "admin");
    await page.waitForSelector('[data-testid="centers-table"]');
    expect(page.url()).toContain("#/network");
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="center-row"]').length === 2);
    await page.waitForSelector('[data-testid="stream-status"][data-status="live"]', { timeout: 10_000 });
    const order = () => page.$$eval('[data-testid="center-row"]', (rs) => rs.map((r) => r.getAttribute("data-center")));
    expect(await order()).toEqual([ISB, LHR]);
    await page.click('[data-testid="sort-center"]');
    expect(await order()).toEqual([LHR, ISB]);
    await page.fill('[data-testid="filter-text"]', "isb");
    expect(await order()).toEqual([ISB]);
    await page.fill('[data-testid="filter-text"]', "");
    // Seats from the configuration (lhr-01 has six configured seats, none reported yet).
    expect(await page.textContent(`[data-center="${LHR}"] td:nth-child(5)`)).toBe("0 / 6");
    // SLA month to date from GET /api/reports/sla: a figure, the target, and the data completeness that flags an
    // edge minutes old (the month before it started has no evidence).
    for (const c of [LHR, ISB]) {
      const cell = await page.waitForSelector(`[data-center="${c}"] [data-testid="sla-cell"]:not([data-sla=""])`, { timeout: 30_000 });
      expect(await cell.getAttribute("data-sla")).toMatch(/^\d{1,3}\.\d\d$/);
      expect(await cell.textContent()).toMatch(/\/ 99%.*data \d+\.\d%/s);
      expect((await cell.getAttribute("data-breaches"))?.split(" ")).toContain("completeness");
    }
    await shot(page, "network");
    expect(jsErrors(page)).toEqual([]);
    await ctx.close();
  });

  it("center staff: a badge tap shows in the feed with the member's name, a denial with its reason, a seat turns occupied", async () => {
    const { ctx, page } = await newPage();
    await login(page, "staff-lhr");
    expect(page.url()).toContain(`#/center/${LHR}`);
    await page.waitForSelector('[data-testid="stream-status"][data-status="live"]', { timeout: 10_000 });
    const sim = net.center(LHR).sim;

    const tap = await sim.tap("main-in", member.card);
    expect(tap.expected).toBe("granted");
    const item = await page.waitForSelector(`[data-testid="feed-item"][data-card="${member.card}"][data-decision="granted"]`, { timeout: 15_000 });
    expect(await item.textContent()).toContain(member.name);

    const denied = await sim.tap("main-in", "00DEADBEEF");
    expect(denied.expected).toBe("denied");
    const d = await page.waitForSelector('[data-testid="feed-item"][data-card="00DEADBEEF"][data-decision="denied"]', { timeout: 15_000 });
    expect(await d.textContent()).toContain("Unknown card");

    await sim.setSeat("s02", true);
    await page.waitForSelector('[data-testid="seat-s02"][data-state="occupied"]', { timeout: 15_000 });
    expect(await page.textContent('[data-testid="kpi-people"]')).toContain("1");
    expect(await page.textContent("h1")).toContain("Lahore — Arfa Tower");
    expect(await page.getAttribute('[data-testid="seat-s05"]', "data-state")).toMatch(/^(none|vacant|unknown|occupied)$/); // configured seat shown
    expect(await page.textContent('[data-testid="kpi-people"]')).toContain("/ 40");
    await shot(page, "board");

    await page.click('[data-testid="tv-link"]');
    await page.waitForFunction(() => document.body.classList.contains("tv"));
    expect(await page.$("nav")).toBeNull();
    await shot(page, "board-tv");

    await page.goto(`${net.httpUrl}/#/center/${LHR}`);
    await page.click('[data-testid="lang-toggle"]');
    await page.waitForFunction(() => document.documentElement.dir === "rtl");
    await page.waitForSelector('[data-testid="seat-s02"][data-state="occupied"]');
    expect(await page.textContent('[data-testid="seat-s02"]')).toContain("زیرِ استعمال");
    // The bundled Noto Naskh Arabic (served by the server's UI route) draws the Urdu text, ہ and ے included.
    await page.waitForFunction(
      () => {
        let loaded = false;
        document.fonts.forEach((f) => void (loaded ||= f.family.replace(/"/g, "") === "Noto Naskh Arabic" && f.status === "loaded"));
        return loaded;
      },
      null,
      { timeout: 15_000 },
    );
    expect(await page.evaluate(() => document.fonts.check('16px "Noto Naskh Arabic"', "ہے"))).toBe(true);
    expect(await page.textContent("body")).toMatch(/[ہے]/); // the page really has them to draw
    await shot(page, "board-ur");
    await page.click('[data-testid="lang-toggle"]');

    // Wrong-role and other-center URLs: clear states, not blank pages.
    await page.goto(`${net.httpUrl}/#/center/${ISB}`);
    await page.waitForSelector('[data-testid="state-forbidden"]', { timeout: 10_000 });
    await shot(page, "staff-other-center");
    await page.goto(`${net.httpUrl}/#/me`);
    await page.waitForSelector('[data-testid="state-wrong-role"]');
    expect(jsErrors(page)).toEqual([]);
    await ctx.close();
  });

  it("power and doors on the board: a forced door → alarm; mains cut → on battery with the UPS charge", async () => {
    // isb-01: no member has badged there, so no unlock window can make the opening below an authorised one.
    const { ctx, page } = await newPage();
    await login(page, "admin");
    await page.goto(`${net.httpUrl}/#/center/${ISB}`);
    await page.waitForSelector('[data-testid="stream-status"][data-status="live"]', { timeout: 10_000 });
    const sim = net.center(ISB).sim;
    // The edge polls the sim's Q1 UPS: on mains, with a charge estimated from the battery voltage.
    const mains = await page.waitForSelector('[data-testid="kpi-power"][data-source="mains"]', { timeout: 20_000 });
    expect(await mains.textContent()).toMatch(/Mains.*Battery \d+(\.\d+)?%/);
    // The contact reports the door shut (the edge's first contact line).
    await page.waitForSelector('[data-testid="door-main"][data-state="closed"]', { timeout: 20_000 });

    // On mains, the door opens with no grant (the sim's reed switch moves, no relay command): the edge's forced_open alarm.
    const contact = sim.devices.contacts.main?.contact;
    if (!contact) throw new Error("no door contact on isb-01 main");
    await contact.set(true, "forced");
    try {
      const door = await page.waitForSelector('[data-testid="door-main"][data-state="forced_open"]', { timeout: 20_000 });
      expect(await door.getAttribute("class")).toContain("door-alarm");
      expect(await door.textContent()).toContain("FORCED OPEN");

      // Load shedding on a battery already half used by an earlier cut: the sim's UPS answers Q1 with bit 7 (utility
      // fail) set and a lower pack voltage; the edge records a power transition with its charge estimate.
      await sim.setMains(false);
      await sim.power.setBattery({ chargePct: 50, lowBattery: false, onBattery: true });
      try {
        const kpi = await page.waitForSelector('[data-testid="kpi-power"][data-source="battery"]', { timeout: 20_000 });
        const text = (await kpi.textContent()) ?? "";
        expect(text).toContain("On battery");
        const first = Number(await kpi.getAttribute("data-charge"));
        expect(text).toContain(`Battery ${first}%`);
        expect(first).toBeGreaterThan(60); // Q1 has no charge %: 21.0–25.8 V linear over a flat-then-knee curve reads high
        expect(first).toBeLessThan(95);
        expect(await kpi.getAttribute("class")).toContain("kpi-warn");
        // The battery drains (model at 30×): the edge's 2 s samples bring a lower charge to the board.
        await page.waitForFunction(
          (c) => Number(document.querySelector('[data-testid="kpi-power"]')?.getAttribute("data-charge") ?? c) < c,
          first,
          { timeout: 30_000 },
        );
        await shot(page, "board-power-door");
      } finally {
        await sim.setMains(true);
        await sim.power.setBattery({ chargePct: 100, lowBattery: false, onBattery: false });
      }
    } finally {
      await contact.set(false, "forced");
    }
    await page.waitForSelector('[data-testid="door-main"][data-state="closed"]', { timeout: 20_000 });
    await page.waitForSelector('[data-testid="kpi-power"][data-source="mains"]', { timeout: 20_000 });
    expect(jsErrors(page)).toEqual([]);
    await ctx.close();
  });

  it("the board on a phone: one column, everything reachable", async () => {
    const { ctx, page } = await newPage({ width: 390, height: 844, mobile: true });
    await login(page, "staff-lhr");
    await page.waitForSelector('[data-testid="seat-s02"]');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(1); // no sideways scrolling of the page itself
    await shot(page, "board-phone");
    await ctx.close();
  });

  it("member: own check-ins and hours; staff pages say wrong role", async () => {
    const { ctx, page } = await newPage();
    await login(page, "member1");
    expect(page.url()).toContain("#/me");
    // The tap of the staff test is this member's check-in, read back from InfluxDB.
    await waitFor(
      async () => {
        await page.reload();
        await page.waitForSelector('[data-testid="member"]');
        return (await page.$('[data-testid="visit"]')) ? true : null;
      },
      { timeoutMs: 20_000, what: "the member's visit on the page" },
    );
    expect(await page.textContent('[data-testid="kpi-visits"]')).toContain("1");
    await shot(page, "member");
    await page.goto(`${net.httpUrl}/#/network`);
    await page.waitForSelector('[data-testid="state-wrong-role"]');
    await shot(page, "member-wrong-role");
    expect(jsErrors(page)).toEqual([]);
    await ctx.close();
  });

  it("SLA report page: figures from the SLA service, timeline, outages, CSV and PDF downloads", async () => {
    const { ctx, page } = await newPage();
    await login(page, "admin");
    await page.goto(`${net.httpUrl}/#/sla/${ISB}`);
    await page.waitForSelector('[data-testid="sla"]');
    // The server runs the report routes (registry + reports.slaConfig: the demo's 24/7 calendar): figures, not "not available".
    const figures = await page.waitForSelector('[data-testid="figures"]', { timeout: 20_000 });
    expect(await page.$('[data-testid="state-sla-unavailable"]')).toBeNull();
    const cells = await figures.$$eval("td", (tds) => tds.map((td) => td.textContent ?? ""));
    // Serviceable availability and power over the time with evidence since the edge started: all up (the cut ran on
    // battery, which counts as powered). Internet and completeness are real figures too (docs/sla.md defines them).
    expect(cells.slice(0, 2)).toEqual(["100.00%", "100.00%"]);
    expect(cells[2]).toMatch(/^\d+\.\d\d%$/);
    expect(cells[3]).toMatch(/^\d+\.\d\d%$/); // completeness: the month before the edge started is dark
    const [dl] = await Promise.all([page.waitForEvent("download", { timeout: 20_000 }), page.click('[data-testid="download-csv"]')]);
    expect(dl.suggestedFilename()).toMatch(new RegExp(`${ISB}.*\\.csv$`));
    const file = path.join(ART, "ui-sla-download.csv");
    await dl.saveAs(file);
    const csv = (await readFile(file, "utf8")).split(/\r?\n/);
    expect(csv[0]).toMatch(/cause/); // the SLA service's outage table, not the page's raw-event fallback
    expect(csv.some((l) => l.includes(ISB) && l.includes("edge_dark"))).toBe(true);
    const [pdf] = await Promise.all([page.waitForEvent("download", { timeout: 90_000 }), page.click('[data-testid="download-pdf"]')]);
    expect(pdf.suggestedFilename()).toMatch(/\.pdf$/);
    const pdfFile = path.join(ART, "ui-sla-download.pdf");
    await pdf.saveAs(pdfFile);
    const bytes = await readFile(pdfFile);
    expect(bytes.subarray(0, 5).toString()).toBe("%PDF-");
    expect(bytes.length).toBeGreaterThan(5_000);
    expect(await page.$('[data-testid="state-download-failed"]')).toBeNull();
    await page.waitForSelector('[data-testid="timeline-power"]');
    // The UPS charge chart: the power events' charge_pct (transitions + the edge's samples), drawn by uPlot on a canvas.
    const chart = await page.waitForSelector('[data-testid="chart-charge"] canvas', { timeout: 15_000 });
    expect(await chart.boundingBox()).toMatchObject({ width: expect.any(Number) });
    expect(Number(await page.getAttribute('[data-testid="chart-charge"]', "data-points"))).toBeGreaterThanOrEqual(3);
    expect(Number(await page.getAttribute('[data-testid="chart-charge"]', "data-min"))).toBeLessThan(95); // the cut's drain is in it
    // The power timeline shows the battery stretch of the cut above.
    expect(await page.$('[data-testid="timeline-power"] .tl-battery')).not.toBeNull();
    await page.click('[data-testid="zoom-hour"]');
    await shot(page, "sla");
    expect(jsErrors(page)).toEqual([]);
    await ctx.close();
  });

  it("a configured center with no data yet, and an unknown center, give clear states", async () => {
    const { token } = await api<{ token: string }>("POST", "/api/auth/login", null, { username: "admin", password: PW });
    // Registered (configured) but no edge has ever reported: no events at all.
    const seats = ["s01", "s02", "s03"].map((id) => ({ id, zone: "open" }));
    await api("PUT", `/api/centers/${KHI}`, token, {
      name: "Karachi — Shahrah-e-Faisal",
      capacity: 30,
      zones: [{ id: "open", name: "Open hall", seats: 3 }],
      seats,
      hours: { day: { open: "09:00", close: "21:00" } },
    });
    const { ctx, page } = await newPage();
    await login(page, "admin");
    await page.goto(`${net.httpUrl}/#/center/${KHI}`);
    const state = await page.waitForSelector('[data-testid="state-no-data"]', { timeout: 10_000 });
    expect(await state.textContent()).toContain("configured but its edge has not reported yet");
    expect(await page.textContent("h1")).toContain("Karachi — Shahrah-e-Faisal");
    for (const s of seats) expect(await page.getAttribute(`[data-testid="seat-${s.id}"]`, "data-state")).toBe("none"); // "no reading", not vacant
    expect(await page.textContent('[data-testid="kpi-people"]')).toContain("0 / 30");
    expect(await page.textContent('[data-testid="kpi-seats"]')).toContain("0 / 3");
    expect(await page.textContent('[data-testid="kpi-uplink"]')).toContain("Never seen");
    expect(await page.getAttribute('[data-testid="kpi-power"]', "data-source")).toBe("none");
    expect(await page.$('[data-testid="state-unknown-center"]')).toBeNull();
    await shot(page, "no-data");

    // Its SLA page: the month is all unknown time (no evidence), never silently up: "—" and 0 % completeness.
    await page.goto(`${net.httpUrl}/#/sla/${KHI}`);
    const figures = await page.waitForSelector('[data-testid="figures"]', { timeout: 20_000 });
    const cells = await figures.$$eval("td", (tds) => tds.map((td) => td.textContent ?? ""));
    expect(cells[0]).toBe("—");
    expect(cells[3]).toBe("0.00%");
    await page.waitForSelector('[data-testid="timeline-empty"]');
    await shot(page, "sla-no-data");

    // Not configured and never seen: a mistyped address, said so (not "waiting for data").
    await page.goto(`${net.httpUrl}/#/center/khi-99`);
    const unknown = await page.waitForSelector('[data-testid="state-unknown-center"]', { timeout: 10_000 });
    expect(await unknown.textContent()).toContain("There is no center “khi-99”");
    expect(await page.$('[data-testid="state-no-data"]')).toBeNull();
    await shot(page, "unknown-center");
    expect(jsErrors(page)).toEqual([]);
    await ctx.close();
  });

  it("a session that expires on the server while the board is open, and a revoked one, send the page to login with a notice", async () => {
    // A real short-lived session token from the users registry (as /api/auth/login issues, with a 15 s TTL).
    const db = openRegistry(path.join(dir, "registry.sqlite"), userMigrations);
    let session: { token: string; expiresAt: number; role: string; centers: string[] };
    try {
      const users = createUsersRegistry(db, { clock: systemClock });
      const who = await users.verifyPassword("staff-lhr", PW);
      if (!who) throw new Error("staff-lhr cannot log in");
      session = users.issueToken(who, "session", { ttlMs: 15_000 });
    } finally {
      db.close();
    }
    const { ctx, page } = await newPage();
    // The session as the login page stores it, in place before the app's first script runs.
    await page.addInitScript((s) => localStorage.setItem("hazri.session", JSON.stringify(s)), { ...session, username: "staff-lhr", memberId: null });
    await page.goto(`${net.httpUrl}/#/center/${LHR}`);
    await page.waitForSelector('[data-testid="board"]', { timeout: 10_000 });
    await page.waitForSelector('[data-testid="stream-status"][data-status="live"]', { timeout: 10_000 });

    // The server's clock passes the token's expiry (no page action, no hash change: the page does not know yet).
    await waitFor(
      async () => ((await fetch(`${net.httpUrl}/api/auth/me`, { headers: { authorization: `Bearer ${session.token}` } })).status === 401 ? true : null),
      { timeoutMs: 60_000, intervalMs: 500, what: "the session token expired on the server" },
    );
    // The next live change makes the board refetch: 401 → login with "session expired", the stored session dropped.
    // The demo's simulated center has live traffic of its own, so that change may already have come between the
    // expiry and the poll above (seen in CI: the page was on #/login already); then the seat change is not needed.
    const seat = net.center(LHR).sim;
    const onBoard = page.url().includes(`#/center/${LHR}`);
    console.log(`[ui] at server-side expiry the page was ${onBoard ? "still on the board: a seat change triggers the refetch" : "already on login (a live change came first)"}`);
    if (onBoard) await seat.setSeat("s04", true);
    try {
      const notice = await page.waitForSelector('[data-testid="state-expired"]', { timeout: 20_000 });
      expect(await notice.textContent()).toContain("Your session has expired");
      expect(page.url()).toContain("#/login");
      expect(await page.evaluate(() => localStorage.getItem("hazri.session"))).toBeNull();
      await shot(page, "expired");
    } finally {
      if (onBoard) await seat.setSeat("s04", false);
    }

    expect(jsErrors(page)).toEqual([]);
    await ctx.close();

    // A revoked session (logout elsewhere) gives the same clear state on the next call.
    const second = await newPage();
    await login(second.page, "admin");
    const token = await second.page.evaluate(() => (JSON.parse(localStorage.getItem("hazri.session") ?? "{}") as { token: string }).token);
    await api("POST", "/api/auth/logout", token, {});
    await second.page.goto(`${net.httpUrl}/#/center/${LHR}`); // the board's first fetch gets the 401
    await second.page.waitForSelector('[data-testid="state-expired"]', { timeout: 10_000 });
    expect(jsErrors(second.page)).toEqual([]);
    await second.ctx.close();
  });

  it("a server restart during a live view: the board says so, reconnects, and shows the next tap", async () => {
    const { ctx, page } = await newPage();
    await login(page, "staff-lhr");
    await page.waitForSelector('[data-testid="stream-status"][data-status="live"]', { timeout: 10_000 });
    await net.server.stop();
    await page.waitForSelector('[data-testid="state-reconnecting"]', { timeout: 15_000 });
    await shot(page, "reconnecting");
    await net.server.start();
    await page.waitForSelector('[data-testid="stream-status"][data-status="live"]', { timeout: 30_000 });
    expect(await page.$('[data-testid="state-reconnecting"]')).toBeNull();
    const card = net.center(LHR).layout.members.filter((x) => x.status === "active" && !x.validUntil)[1]?.cards[0] as string;
    await net.center(LHR).sim.tap("main-in", card);
    await page.waitForSelector(`[data-testid="feed-item"][data-card="${card}"]`, { timeout: 20_000 });
    expect(jsErrors(page)).toEqual([]);
    await ctx.close();
  });

  it("network view with hundreds of centers: renders, filters and sorts them; never-seen centers highlighted", async () => {
    const { token } = await api<{ token: string }>("POST", "/api/auth/login", null, { username: "admin", password: PW });
    const N = 300;
    for (let i = 1; i <= N; i++) {
      const id = `pk-${String(i).padStart(3, "0")}`;
      await api("PUT", `/api/centers/${id}`, token, { name: `Center ${i} ${i % 2 ? "Karachi" : "Peshawar"}`, capacity: 20, zones: [], seats: [], hours: { day: { open: "09:00", close: "18:00" } } });
    }
    const { ctx, page } = await newPage();
    await login(page, "admin");
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="center-row"]').length === n, N + 3 /* + lhr, isb, khi */, { timeout: 20_000 });
    // Configured, never reported: highlighted apart from outages (amber), "Never seen" in the uplink column.
    const never = await page.waitForSelector('[data-center="pk-001"]');
    expect((await never.getAttribute("data-alerts"))?.split(" ")).toContain("never_seen");
    expect(await never.getAttribute("class")).toContain("row-never");
    expect(await page.textContent('[data-center="pk-001"] [data-testid="uplink-cell"]')).toBe("Never seen");
    expect((await page.getAttribute(`[data-center="${LHR}"]`, "data-alerts"))?.split(" ")).not.toContain("never_seen");
    await page.fill('[data-testid="filter-text"]', "peshawar");
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="center-row"]').length === n, N / 2);
    await page.selectOption('[data-testid="filter-kind"]', "offline"); // never-seen centers count as not online
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="center-row"]').length === n, N / 2);
    await page.click('[data-testid="sort-center"]');
    await page.fill('[data-testid="filter-text"]', "");
    await page.selectOption('[data-testid="filter-kind"]', "all");
    await shot(page, "network-300", false); // the first screenful; the page itself is ~10,000 px tall
    expect(jsErrors(page)).toEqual([]);
    await ctx.close();
  });
});
