/**
 * Builds the web UI from source with esbuild (no network, ~100 ms): one ES
 * module bundle (preact, htm, uPlot inlined), one CSS file (uPlot's + ours),
 * and index.html. In memory for the server (routes/ui.ts builds on first
 * request, so the UI can never be stale against its source); `node --import
 * tsx dashboards/build.ts <dir>` writes the files for inspection.
 */
import { readFile, mkdir, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { build } from "esbuild";

export interface UiBundle {
  js: string;
  css: string;
  html: string;
  /** Font files served under /ui/fonts/<name> (routes/ui.ts). */
  fonts: Record<string, Uint8Array>;
  builtAt: number;
}

const WEB = fileURLToPath(new URL("./web/", import.meta.url));
const UPLOT_CSS = fileURLToPath(new URL("../node_modules/uplot/dist/uPlot.min.css", import.meta.url));
/**
 * Urdu glyphs: Noto Naskh Arabic (OFL, @fontsource), its Arabic subset only. A
 * stock Linux/Chromium has no font with ہ (U+06C1) or ے (U+06D2) and draws boxes;
 * with the unicode-range the browser fetches the file only when a page shows
 * Arabic-script text, and Latin text keeps the system font.
 */
const NASKH = fileURLToPath(new URL("../node_modules/@fontsource/noto-naskh-arabic/", import.meta.url));
const NASKH_WEIGHTS = [400, 700] as const;

async function urduFonts(): Promise<{ css: string; fonts: Record<string, Uint8Array> }> {
  const range = (JSON.parse(await readFile(path.join(NASKH, "unicode.json"), "utf8")) as Record<string, string>).arabic;
  if (!range) throw new Error("@fontsource/noto-naskh-arabic: no arabic subset in unicode.json");
  const fonts: Record<string, Uint8Array> = {};
  const faces: string[] = [];
  for (const w of NASKH_WEIGHTS) {
    const name = `noto-naskh-arabic-arabic-${w}-normal.woff2`;
    fonts[name] = await readFile(path.join(NASKH, "files", name));
    faces.push(
      `@font-face { font-family: "Noto Naskh Arabic"; font-style: normal; font-weight: ${w}; font-display: swap; ` +
        `src: local("Noto Naskh Arabic"), url(/ui/fonts/${name}) format("woff2"); unicode-range: ${range}; }`,
    );
  }
  return { css: faces.join("\n"), fonts };
}

export async function buildUi(o: { minify?: boolean } = {}): Promise<UiBundle> {
  const r = await build({
    entryPoints: [path.join(WEB, "src/main.ts")],
    bundle: true,
    format: "esm",
    target: ["es2020"],
    platform: "browser",
    write: false,
    minify: o.minify ?? true,
    sourcemap: false,
    legalComments: "none",
    logLevel: "silent",
  });
  const js = r.outputFiles[0]?.text ?? "";
  const urdu = await urduFonts();
  const css = `${urdu.css}\n${await readFile(UPLOT_CSS, "utf8")}\n${await readFile(path.join(WEB, "style.css"), "utf8")}`;
  const html = await readFile(path.join(WEB, "index.html"), "utf8");
  return { js, css, html, fonts: urdu.fonts, builtAt: Date.now() };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = process.argv[2] ?? path.join(WEB, "dist");
  const b = await buildUi();
  await mkdir(out, { recursive: true });
  await Promise.all([
    writeFile(path.join(out, "app.js"), b.js),
    writeFile(path.join(out, "app.css"), b.css),
    writeFile(path.join(out, "index.html"), b.html),
    mkdir(path.join(out, "fonts"), { recursive: true }).then(() =>
      Promise.all(Object.entries(b.fonts).map(([name, data]) => writeFile(path.join(out, "fonts", name), data))),
    ),
  ]);
  process.stdout.write(`hazri ui: ${out} (app.js ${b.js.length} B, app.css ${b.css.length} B)\n`);
}
