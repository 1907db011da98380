// A test database on either engine: a SQLite file in `dir`, or a fresh database on the test
// process's PostgreSQL server (test/helpers/postgres.ts). For tests that run the same cases on
// both engines, and for migration tests that start from a database left at an older migration.
import path from "node:path";
import SQLite from "better-sqlite3";
import pg from "pg";
import { Kysely, PostgresDialect, SqliteDialect } from "kysely";
import { Migrator } from "kysely/migration";
import { openDatabase, type Db } from "../../server/store/database.js";
import { migrations } from "../../server/store/migrations.js";
import { freshDatabaseUrl } from "./postgres.js";

export type Engine = "sqlite" | "postgres";

/** The service's database, migrated to the latest schema. */
export async function openEngineDatabase(engine: Engine, dir: string): Promise<Db> {
  return openDatabase(
    engine === "sqlite" ? path.join(dir, "tierline.db") : { url: await freshDatabaseUrl(), file: "" },
  );
}

/** A database migrated up to `migration` only (untyped: its schema is an older one), and the step to the latest. */
export async function databaseAtMigration(
  engine: Engine,
  dir: string,
  migration: string,
): Promise<{ db: Kysely<any>; migrateToLatest(): Promise<void> }> {
  const db =
    engine === "postgres"
      ? new Kysely<any>({
          dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: await freshDatabaseUrl(), max: 2 }) }),
        })
      : new Kysely<any>({ dialect: new SqliteDialect({ database: new SQLite(path.join(dir, "old.db")) }) });
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error } = await migrator.migrateTo(migration);
  if (error) throw error;
  return {
    db,
    async migrateToLatest() {
      const { error: latest } = await migrator.migrateToLatest();
      if (latest) throw latest;
    },
  };
}
