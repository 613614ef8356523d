/**
 * The default simulated center for `hazri sim`: one door with an in and an out
 * reader on LCUS channel 1, N seat sensors, and a seeded member list with a
 * realistic mix of active, suspended, inactive and expired plans. Or a layout
 * file (JSON) with the same shape, so the lead's demo can pin the members it
 * also gives the server.
 */
import { readFile } from "node:fs/promises";
import { HazriError } from "../../protocol/errors.ts";
import type { SimCenterOptions } from "./center.ts";
import { localDateAt, type SimMember } from "./members.ts";
import { createRng } from "./rng.ts";

export type SimLayout = Pick<SimCenterOptions, "readers" | "doors" | "seats" | "members" | "power">;

const DAY = 86_400_000;

/**
 * `devices: "full"` adds every other device type the edge supports: a side door
 * (LCUS channel 2) with a Wiegand-26 "in" reader and a keyboard-wedge "out"
 * reader, reed-switch contacts on both doors, and two LD2410 radar seats
 * (`r01`, `r02`). Default `basic` keeps the original one-door RDM6300 center.
 */
export function defaultLayout(
  centerId: string,
  seed: number,
  opts: { seats?: number; members?: number; now?: number; devices?: "basic" | "full" } = {},
): SimLayout {
  const rng = createRng(seed ^ 0x5eed);
  const now = opts.now ?? Date.now();
  const seats = Array.from({ length: opts.seats ?? 8 }, (_, i) => {
    const n = String(i + 1).padStart(2, "0");
    return { id: `s${n}`, zone: i < 4 ? "hot-desk" : "quiet", node: `${centerId}-s${n}`, object: "seat_occupied" };
  });
  const used = new Set<string>();
  const members: SimMember[] = Array.from({ length: opts.members ?? 40 }, (_, i) => {
    let card: string;
    do {
      card = Array.from({ length: 10 }, () => "0123456789ABCDEF"[rng.int(0, 15)]).join("");
    } while (used.has(card));
    used.add(card);
    const roll = rng.next();
    const m: SimMember = { id: `${centerId}-m${String(i + 1).padStart(3, "0")}`, cards: [card], status: "active" };
    // Only statuses the edge's member file accepts (active | suspended).
    if (roll < 0.06) m.status = "suspended";
    else if (roll < 0.14) m.validUntil = localDateAt(now - rng.int(1, 30) * DAY); // plan expired
    else if (roll < 0.5) m.validUntil = localDateAt(now + rng.int(5, 60) * DAY);
    return m;
  });
  const full = opts.devices === "full";
  return {
    readers: [
      { id: "main-in", door: "main", direction: "in" },
      { id: "main-out", door: "main", direction: "out" },
      ...(full
        ? [
            { id: "side-in", door: "side", direction: "in" as const, type: "wiegand" as const, bits: 26 as const },
            { id: "side-out", door: "side", direction: "out" as const, type: "wedge" as const },
          ]
        : []),
    ],
    doors: full
      ? [
          { id: "main", channel: 1, contact: {} },
          { id: "side", channel: 2, contact: {} },
        ]
      : [{ id: "main", channel: 1 }],
    // A Megatec Q1 UPS and a Voltronic solar inverter (devices/ups-plant.ts), each on its own pty.
    power: [
      { id: "ups", type: "megatec" },
      { id: "inverter", type: "qpigs" },
    ],
    seats: full
      ? [...seats, ...["r01", "r02"].map((id) => ({ id, zone: "quiet", node: `${centerId}-${id}`, object: "seat_occupied", source: "ld2410" as const }))]
      : seats,
    members,
  };
}

export async function loadLayout(file: string): Promise<SimLayout> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, "utf8"));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code === "ENOENT" ? "CONFIG_NOT_FOUND" : "CONFIG_PARSE";
    throw new HazriError(code, `sim layout ${file}: ${(e as Error).message}`, { file }, { cause: e });
  }
  const l = raw as Partial<SimLayout>;
  for (const k of ["readers", "doors", "seats", "members"] as const) {
    if (!Array.isArray(l[k])) throw new HazriError("CONFIG_INVALID", `sim layout ${file}: "${k}" must be an array`, { file });
  }
  return l as SimLayout;
}
