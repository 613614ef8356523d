import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { isHazriError } from "../../protocol/errors.ts";
import { applyOverrides, loadServerConfigFile, parseServerConfig } from "./config.ts";

const minimal = { broker: { embedded: {} }, influx: { kind: "v1", url: "http://127.0.0.1:18086", database: "hazri" } };

describe("server config", () => {
  it("fills defaults", () => {
    const c = parseServerConfig(minimal);
    expect(c.http).toEqual({ host: "127.0.0.1", port: 8080 });
    expect(c.broker).toEqual({ embedded: { host: "127.0.0.1", port: 18830 } });
    expect(c.ingest).toEqual({ maxBatchDelayMs: 20, maxPendingEvents: 20_000, maxWriteEvents: 5_000, writeConcurrency: 2 });
  });

  it("reports every problem at once with its path", () => {
    let err: unknown;
    try {
      parseServerConfig({
        http: { port: 70000, hots: "x" },
        broker: { embedded: {} },
        influx: { kind: "v1", url: "ftp://x", database: "" },
        ingest: { maxBatchDelayMs: -1 },
      });
    } catch (e) {
      err = e;
    }
    expect(isHazriError(err, "CONFIG_INVALID")).toBe(true);
    const msg = (err as Error).message;
    expect(msg).toMatch(/http\.port: must be a port between 0 and 65535/);
    expect(msg).toMatch(/http: .*hots/);
    expect(msg).toMatch(/influx\.url: must be an http/);
    expect(msg).toMatch(/influx\.database:/);
    expect(msg).toMatch(/ingest\.maxBatchDelayMs: must be between 0 and 10000 milliseconds/);
  });

  it("accepts an external broker with a shared group and a v2 influx", () => {
    const c = parseServerConfig({
      broker: { url: "mqtt://broker:1884", username: "s", password: "p", sharedGroup: "hazri" },
      influx: { kind: "v2", url: "https://influx", token: "t", org: "o", bucket: "b", database: "hazri" },
    });
    expect(c.broker).toMatchObject({ sharedGroup: "hazri" });
  });

  it("applies CLI overrides before validation", () => {
    const c = parseServerConfig(applyOverrides(minimal, { httpPort: 0, mqttPort: 0, influxUrl: "http://h:1", influxDb: "x" }));
    expect(c.http.port).toBe(0);
    expect(c.broker).toEqual({ embedded: { host: "127.0.0.1", port: 0 } });
    expect(c.influx).toMatchObject({ url: "http://h:1", database: "x" });
    const ext = parseServerConfig(applyOverrides({ ...minimal, broker: { url: "mqtt://b:1884" } }, { mqttPort: 2000 }));
    expect(ext.broker).toEqual({ url: "mqtt://b:2000" });
  });

  it("file errors have their own codes", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "hazri-cfg-"));
    await expect(loadServerConfigFile(path.join(dir, "missing.yaml"))).rejects.toMatchObject({ code: "CONFIG_NOT_FOUND" });
    await writeFile(path.join(dir, "bad.yaml"), "a: [1,\n");
    await expect(loadServerConfigFile(path.join(dir, "bad.yaml"))).rejects.toMatchObject({ code: "CONFIG_PARSE" });
    await writeFile(path.join(dir, "ok.yaml"), "broker:\n  embedded: {}\n");
    expect(await loadServerConfigFile(path.join(dir, "ok.yaml"))).toEqual({ broker: { embedded: {} } });
  });
});
