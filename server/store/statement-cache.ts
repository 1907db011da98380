// better-sqlite3 behind Kysely with its prepared statements kept. Kysely's SQLite driver
// prepares every query afresh (`db.prepare(sql)` per execution): on the registration path
// that was the largest single CPU cost of the service (3.6 % of the bench's samples, more than
// running the statements). The service's queries are a fixed set of SQL texts (values are
// bound parameters), so a small LRU by SQL text keeps each one compiled once.
import type { Database as SqliteDatabase, Statement } from "better-sqlite3";
import type { SqliteDatabase as KyselySqliteDatabase } from "kysely";

/** Enough for every distinct query the service issues; `in (…)` lists of varying length add a few each. */
export const STATEMENT_CACHE_SIZE = 500;

/**
 * The database as Kysely's SqliteDialect uses it (`prepare`, `close`), preparing each SQL text once.
 * A statement that is mid-iteration (a streamed select) is busy: a second user of the same text
 * gets a fresh statement instead of the cached one. SQLite re-prepares a cached statement by
 * itself when the schema changes (sqlite3_prepare_v2), so a migration needs no invalidation.
 */
export function withStatementCache(
  sqlite: SqliteDatabase,
  size = STATEMENT_CACHE_SIZE,
): KyselySqliteDatabase & { readonly cachedStatements: number } {
  const cache = new Map<string, Statement>();
  return {
    prepare(sqlText: string) {
      const cached = cache.get(sqlText);
      if (cached && !cached.busy) {
        // Most recently used last, so the oldest is the first key when the cache is full.
        cache.delete(sqlText);
        cache.set(sqlText, cached);
        return cached;
      }
      const statement = sqlite.prepare(sqlText);
      if (!cached) {
        if (cache.size >= size) cache.delete(cache.keys().next().value!);
        cache.set(sqlText, statement);
      }
      return statement;
    },
    close() {
      cache.clear();
      sqlite.close();
    },
    get cachedStatements() {
      return cache.size;
    },
  };
}
