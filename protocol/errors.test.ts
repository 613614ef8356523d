import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ErrorCodes, HazriError, isHazriError } from "./errors.ts";

describe("error codes", () => {
  it("every code is documented in docs/errors.md", () => {
    const doc = readFileSync(new URL("../docs/errors.md", import.meta.url), "utf8");
    const missing = Object.values(ErrorCodes).filter((c) => !doc.includes(`\`${c}\``));
    expect(missing).toEqual([]);
  });
  it("codes equal their keys (stable, greppable)", () => {
    for (const [k, v] of Object.entries(ErrorCodes)) expect(v).toBe(k);
  });
  it("isHazriError narrows by code", () => {
    const e = new HazriError("CONFIG_INVALID", "x");
    expect(isHazriError(e)).toBe(true);
    expect(isHazriError(e, "CONFIG_INVALID")).toBe(true);
    expect(isHazriError(e, "CONFIG_PARSE")).toBe(false);
    expect(isHazriError(new Error("x"))).toBe(false);
  });
});
