import net from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { main } from "./report.ts";

/** Exit codes of `hazri report` without an InfluxDB: usage errors 2, an unreachable InfluxDB 1. */
const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });

describe("hazri report", () => {
  afterEach(() => vi.restoreAllMocks());
  it("usage errors exit 2 and say what is wrong", async () => {
    const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    const out: string[] = [];
    expect(await main(["--help"], { stdout: (s) => void out.push(String(s)) })).toBe(0);
    expect(out.join("")).toContain("usage: hazri report");
    expect(await main([])).toBe(2);
    expect(await main(["--month", "2026-3", "--influx-url", "http://x"])).toBe(2);
    expect(await main(["--month", "2026-03", "--format", "xml", "--influx-url", "http://x"])).toBe(2);
    expect(await main(["--month", "2026-03", "--format", "pdf", "--influx-url", "http://x"])).toBe(2);
    expect(await main(["--month", "2026-03"])).toBe(2); // no InfluxDB given
    expect(await main(["--month", "2026-03", "--influx-url", "http://x", "--sla-config", "/nonexistent.yaml"])).toBe(2);
    expect(await main(["--month", "2026-03", "--bogus"])).toBe(2);
    expect(await main(["--month", "2026-03", "--influx-url", "http://x", "--registry", "/nonexistent/registry.sqlite"])).toBe(2);
    const said = err.mock.calls.map((c) => String(c[0])).join("");
    expect(said).toContain("--month YYYY-MM is required");
    expect(said).toContain("--format pdf needs --out");
    expect(said).toContain("/nonexistent.yaml");
    expect(said).toContain("cannot open registry /nonexistent/registry.sqlite");
  });
  it("an unreachable InfluxDB exits 1", async () => {
    const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    const port = await freePort();
    expect(await main(["--month", "2026-03", "--influx-url", `http://127.0.0.1:${port}`], { stdout: () => {} })).toBe(1);
    expect(err.mock.calls.map((c) => String(c[0])).join("")).toContain("INGEST_INFLUX_QUERY");
  });
});
