/**
 * Ground truth: an append-only JSONL file of what each simulated device REALLY
 * did, stamped with the simulator's true wall time (reliability-matrix.md §7:
 * "the simulators log every event to a ground-truth file"; the checker
 * compares it with what reached InfluxDB). One synchronous append per record,
 * so a killed simulator loses at most the record being written, and a torn
 * last line is skipped by the reader.
 */
import { appendFileSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";

export type ExpectedReason = "ok" | "unknown_card" | "suspended" | "inactive" | "plan_expired";

/**
 * Fields every record may carry. `planMs`: the scenario step's planned offset
 * (sim ms from the plan's t = 0) for records a scenario step wrote; a fixed
 * seed gives the same records with the same planMs on every run, while `t`
 * (the true wall time) differs.
 */
export interface TruthMeta {
  planMs?: number;
}

export type GroundTruthRecord = TruthMeta & (
  | { t: number; kind: "start"; centerId: string; seed: number }
  | { t: number; kind: "stop"; centerId: string }
  | {
      t: number;
      kind: "tap";
      reader: string;
      door: string;
      direction: "in" | "out";
      cardId: string;
      memberId: string | null;
      expected: "granted" | "denied";
      reason: ExpectedReason;
      /** false when no valid frame can have reached the edge; `undelivered` says why. */
      delivered: boolean;
      undelivered?: "silent" | "corrupt" | "unplugged" | "no_listener";
    }
  | { t: number; kind: "seat"; seat: string; zone: string; node: string; occupied: boolean; published: boolean }
  | { t: number; kind: "seat_status"; seat: string; node: string; online: boolean }
  | { t: number; kind: "relay"; door: string; channel: number; on: boolean }
  | { t: number; kind: "raw"; reader: string; hex: string }
  /** USB unplug (socat killed: the edge's fd gets EIO/HUP) and replug (same link path, new /dev/pts/N). */
  | { t: number; kind: "device"; deviceKind: "reader" | "relay" | "contact" | "radar"; device: string; state: "unplugged" | "replugged" }
  /** The door really opened/closed (reed switch level, devices/door-contact.ts); `cause` is why the sim moved it. */
  | { t: number; kind: "door"; door: string; open: boolean; cause: "walk" | "forced" | "held" | "flap" | "set" }
  /** What an LD2410 radar over a seat really saw (devices/ld2410.ts). */
  | { t: number; kind: "radar"; seat: string; zone: string; present: boolean }
  /** Scenario truth (scenario-day.ts): a person really entered or left, badge or not (tailgating, forgotten check-out). */
  | {
      t: number;
      kind: "person";
      person: string;
      memberId: string | null;
      event: "enter" | "leave";
      via: "badge" | "tailgate" | "no_checkout";
      /** Seat taken on entry; null when the center was full. */
      seat?: string | null;
    }
  /** Scenario truth (scenario-power.ts): the source the center's load really ran on from `t`. */
  | {
      t: number;
      kind: "power";
      source: "mains" | "generator" | "battery" | "low_battery" | "down";
      cause: PowerCause;
      chargePct: number;
    }
  /** Scenario truth: the center's WAN link really went down / came back (net-proxy cut/restore). */
  | { t: number; kind: "internet"; up: boolean; cause: "drop" | "power" | "restore" }
  /**
   * A played scenario (scenario-run.ts / scenario.ts): speed, how many steps, and how many taps the
   * seeded plan itself skips because the reader is still busy with the previous card (plan-play.ts).
   */
  | { t: number; kind: "scenario"; speed: number; planned: number; skippedBusy: number }
  /**
   * An injected device fault (faults/device-faults.ts, `hazri sim --faults`) starts (`active`) or ends:
   * what the device really did from `t` on (silent, corrupt, unplugged, stale, flapping, ...).
   */
  | { t: number; kind: "fault"; deviceKind: string; device: string; fault: string; value?: number; active: boolean }
  /** A planned tap not made: the reader was still busy with the previous card (decided in plan time). */
  | { t: number; kind: "skip"; step: "tap"; reader: string; cardId: string; reason: "reader_busy" }
);

export type PowerCause =
  | "load_shedding"
  | "unscheduled_cut"
  | "generator_start"
  | "generator_fail"
  | "low_battery"
  | "battery_empty"
  | "mains_return";

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type GroundTruthDraft = DistributiveOmit<GroundTruthRecord, "t"> & { t?: number };

/** Where device code writes its truth: the file itself, or an ordered slot of a scenario step (truth-order.ts). */
export interface TruthWriter {
  write(rec: GroundTruthDraft): GroundTruthRecord;
}

export interface GroundTruth extends TruthWriter {
  readonly file: string;
  /** The clock `t` comes from (optional for hand-made fakes). */
  readonly now?: () => number;
  /** Append one record; `t` defaults to now(). Returns the record written. */
  write(rec: GroundTruthDraft): GroundTruthRecord;
  /** Records written by this writer, in order (in memory, for summaries). */
  records(): readonly GroundTruthRecord[];
}

export function openGroundTruth(file: string, now: () => number = Date.now): GroundTruth {
  mkdirSync(path.dirname(file), { recursive: true });
  const mine: GroundTruthRecord[] = [];
  return {
    file,
    now,
    write(draft) {
      const rec = { ...draft, t: draft.t ?? now() } as GroundTruthRecord;
      // `t` first so the file reads chronologically by eye.
      const { t, ...rest } = rec;
      appendFileSync(file, `${JSON.stringify({ t, ...rest })}\n`);
      mine.push(rec);
      return rec;
    },
    records: () => mine,
  };
}

/** Read a ground-truth file; a torn (unterminated or unparsable) last line is skipped, other bad lines throw. */
export function readGroundTruth(file: string): GroundTruthRecord[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
  const lines = text.split("\n");
  const out: GroundTruthRecord[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    try {
      out.push(JSON.parse(line) as GroundTruthRecord);
    } catch (e) {
      if (i === lines.length - 1) return; // torn final write
      throw new Error(`${file}:${i + 1}: bad ground-truth line: ${(e as Error).message}`);
    }
  });
  return out;
}
