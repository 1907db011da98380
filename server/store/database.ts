// Opens the service's database and migrates it: the embedded SQLite file (WAL, foreign
// keys on) by default, or PostgreSQL when TIERLINE_DATABASE_URL is a postgres:// URL, so
// several API replicas can share one truth. Both engines run the same migrations and the
// same Kysely queries; what differs (locks, leadership) lives in locks.ts and cluster.ts.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import path from "node:path";
import SQLite from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect } from "kysely";
import { Migrator, type MigrationProvider } from "kysely/migration";
import pg from "pg";
import type { Database } from "./schema.js";
import { migrations } from "./migrations.js";
import { withStatementCache } from "./statement-cache.js";

export type Db = Kysely<Database>;
export type Engine = "sqlite" | "postgres";

/** The database holds trade documents and encrypted keys: owner-only (0600), like its folder. */
function restrictToOwner(file: string): void {
  for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
}

export interface DatabaseTarget {
  /** postgres://… selects PostgreSQL; unset: the SQLite file. */
  url?: string;
  /** The SQLite file (or ":memory:"). */
  file: string;
}

interface OpenedDatabase {
  engine: Engine;
  /** PostgreSQL only: the connection string, for the dedicated connections of locks and leadership. */
  url?: string;
  /** PostgreSQL only: a second pool whose connections hold session advisory locks. */
  lockPool?: pg.Pool;
}

const opened = new WeakMap<Db, OpenedDatabase>();

/** Which engine `db` runs on. A transaction object is not a root handle: pass the root. */
export function engineOf(db: Db): Engine {
  return opened.get(db)?.engine ?? "sqlite";
}

export function postgresDetails(db: Db): { url: string; lockPool: pg.Pool } | undefined {
  const info = opened.get(db);
  return info?.engine === "postgres" ? { url: info.url!, lockPool: info.lockPool! } : undefined;
}

export const isPostgresUrl = (url: string | undefined): url is string =>
  url !== undefined && /^postgres(ql)?:\/\//.test(url);

// int8 (counts, sums, bigint columns) arrives from pg as a string; every such value here is a
// count, a block number or unix seconds, far below 2^53, so read it as a number like SQLite does.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`int8 value ${value} does not fit a JavaScript number`);
  return n;
});

/**
 * A connection the server drops (restart, failover, pg_terminate_backend) makes its client
 * emit "error"; pg's pool listens only while the client is idle in the pool, and an "error"
 * nobody listens to kills the process. The query or lock that used it fails instead (a 5xx,
 * a lost lock), and the pool opens a new connection for the next one.
 */
function survivingLostConnections(pool: pg.Pool): pg.Pool {
  pool.on("error", () => {});
  pool.on("connect", (client) => client.on("error", () => {}));
  return pool;
}

export async function openDatabase(target: DatabaseTarget | string): Promise<Db> {
  const { url, file } = typeof target === "string" ? { url: undefined, file: target } : target;
  let db: Db;
  if (isPostgresUrl(url)) {
    const pool = survivingLostConnections(new pg.Pool({ connectionString: url, max: 10 }));
    const lockPool = survivingLostConnections(new pg.Pool({ connectionString: url, max: 40 }));
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    const destroy = db.destroy.bind(db);
    db.destroy = async () => {
      await destroy();
      await lockPool.end().catch(() => {});
    };
    opened.set(db, { engine: "postgres", url, lockPool });
  } else {
    if (file !== ":memory:") {
      mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      // Created 0600 before SQLite opens it; SQLite gives its -wal and -shm files the same mode.
      if (!existsSync(file)) closeSync(openSync(file, "a", 0o600));
    }
    const sqlite = new SQLite(file);
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma("foreign_keys = ON");
    sqlite.pragma("busy_timeout = 5000");
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
    opened.set(db, { engine: "sqlite" });
  }
  try {
    await migrate(db);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  if (!isPostgresUrl(url) && file !== ":memory:") restrictToOwner(file);
  return db;
}

async function migrate(db: Db): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrations };
  // On PostgreSQL, replicas starting together each try to migrate: Kysely's Migrator takes a
  // lock on its own table, so one applies and the others find the work done.
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === "Error")?.migrationName ?? "unknown";
    throw new Error(`database migration ${failed} failed: ${String(error)}`, { cause: error });
  }
}

export const nowIso = (): string => new Date().toISOString();
