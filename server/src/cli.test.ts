import net from "node:net";
import { describe, expect, it, vi } from "vitest";
import { silentLogger } from "../../protocol/clock.ts";
import { main } from "./cli.ts";

describe("server cli", () => {
  it("exit 2 on unknown flags and on invalid config, listing the problem", async () => {
    const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      expect(await main(["--bogus"], { logger: silentLogger })).toBe(2);
      expect(await main(["--http-port", "99999"], { logger: silentLogger })).toBe(2);
      expect(err.mock.calls.map((c) => String(c[0])).join("")).toMatch(/http\.port: must be a port/);
      expect(await main(["--config", "/nonexistent/hazri.yaml"], { logger: silentLogger })).toBe(2);
    } finally {
      err.mockRestore();
    }
  });

  it("exit 1 when the server cannot start (HTTP port taken); InfluxDB down alone does not stop it (influx/readiness.ts)", async () => {
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, "127.0.0.1", () => r()));
    try {
      const port = (taken.address() as net.AddressInfo).port;
      // Port 9 (discard) on loopback: nothing listens; the server starts anyway and fails only on the taken HTTP port.
      const code = await main(["--influx-url", "http://127.0.0.1:9", "--http-port", String(port), "--mqtt-port", "0"], { logger: silentLogger });
      expect(code).toBe(1);
    } finally {
      taken.close();
    }
  });
});
