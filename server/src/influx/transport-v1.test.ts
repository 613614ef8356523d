import { describe, expect, it } from "vitest";
import type { SendOptions, Transport } from "@influxdata/influxdb-client";
import { basicAuthHeader, createV1Transport, mapPrecision, mapV2Path } from "./transport-v1.ts";

describe("mapV2Path", () => {
  it("maps the v2 write path to /write with db, rp and precision", () => {
    expect(mapV2Path("/api/v2/write?org=&bucket=hazri&precision=ns")).toBe("/write?db=hazri&precision=n");
    expect(mapV2Path("/api/v2/write?org=x&bucket=hazri%2Fweek&precision=ms")).toBe("/write?db=hazri&rp=week&precision=ms");
  });
  it.each([
    ["ns", "n"],
    ["us", "u"],
    ["ms", "ms"],
    ["s", "s"],
  ])("maps precision %s -> %s", (v2, v1) => {
    expect(mapPrecision(v2)).toBe(v1);
    expect(mapV2Path(`/api/v2/write?bucket=d&precision=${v2}`)).toBe(`/write?db=d&precision=${v1}`);
  });
  it("throws on an unknown precision instead of letting 1.x treat it as ns", () => {
    expect(() => mapPrecision("m")).toThrow(RangeError);
    expect(() => mapV2Path("/api/v2/write?bucket=d&precision=h")).toThrow(/precision/);
    expect(() => mapV2Path("/api/v2/write?bucket=d&precision=n")).toThrow(/precision/);
  });
  it("rejects a write without a database", () => {
    expect(() => mapV2Path("/api/v2/write?org=&bucket=&precision=ns")).toThrow(/bucket/);
    expect(() => mapV2Path("/api/v2/write?org=&bucket=%2Frp&precision=ns")).toThrow(/database/);
  });
  it("passes other paths through unchanged", () => {
    expect(mapV2Path("/query")).toBe("/query");
    expect(mapV2Path("/ping")).toBe("/ping");
    expect(mapV2Path("/api/v2/query?org=x")).toBe("/api/v2/query?org=x");
  });
});

describe("createV1Transport", () => {
  function fakeInner() {
    const calls: Array<{ path: string; body: unknown; options: SendOptions }> = [];
    const inner: Transport = {
      send(path, body, options, callbacks) {
        calls.push({ path, body, options });
        callbacks?.complete?.();
      },
      async request(path, body, options) {
        calls.push({ path, body, options });
        return { ok: true };
      },
      iterate() {
        throw new Error("unused");
      },
      chunkCombiner: undefined as never,
    };
    return { inner, calls };
  }

  it("rewrites the path and adds Basic auth on send and request", async () => {
    const { inner, calls } = fakeInner();
    const t = createV1Transport({ url: "http://x", username: "u", password: "p:w", inner });
    t.send("/api/v2/write?org=&bucket=db&precision=ns", "m f=1 1", { method: "POST", headers: { a: "b" } }, {});
    await t.request("/query", "q=SHOW", { method: "POST" });
    expect(calls[0]?.path).toBe("/write?db=db&precision=n");
    expect(calls[0]?.options.headers).toEqual({ a: "b", authorization: basicAuthHeader("u", "p:w") });
    expect(basicAuthHeader("u", "p:w")).toBe(`Basic ${Buffer.from("u:p:w").toString("base64")}`);
    expect(calls[1]?.path).toBe("/query");
    expect(calls[1]?.options.headers?.authorization).toMatch(/^Basic /);
  });

  it("reports a bad precision through the error callback, never by throwing", () => {
    const { inner, calls } = fakeInner();
    const t = createV1Transport({ url: "http://x", inner });
    const errors: Error[] = [];
    t.send("/api/v2/write?bucket=db&precision=xx", "", { method: "POST" }, { error: (e) => errors.push(e) });
    expect(errors).toHaveLength(1);
    expect(calls).toHaveLength(0);
  });

  it("sends no authorization header without a username", () => {
    const { inner, calls } = fakeInner();
    createV1Transport({ url: "http://x", inner }).send("/ping", "", { method: "GET" });
    expect(calls[0]?.options.headers).toBeUndefined();
  });
});
