import { randomBytes } from "node:crypto";
import { StringDecoder } from "node:string_decoder";
import type { z } from "zod";
import type { Clock, Logger } from "../../../protocol/clock.ts";
import { createCsvParser } from "./csv.ts";
import type { CsvRecord } from "./csv.ts";
import { MemberCreate } from "./members.ts";
import type { MembersRegistry } from "./members.ts";

/**
 * CSV member import: streamed (the body is never held whole), every row
 * validated with zod, errors reported per row and column, valid rows committed
 * in chunks of `chunkRows` (one transaction and one registry version each, so
 * the edges get one delta per chunk, not one per row). Progress is persisted in
 * `member_imports`, queryable by id while the import runs and after a restart.
 *
 * Columns (header row required, any order): id (required), name, cards
 * (card ids separated by `;`), status (active|suspended), validFrom,
 * validUntil (YYYY-MM-DD), centers (`all` or center ids separated by `;`),
 * schedule (day|night|24x7), staff (true|false|1|0|yes|no). An empty cell means
 * "not given": a new member gets the default, an existing one keeps its value.
 * A row is an upsert by id.
 */
export const IMPORT_COLUMNS = ["id", "name", "cards", "status", "validFrom", "validUntil", "centers", "schedule", "staff"] as const;
/** Errors kept per import (the count is exact, the list is capped). */
export const MAX_REPORTED_ERRORS = 10_000;

export interface RowError {
  row: number;
  column: string | null;
  problem: string;
}
export interface ImportStatus {
  id: string;
  state: "running" | "done" | "failed";
  rowsDone: number;
  /** Known once the whole body has been read. */
  rowsTotal: number | null;
  ok: number;
  failed: number;
  errors: RowError[];
  startedAt: number;
  finishedAt: number | null;
}

export interface MemberImporter {
  /** Starts reading `source` now; resolves with the id at once, `done` when finished. */
  start(source: AsyncIterable<Buffer | string>): { id: string; done: Promise<ImportStatus> };
  status(id: string): ImportStatus | null;
}

const splitList = (s: string) =>
  s
    .split(/[;|]/)
    .map((x) => x.trim())
    .filter(Boolean);
const BOOL: Record<string, boolean> = { true: true, false: false, "1": true, "0": false, yes: true, no: false };

export function createMemberImporter(
  members: MembersRegistry,
  deps: { clock: Clock; logger: Logger; chunkRows?: number },
): MemberImporter {
  const db = members.db;
  const chunkRows = deps.chunkRows ?? 2_000;
  const log = deps.logger.child({ component: "member-import" });
  const save = db.prepare(`INSERT INTO member_imports (id, state, rows_done, rows_total, ok, failed, errors, started_at, finished_at)
    VALUES (@id, @state, @rowsDone, @rowsTotal, @ok, @failed, @errors, @startedAt, @finishedAt)
    ON CONFLICT(id) DO UPDATE SET state = excluded.state, rows_done = excluded.rows_done, rows_total = excluded.rows_total,
      ok = excluded.ok, failed = excluded.failed, errors = excluded.errors, finished_at = excluded.finished_at`);
  const load = db.prepare("SELECT * FROM member_imports WHERE id = ?");
  const persist = (s: ImportStatus) => save.run({ ...s, errors: JSON.stringify(s.errors) });

  async function run(st: ImportStatus, source: AsyncIterable<Buffer | string>): Promise<ImportStatus> {
    const parser = createCsvParser();
    const decoder = new StringDecoder("utf8");
    let header: string[] | null = null;
    const seenIds = new Map<string, number>();
    const seenCards = new Map<string, number>();
    let batch: z.output<typeof MemberCreate>[] = [];
    const fail = (row: number, column: string | null, problem: string) => {
      st.failed++;
      if (st.errors.length < MAX_REPORTED_ERRORS) st.errors.push({ row, column, problem });
    };
    const flush = async () => {
      members.upsertMany(batch);
      st.ok += batch.length;
      batch = [];
      persist(st);
      await new Promise<void>((r) => setImmediate(r)); // let HTTP requests (progress polls) in
    };
    const handle = (rec: CsvRecord) => {
      if (header === null) {
        if ("error" in rec) throw new Error(`header: ${rec.error}`);
        header = rec.fields.map((h) => h.trim().replace(/^\uFEFF/, ""));
        const unknown = header.filter((h) => !(IMPORT_COLUMNS as readonly string[]).includes(h));
        if (unknown.length) throw new Error(`unknown column(s): ${unknown.join(", ")}; expected ${IMPORT_COLUMNS.join(", ")}`);
        if (!header.includes("id")) throw new Error("the header has no id column");
        return;
      }
      st.rowsDone++;
      if ("error" in rec) return fail(rec.line, null, rec.error);
      if (rec.fields.length !== header.length)
        return fail(rec.line, null, `expected ${header.length} fields, got ${rec.fields.length}`);
      const raw: Record<string, unknown> = {};
      const problems: RowError[] = [];
      header.forEach((col, i) => {
        const v = (rec.fields[i] ?? "").trim();
        if (v === "") return;
        if (col === "cards") raw.cards = splitList(v);
        else if (col === "centers") raw.centers = v.toLowerCase() === "all" ? "all" : splitList(v);
        else if (col === "staff") {
          const b = BOOL[v.toLowerCase()];
          if (b === undefined) problems.push({ row: rec.line, column: "staff", problem: "expected true/false" });
          else raw.staff = b;
        } else raw[col] = v;
      });
      const r = MemberCreate.safeParse(raw);
      if (!r.success)
        for (const i of r.error.issues) problems.push({ row: rec.line, column: String(i.path[0] ?? "id"), problem: i.message });
      if (r.success) {
        const first = seenIds.get(r.data.id);
        if (first !== undefined) problems.push({ row: rec.line, column: "id", problem: `duplicate id (first at row ${first})` });
        for (const c of r.data.cards ?? []) {
          const at = seenCards.get(c);
          if (at !== undefined) problems.push({ row: rec.line, column: "cards", problem: `card ${c} also at row ${at}` });
          const owner = members.cardOwner(c);
          if (owner !== null && owner !== r.data.id)
            problems.push({ row: rec.line, column: "cards", problem: `card ${c} belongs to member ${owner}` });
        }
      }
      if (problems.length || !r.success) {
        st.failed++;
        for (const p of problems) if (st.errors.length < MAX_REPORTED_ERRORS) st.errors.push(p);
        return;
      }
      seenIds.set(r.data.id, rec.line);
      for (const c of r.data.cards ?? []) seenCards.set(c, rec.line);
      batch.push(r.data);
    };
    try {
      for await (const chunk of source) {
        for (const rec of parser.push(typeof chunk === "string" ? chunk : decoder.write(chunk))) {
          handle(rec);
          if (batch.length >= chunkRows) await flush();
        }
      }
      for (const rec of [...parser.push(decoder.end()), ...parser.end()]) handle(rec);
      if (header === null) throw new Error("empty CSV: a header row is required");
      await flush();
      st.rowsTotal = st.rowsDone;
      st.state = "done";
    } catch (e) {
      // Rows committed so far stay committed (each chunk is its own transaction).
      st.state = "failed";
      if (st.errors.length < MAX_REPORTED_ERRORS) st.errors.push({ row: header === null ? 1 : 0, column: null, problem: (e as Error).message });
      log.warn({ id: st.id, err: e }, "member import failed");
    }
    st.finishedAt = deps.clock.now();
    persist(st);
    log.info({ id: st.id, state: st.state, ok: st.ok, failed: st.failed }, "member import finished");
    return st;
  }

  return {
    start(source) {
      const st: ImportStatus = {
        id: `imp_${randomBytes(8).toString("hex")}`,
        state: "running",
        rowsDone: 0,
        rowsTotal: null,
        ok: 0,
        failed: 0,
        errors: [],
        startedAt: deps.clock.now(),
        finishedAt: null,
      };
      persist(st);
      return { id: st.id, done: run(st, source) };
    },
    status(id) {
      const r = load.get(id) as Record<string, unknown> | undefined;
      if (!r) return null;
      return {
        id: r.id as string,
        state: r.state as ImportStatus["state"],
        rowsDone: r.rows_done as number,
        rowsTotal: (r.rows_total as number | null) ?? null,
        ok: r.ok as number,
        failed: r.failed as number,
        errors: JSON.parse(r.errors as string) as RowError[],
        startedAt: r.started_at as number,
        finishedAt: (r.finished_at as number | null) ?? null,
      };
    },
  };
}
