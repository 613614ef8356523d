import { describe, expect, it } from "vitest";
import { parseEdgeConfig } from "../config.ts";
import { isHazriError } from "../../../protocol/errors.ts";

const base = {
  center: "lhr-01",
  dataDir: "./data",
  uplink: { url: "mqtt://127.0.0.1:1" },
  lan: {},
  members: "./m.yaml",
  doors: [{ id: "main", relay: { path: "/dev/serial/by-id/relay" } }],
};
const issues = (raw: unknown): string[] => {
  try {
    parseEdgeConfig(raw, "/tmp");
  } catch (e) {
    if (isHazriError(e, "CONFIG_INVALID")) return (e.context as { issues: string[] }).issues;
    throw e;
  }
  return [];
};

describe("edge config: readers, door contacts, radar seats", () => {
  it("defaults: wiegand 115200, wedge msb, door secure / 60 s held-open, contact 5 s repeat; seats default to mqtt", () => {
    const c = parseEdgeConfig(
      {
        ...base,
        doors: [{ id: "main", relay: { path: "/dev/r" }, contact: { path: "/dev/serial/by-path/pci-0:1.2-port0" } }],
        readers: [
          { id: "in", type: "wiegand", door: "main", direction: "in", path: "/dev/w" },
          { id: "out", type: "wedge", door: "main", direction: "out", path: "/dev/k" },
        ],
        seats: [
          { id: "s1", zone: "z", node: "n1" },
          { id: "s2", zone: "z", source: "ld2410", path: "/dev/radar", maxDistanceCm: 150 },
        ],
      },
      "/tmp",
    );
    expect(c.readers[0]).toMatchObject({ type: "wiegand", baudRate: 115_200 });
    expect(c.readers[1]).toMatchObject({ type: "wedge", baudRate: 9600, byteOrder: "msb" });
    expect(c.doors[0]).toMatchObject({ failMode: "secure", heldOpenS: 60, contact: { baudRate: 115_200, input: 1, invert: false, repeatS: 5, graceMs: 2000 } });
    expect(c.seats[0]).toMatchObject({ source: "mqtt", object: "seat_occupied" });
    expect(c.seats[1]).toMatchObject({ source: "ld2410", baudRate: 256_000, reportMs: 100, maxDistanceCm: 150 });
  });
  it("reports every problem at once with its path", () => {
    const got = issues({
      ...base,
      doors: [{ id: "main", relay: { path: "/dev/x" }, failMode: "open", heldOpenS: 0, contact: { path: "/dev/x", bogus: 1 } }],
      readers: [{ id: "in", type: "pn532", door: "main", direction: "in", path: "/dev/w" }],
      seats: [{ id: "s2", zone: "z", source: "ld2410" }],
    });
    const text = got.join("\n");
    expect(text).toMatch(/doors\.0\.failMode/);
    expect(text).toMatch(/doors\.0\.heldOpenS: must be between 1 and 86400 seconds/);
    expect(text).toMatch(/doors\.0\.contact/);
    expect(text).toMatch(/readers\.0\.type/);
    expect(text).toMatch(/seats\.0\.path/);
    expect(text).toMatch(/doors\.0\.contact\.path: serial port \/dev\/x is already used by doors\.0\.relay\.path/);
    expect(issues({ ...base, doors: [{ id: "main", relay: { path: "/dev/r" }, contact: { path: "/dev/c" } }], readers: [{ id: "main-contact", type: "wedge", door: "main", direction: "in", path: "/dev/k" }] }).join()).toMatch(
      /readers\.0\.id: id "main-contact" is the health id of doors\.main\.contact/,
    );
  });
});
