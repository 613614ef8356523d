import type { Page } from "playwright-core";

/**
 * HTML → PDF with the system's headless Chromium through playwright-core (already a dependency for the
 * dashboard's browser tests). No network: the HTML is self-contained and
 * loaded with setContent. playwright-core is imported on first use, so the
 * server does not load it unless someone asks for a PDF.
 */
export interface RenderOptions {
  chromiumPath?: string;
  timeoutMs?: number;
}

const DEFAULT_CHROMIUM = "/usr/bin/chromium";

async function withPage<T>(html: string, o: RenderOptions, fn: (page: Page) => Promise<T>): Promise<T> {
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({
    executablePath: o.chromiumPath ?? process.env.HAZRI_CHROMIUM ?? DEFAULT_CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    timeout: o.timeoutMs ?? 60_000,
  });
  try {
    const page = await browser.newPage({ viewport: { width: 794, height: 1123 } }); // A4 at 96 dpi
    await page.setContent(html, { waitUntil: "load", timeout: o.timeoutMs ?? 60_000 });
    await page.emulateMedia({ media: "print" });
    return await fn(page);
  } finally {
    await browser.close();
  }
}

export function htmlToPdf(html: string, o: RenderOptions = {}): Promise<Buffer> {
  return withPage(html, o, (page) => page.pdf({ format: "A4", printBackground: true, preferCSSPageSize: true }));
}
