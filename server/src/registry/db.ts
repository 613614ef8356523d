import Database from "better-sqlite3";

/**
 * The server's registry: one SQLite file (centers and their credentials,
 * members and cards, users and tokens). Each concern owns its tables and
 * ships its own migrations; `openRegistry` applies the ones not yet applied,
 * in the order given, each in its own transaction, and records their ids.
 */
export interface Migration {
  /** Globally unique and never renamed, e.g. "centers-001-create". */
  id: string;
  sql: string;
}

export type RegistryDb = Database.Database;

export function openRegistry(path: string, migrations: readonly Migration[]): RegistryDb {
  const db = new Database(path);
  // WAL: API reads do not block the writer; FULL: a member revocation that was
  // acknowledged to an admin survives a power cut.
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.pragma("foreign_keys = ON");
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)");
  const seen = new Set(db.prepare("SELECT id FROM schema_migrations").pluck().all() as string[]);
  const ids = new Set<string>();
  for (const m of migrations) {
    if (ids.has(m.id)) throw new Error(`duplicate migration id ${m.id}`);
    ids.add(m.id);
    if (seen.has(m.id)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare("INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)").run(m.id, Date.now());
    })();
  }
  return db;
}
