import { createHash } from "node:crypto";
import { open, readFile, rename, unlink } from "node:fs/promises";
import path from "node:path";
import type { AccessMember } from "./decide.ts";

/**
 * On-disk member cache: NDJSON so a million members are written and read in
 * chunks (no 150 MB string, and the writer yields to the event loop between
 * chunks so doors keep deciding while it runs).
 *
 *   line 1      {"format":"hazri-member-cache","fv":1,"centerId":..,"version":..,"confirmedAt":..,"count":n}
 *   lines 2..   one member per line (CacheMember shape)
 *   last line   {"end":true,"count":n,"sha256":"<hex of every preceding byte>"}
 *
 * Atomic replace (reliability matrix DA-4): write `<file>.tmp`, fsync it,
 * rename over `<file>`, fsync the directory (rename(2) is atomic, but only the
 * directory fsync makes the new name durable; ext4 with data=ordered otherwise
 * may come back with the old entry or, without the file fsync, a zero-length
 * file). A crash at any point leaves either the old or the new complete file;
 * the trailer + sha256 catch a torn or bit-rotten file on an SD card, which
 * `readCacheFile` refuses (throws) so the caller starts without a cache
 * rather than with a wrong one.
 *
 * All I/O goes through `CacheFs` so tests can inject failures.
 */
export interface CacheFileHandle {
  write(chunk: string): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface CacheFs {
  create(file: string): Promise<CacheFileHandle>;
  rename(from: string, to: string): Promise<void>;
  syncDir(dir: string): Promise<void>;
  unlink(file: string): Promise<void>;
  readAll(file: string): Promise<Buffer | null>;
  readSmall(file: string): Promise<string | null>;
  writeSmallAtomic(file: string, text: string): Promise<void>;
}

const enoentNull = (e: unknown): null => {
  if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
  throw e;
};

export const nodeCacheFs: CacheFs = {
  async create(file) {
    const fh = await open(file, "w", 0o600);
    return {
      write: async (chunk) => void (await fh.write(chunk)),
      sync: () => fh.sync(),
      close: () => fh.close(),
    };
  },
  rename: (a, b) => rename(a, b),
  async syncDir(dir) {
    const fh = await open(dir, "r");
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
  unlink: (f) => unlink(f),
  readAll: (f) => readFile(f).catch(enoentNull),
  readSmall: (f) => readFile(f, "utf8").catch(enoentNull),
  async writeSmallAtomic(file, text) {
    const tmp = `${file}.tmp`;
    const fh = await open(tmp, "w", 0o600);
    try {
      await fh.write(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  },
};

export interface CacheHeader {
  centerId: string;
  version: number;
  confirmedAt: number;
}

const CHUNK_MEMBERS = 4096;

export async function writeCacheFile(fs: CacheFs, file: string, header: CacheHeader, members: readonly AccessMember[]): Promise<void> {
  const tmp = `${file}.tmp`;
  const hash = createHash("sha256");
  const fh = await fs.create(tmp);
  let ok = false;
  try {
    const head = `${JSON.stringify({ format: "hazri-member-cache", fv: 1, ...header, count: members.length })}\n`;
    hash.update(head);
    await fh.write(head);
    for (let i = 0; i < members.length; i += CHUNK_MEMBERS) {
      let chunk = "";
      const end = Math.min(members.length, i + CHUNK_MEMBERS);
      for (let j = i; j < end; j++) chunk += `${JSON.stringify(members[j])}\n`;
      hash.update(chunk);
      await fh.write(chunk); // an await per chunk: the event loop (doors) runs in between
    }
    await fh.write(`${JSON.stringify({ end: true, count: members.length, sha256: hash.digest("hex") })}\n`);
    await fh.sync();
    ok = true;
  } finally {
    await fh.close().catch(() => {});
    if (!ok) await fs.unlink(tmp).catch(() => {});
  }
  await fs.rename(tmp, file);
  await fs.syncDir(path.dirname(file));
}

/** Null when the file does not exist; throws when it exists but is torn or corrupt. */
export async function readCacheFile(fs: CacheFs, file: string): Promise<{ header: CacheHeader; members: AccessMember[] } | null> {
  const buf = await fs.readAll(file);
  if (!buf) return null;
  const lines: [number, number][] = [];
  let start = 0;
  for (let i = buf.indexOf(10, start); i !== -1; i = buf.indexOf(10, start)) {
    lines.push([start, i]);
    start = i + 1;
  }
  if (start !== buf.length || lines.length < 2) throw new Error(`${file}: truncated (no trailer)`);
  const [tStart, tEnd] = lines[lines.length - 1] as [number, number];
  const trailer = JSON.parse(buf.toString("utf8", tStart, tEnd)) as { end?: unknown; count?: unknown; sha256?: unknown };
  if (trailer.end !== true) throw new Error(`${file}: truncated (no trailer)`);
  const digest = createHash("sha256").update(buf.subarray(0, tStart)).digest("hex");
  if (digest !== trailer.sha256) throw new Error(`${file}: checksum mismatch`);
  const [hStart, hEnd] = lines[0] as [number, number];
  const h = JSON.parse(buf.toString("utf8", hStart, hEnd)) as Record<string, unknown>;
  if (h.format !== "hazri-member-cache" || h.fv !== 1 || typeof h.version !== "number" || typeof h.centerId !== "string") {
    throw new Error(`${file}: unknown format`);
  }
  // Parse CHUNK_MEMBERS lines at a time as one JSON array: far fewer parser
  // calls than one per line (JSON.stringify never emits a raw newline inside a value).
  const members: AccessMember[] = [];
  for (let i = 1; i < lines.length - 1; i += CHUNK_MEMBERS) {
    const last = Math.min(lines.length - 2, i + CHUNK_MEMBERS - 1);
    const a = (lines[i] as [number, number])[0];
    const b = (lines[last] as [number, number])[1];
    const part = JSON.parse(`[${buf.toString("utf8", a, b).replaceAll("\n", ",")}]`) as AccessMember[];
    for (const m of part) members.push(m);
  }
  if (members.length !== trailer.count || members.length !== h.count) throw new Error(`${file}: member count mismatch`);
  return { header: { centerId: h.centerId, version: h.version, confirmedAt: Number(h.confirmedAt) || 0 }, members };
}
