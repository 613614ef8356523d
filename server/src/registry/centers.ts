import { createHmac, randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { parseArgs } from "node:util";
import { HazriError } from "../../../protocol/errors.ts";
import { isValidId } from "../../../protocol/ids.ts";
import { openRegistry } from "./db.ts";
import type { Migration, RegistryDb } from "./db.ts";

/**
 * Centers and their broker credentials (issue 5, "Broker"). A center's MQTT
 * username is its id; its password is a random 192-bit secret shown once at
 * creation and stored only as an scrypt hash with a per-center salt, encoded
 * with its cost parameters (`scrypt$N$r$p$salt$hash`, base64) so the cost can
 * be raised later without invalidating existing rows.
 */
export const migrations: Migration[] = [
  {
    id: "centers-001-create",
    sql: `CREATE TABLE centers (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      password_hash TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      disabled_at INTEGER
    )`,
  },
];

/** How long an isActive answer is reused (another process may add or disable a center in the shared file). */
export const ACTIVE_TTL_MS = 10_000;

/** scrypt cost. N=2^14, r=8, p=1 (~45 ms on the 2-core CI box); RFC 7914 §2 recommends r=8, p=1. */
export const DEFAULT_SCRYPT = { N: 16384, r: 8, p: 1 } as const;
const KEYLEN = 32;

export interface CenterRow {
  id: string;
  name: string;
  createdAt: number;
  disabledAt: number | null;
}

export interface CenterStore {
  /** Creates the center with a fresh random password and returns it (shown once, never stored). */
  createCenter(id: string, name?: string): Promise<{ password: string }>;
  /** True only for an existing, enabled center with this password. Constant-time comparison. */
  verifyCenter(id: string, password: string | Buffer): Promise<boolean>;
  /** Enabled and present (ingest uses it to refuse unknown centers). Cheap: one indexed read, cached. */
  isActive(id: string): boolean;
  listCenters(): CenterRow[];
  /** Disables the center (its credentials stop working at once); false when unknown. */
  disableCenter(id: string): boolean;
}

function scryptAsync(pw: Buffer, salt: Buffer, p: { N: number; r: number; p: number }): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(pw, salt, KEYLEN, { N: p.N, r: p.r, p: p.p, maxmem: 256 * p.N * p.r + 1024 * 1024 }, (e, k) =>
      e ? reject(e) : resolve(k),
    ),
  );
}

export async function hashPassword(password: string, cost: { N: number; r: number; p: number } = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(Buffer.from(password, "utf8"), salt, cost);
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString("base64")}$${key.toString("base64")}`;
}

/** Verify against an encoded hash; a malformed hash is simply "no". */
export async function verifyPassword(encoded: string, password: string | Buffer): Promise<boolean> {
  const parts = encoded.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (![N, r, p].every((x) => Number.isInteger(x) && x > 0)) return false;
  const salt = Buffer.from(parts[4] as string, "base64");
  const want = Buffer.from(parts[5] as string, "base64");
  const pw = typeof password === "string" ? Buffer.from(password, "utf8") : password;
  const got = await scryptAsync(pw, salt, { N, r, p });
  return got.length === want.length && timingSafeEqual(got, want);
}

export interface CenterStoreOptions {
  clock?: { now(): number };
  /** scrypt cost for NEW passwords (tests and the 10k-edge benchmark lower it; production keeps the default). */
  scrypt?: { N: number; r: number; p: number };
}

export function createCenterStore(db: RegistryDb, opts: CenterStoreOptions = {}): CenterStore {
  const now = () => opts.clock?.now() ?? Date.now();
  const cost = opts.scrypt ?? DEFAULT_SCRYPT;
  const getRow = db.prepare<[string], { password_hash: string; disabled_at: number | null }>(
    "SELECT password_hash, disabled_at FROM centers WHERE id = ?",
  );
  /*
   * A reconnect storm after a national load-shedding slot would cost
   * 10 000 × 45 ms of scrypt. We remember a keyed HMAC of the last password
   * that verified per center (key is random per process, never stored), so a
   * reconnect with the same secret costs one HMAC. Disabling drops the entry.
   */
  const cacheKey = randomBytes(32);
  const verified = new Map<string, Buffer>();
  const mac = (id: string, pw: Buffer) => createHmac("sha256", cacheKey).update(id).update("\0").update(pw).digest();
  /*
   * isActive is asked once per uplink batch, so it is cached — but only for
   * ACTIVE_TTL_MS: `hazri server center add/disable` runs in another process
   * and writes the same SQLite file, and a disabled center must stop being
   * ingested without a server restart.
   */
  const active = new Map<string, { a: boolean; at: number }>();

  return {
    async createCenter(id, name) {
      if (!isValidId(id)) throw new HazriError("CONFIG_INVALID", `invalid center id ${JSON.stringify(id)}: 1-64 of [A-Za-z0-9_-]`);
      const password = randomBytes(24).toString("base64url");
      const hash = await hashPassword(password, cost);
      try {
        db.prepare("INSERT INTO centers (id, name, password_hash, created_at) VALUES (?, ?, ?, ?)").run(id, name ?? id, hash, now());
      } catch (e) {
        if ((e as { code?: string }).code === "SQLITE_CONSTRAINT_PRIMARYKEY")
          throw new HazriError("CONFIG_INVALID", `center ${id} already exists`, { id }, { cause: e });
        throw e;
      }
      active.delete(id);
      return { password };
    },
    async verifyCenter(id, password) {
      const row = getRow.get(id);
      const pw = typeof password === "string" ? Buffer.from(password, "utf8") : Buffer.from(password);
      if (!row || row.disabled_at !== null) {
        // Same work for an unknown id, so timing does not reveal which ids exist.
        await scryptAsync(pw, cacheKey.subarray(0, 16), cost);
        return false;
      }
      const m = mac(id, pw);
      const hit = verified.get(id);
      if (hit && timingSafeEqual(hit, m)) return true;
      const ok = await verifyPassword(row.password_hash, pw);
      if (ok) verified.set(id, m);
      return ok;
    },
    isActive(id) {
      const t = now();
      const hit = active.get(id);
      if (hit !== undefined && t - hit.at < ACTIVE_TTL_MS) return hit.a;
      const row = getRow.get(id);
      const a = row !== undefined && row.disabled_at === null;
      active.set(id, { a, at: t });
      return a;
    },
    listCenters() {
      return db
        .prepare<[], { id: string; name: string; created_at: number; disabled_at: number | null }>(
          "SELECT id, name, created_at, disabled_at FROM centers ORDER BY id",
        )
        .all()
        .map((r) => ({ id: r.id, name: r.name, createdAt: r.created_at, disabledAt: r.disabled_at }));
    },
    disableCenter(id) {
      const r = db.prepare("UPDATE centers SET disabled_at = ? WHERE id = ? AND disabled_at IS NULL").run(now(), id);
      verified.delete(id);
      active.delete(id);
      return r.changes > 0 || getRow.get(id) !== undefined;
    },
  };
}

export const CENTER_USAGE = `usage: hazri server center add <id> [--name <name>] (--config <file.yaml> | --registry <file.sqlite>)
       hazri server center list    (--config <file.yaml> | --registry <file.sqlite>)
       hazri server center disable <id> (--config <file.yaml> | --registry <file.sqlite>)

add prints the center's broker password ONCE; configure it on the edge as uplink.username=<id>, uplink.password=<password>.`;

/**
 * `hazri server center …`. `resolveRegistry` maps `--config` to the configured
 * registry path (injected by cli.ts, which owns config loading). Exit codes: 0 ok, 1 failure, 2 usage.
 */
export async function centerMain(
  argv: string[],
  io: { out: (s: string) => void; err: (s: string) => void; resolveRegistry: (configFile: string) => Promise<string> },
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { name: { type: "string" }, config: { type: "string" }, registry: { type: "string" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    io.err(`hazri server center: ${(e as Error).message}\n${CENTER_USAGE}\n`);
    return 2;
  }
  const [cmd, id, ...extra] = parsed.positionals;
  const needsId = cmd === "add" || cmd === "disable";
  if (!cmd || !["add", "list", "disable"].includes(cmd) || (needsId && !id) || (!needsId && id) || extra.length > 0) {
    io.err(`${CENTER_USAGE}\n`);
    return 2;
  }
  let file = parsed.values.registry;
  try {
    if (file === undefined && parsed.values.config !== undefined) file = await io.resolveRegistry(parsed.values.config);
  } catch (e) {
    io.err(`hazri server center: ${(e as Error).message}\n`);
    return 2;
  }
  if (file === undefined) {
    io.err(`hazri server center: give --registry <file> or --config <file> with registry.path\n${CENTER_USAGE}\n`);
    return 2;
  }
  const db = openRegistry(file, migrations);
  try {
    const store = createCenterStore(db);
    if (cmd === "add") {
      const { password } = await store.createCenter(id as string, parsed.values.name);
      io.out(`center ${id} created\nusername: ${id}\npassword: ${password}\n(shown once; store it in the edge config)\n`);
    } else if (cmd === "disable") {
      if (!store.disableCenter(id as string)) {
        io.err(`hazri server center: no center ${id}\n`);
        return 1;
      }
      io.out(`center ${id} disabled\n`);
    } else {
      for (const c of store.listCenters())
        io.out(`${c.id}\t${c.name}\t${new Date(c.createdAt).toISOString()}\t${c.disabledAt === null ? "enabled" : "disabled"}\n`);
    }
    return 0;
  } catch (e) {
    io.err(`hazri server center: ${(e as Error).message}\n`);
    return 1;
  } finally {
    db.close();
  }
}
