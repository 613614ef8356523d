/**
 * Streaming CSV parser (RFC 4180: comma separator, `"` quoting with `""` as an
 * escaped quote, CRLF or LF record ends, line breaks allowed inside quotes).
 * Feed it chunks of any size, split anywhere; it emits complete records.
 * It never throws on bad input: a record longer than `maxRecordChars` is
 * reported as `{ error }` and skipped up to the next record end, so a 1 GB
 * line without a newline cannot exhaust memory.
 */
export type CsvRecord = { line: number; fields: string[] } | { line: number; error: string };

export interface CsvParser {
  push(chunk: string): CsvRecord[];
  end(): CsvRecord[];
}

export function createCsvParser(opts: { maxRecordChars?: number } = {}): CsvParser {
  const max = opts.maxRecordChars ?? 64 * 1024;
  let fields: string[] = [];
  let field = "";
  let inQuotes = false;
  /** A `"` seen inside quotes: either the closing quote or the first of `""`. */
  let quotePending = false;
  let size = 0;
  let overflow = false;
  let line = 1;
  let recordLine = 1;
  let sawCr = false;
  let recordStarted = false;

  const finish = (out: CsvRecord[]) => {
    if (overflow) out.push({ line: recordLine, error: `record longer than ${max} characters` });
    else if (recordStarted || fields.length > 0 || field !== "") {
      fields.push(field);
      out.push({ line: recordLine, fields });
    }
    fields = [];
    field = "";
    size = 0;
    overflow = false;
    inQuotes = false;
    quotePending = false;
    recordStarted = false;
  };

  function push(chunk: string): CsvRecord[] {
    const out: CsvRecord[] = [];
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i] as string;
      if (sawCr) {
        sawCr = false;
        if (c === "\n") continue; // CRLF is one record end
      }
      if (quotePending) {
        quotePending = false;
        if (c === '"') {
          if (!overflow) field += '"';
          continue;
        }
        inQuotes = false; // that quote closed the field; fall through with c
      }
      if (!recordStarted) {
        if (c === "\n" || c === "\r") {
          // Blank line: not a record (RFC 4180 has none; spreadsheets emit them).
          line++;
          if (c === "\r") sawCr = true;
          continue;
        }
        recordStarted = true;
        recordLine = line;
      }
      if (inQuotes) {
        if (c === '"') quotePending = true;
        else {
          if (c === "\n") line++;
          if (!overflow) field += c;
        }
      } else if (c === '"' && field === "") inQuotes = true;
      else if (c === ",") {
        if (!overflow) fields.push(field);
        field = "";
      } else if (c === "\n" || c === "\r") {
        line++;
        if (c === "\r") sawCr = true;
        finish(out);
        continue;
      } else if (!overflow) field += c;
      if (++size > max && !overflow) {
        overflow = true;
        fields = [];
        field = "";
      }
    }
    return out;
  }

  return {
    push,
    end() {
      const out: CsvRecord[] = [];
      if (quotePending) {
        quotePending = false;
        inQuotes = false;
      }
      if (inQuotes) {
        out.push({ line: recordLine, error: "unterminated quoted field at end of input" });
        fields = [];
        field = "";
        recordStarted = false;
        inQuotes = false;
        return out;
      }
      if (recordStarted) finish(out);
      return out;
    },
  };
}
