/**
 * Cross-check: the simulator's wire code was written independently of the
 * edge's; here each side decodes what the other encodes. A disagreement means
 * one of the two misreads device-protocols.md. (Tests may import edge code; the
 * device implementations in firmware-sim/src/devices must not.)
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRdm6300 } from "../../edge/src/devices/rdm6300/decode.ts";
import { Rdm6300Framer } from "../../edge/src/devices/rdm6300/framer.ts";
import { lcusCommand } from "../../edge/src/devices/relay/lcus.ts";
import { decide } from "../../edge/src/access/decide.ts";
import { MemberFile } from "../../edge/src/access/members.ts";
import { EdgeConfig } from "../../edge/src/config.ts";
import { encodeRdm6300, encodeRdm6300Corrupt } from "./devices/rdm6300-wire.ts";
import { LcusFramer } from "./devices/lcus-wire.ts";
import { defaultLayout } from "./layout.ts";
import { expectedDecision } from "./members.ts";

const cardId = fc.stringMatching(/^[0-9A-F]{10}$/);

function edgeReads(bytes: Uint8Array, chunk: number) {
  const framer = new Rdm6300Framer();
  const out = [];
  for (let i = 0; i < bytes.length; i += chunk) {
    for (const f of framer.push(bytes.subarray(i, i + chunk))) if (f.kind === "frame") out.push(decodeRdm6300(f.bytes));
  }
  return out;
}

describe("sim ⇄ edge cross-check", () => {
  it("every sim RDM6300 frame (with noise, any chunking) decodes on the edge to the same card id", () => {
    fc.assert(
      fc.property(cardId, fc.uint8Array({ maxLength: 8 }), fc.integer({ min: 1, max: 14 }), (id, noise, chunk) => {
        // Noise made of non-STX bytes: an STX in noise legitimately starts a (bad) frame attempt.
        const clean = noise.map((b) => (b === 0x02 ? 0x55 : b));
        const bytes = new Uint8Array([...clean, ...encodeRdm6300(id), ...encodeRdm6300(id)]);
        const got = edgeReads(bytes, chunk).filter((r) => r.ok);
        expect(got.map((r) => r.ok && r.cardId)).toEqual([id, id]);
      }),
    );
  });

  it("a corrupt-checksum sim frame is rejected by the edge as FRAME_CHECKSUM", () => {
    fc.assert(
      fc.property(cardId, (id) => {
        expect(edgeReads(encodeRdm6300Corrupt(id), 14)).toEqual([
          expect.objectContaining({ ok: false, code: "FRAME_CHECKSUM" }),
        ]);
      }),
    );
  });

  it("every edge LCUS command decodes in the sim relay to the same channel/state", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 255 }), fc.boolean(), (ch, on) => {
        const frames = new LcusFramer().push(lcusCommand(ch, on));
        expect(frames).toEqual([expect.objectContaining({ kind: "command", channel: ch, on })]);
      }),
    );
  });

  it("the default layout's members.json is a valid edge member file", () => {
    const layout = defaultLayout("lhr-01", 42, { members: 200 });
    expect(MemberFile.safeParse({ members: layout.members }).success).toBe(true);
  });

  it("sim-center.json's `edge` fragment is a valid edge config once dataDir/uplink/lan are added", async () => {
    const { mkdtemp, readFile, rm } = await import("node:fs/promises");
    const os = await import("node:os");
    const path = await import("node:path");
    const { main } = await import("./cli.ts");
    const dir = await mkdtemp(path.join(os.tmpdir(), "hazri-xcheck-"));
    try {
      const quiet = { out: () => undefined, err: () => undefined };
      expect(await main(["--center", "lhr-01", "--dir", dir, "--seed", "4", "--duration", "1"], quiet)).toBe(0);
      const desc = JSON.parse(await readFile(path.join(dir, "sim-center.json"), "utf8"));
      const r = EdgeConfig.safeParse({ ...desc.edge, dataDir: dir, uplink: { url: "mqtt://127.0.0.1:1" }, lan: {} });
      expect(r.success ? "ok" : JSON.stringify(r.error.issues)).toBe("ok");
      const members = JSON.parse(await readFile(desc.edge.members, "utf8"));
      expect(MemberFile.safeParse(members).success).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("the sim's expected decision equals the edge's decide() for active/suspended members, any time, in and out", () => {
    const member = fc.record(
      {
        id: fc.constant("m1"),
        cards: fc.constant(["62E3086CED"]).map((c) => [...c]),
        status: fc.constantFrom("active" as const, "suspended" as const),
        validUntil: fc.date({ min: new Date("2025-01-01"), max: new Date("2027-12-31"), noInvalidDate: true }).map((d) =>
          d.toISOString().slice(0, 10),
        ),
      },
      { requiredKeys: ["id", "cards", "status"] },
    );
    const now = fc.integer({ min: Date.UTC(2025, 0, 1), max: Date.UTC(2028, 0, 1) });
    fc.assert(
      fc.property(fc.option(member, { nil: undefined }), now, fc.constantFrom("in" as const, "out" as const), (m, t, direction) => {
        const edge = decide(m ? { ...m, staff: false } : undefined, { now: t, centerId: "lhr-01", direction });
        const sim = expectedDecision(m, t, 300, direction);
        expect({ decision: sim.expected, reason: sim.reason }).toEqual(edge);
      }),
    );
  });
});
