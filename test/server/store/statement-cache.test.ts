// The SQLite statement cache (store/statement-cache.ts): each SQL text is prepared once, and
// reusing a statement never changes what a query answers — not while the same query is being
// streamed, not after the schema changed under it, not once the cache is full.
import { expect } from "chai";
import SQLite from "better-sqlite3";
import { Kysely, SqliteDialect, sql } from "kysely";
import { withStatementCache } from "../../../server/store/statement-cache.js";

interface Tables {
  items: { id: number; name: string };
}

function openCounted(size?: number) {
  const sqlite = new SQLite(":memory:");
  let prepared = 0;
  const prepare = sqlite.prepare.bind(sqlite);
  sqlite.prepare = ((text: string) => {
    prepared++;
    return prepare(text);
  }) as typeof sqlite.prepare;
  const cached = withStatementCache(sqlite, size);
  const db = new Kysely<Tables>({ dialect: new SqliteDialect({ database: cached }) });
  return { db, cached, prepared: () => prepared };
}

describe("the SQLite statement cache", () => {
  it("prepares a query once however often it runs, with each run's own parameters", async () => {
    const { db, prepared } = openCounted();
    await sql`create table items (id integer primary key, name text not null)`.execute(db);
    for (let i = 1; i <= 3; i++)
      await db
        .insertInto("items")
        .values({ id: i, name: `n${i}` })
        .execute();
    const before = prepared();
    const names: string[] = [];
    for (let i = 1; i <= 3; i++) {
      names.push((await db.selectFrom("items").select("name").where("id", "=", i).executeTakeFirstOrThrow()).name);
    }
    expect(names).to.deep.equal(["n1", "n2", "n3"]);
    expect(prepared() - before).to.equal(1);
    await db.destroy();
  });

  it("gives a second user of a statement still being iterated its own statement", () => {
    // Kysely holds its one SQLite connection for a stream's whole life, so this is reached
    // only through the driver's database directly, as a streamQuery would use it.
    const sqlite = new SQLite(":memory:");
    const cached = withStatementCache(sqlite);
    sqlite.exec("create table items (id integer primary key, name text not null)");
    sqlite.exec("insert into items values (1, 'n1'), (2, 'n2'), (3, 'n3')");
    const text = "select id from items order by id";
    const streamed: number[] = [];
    const inner: number[][] = [];
    for (const row of cached.prepare(text).iterate([]) as Iterable<{ id: number }>) {
      streamed.push(row.id);
      inner.push((cached.prepare(text).all([]) as Array<{ id: number }>).map((r) => r.id));
    }
    expect(streamed).to.deep.equal([1, 2, 3]);
    expect(inner).to.deep.equal([
      [1, 2, 3],
      [1, 2, 3],
      [1, 2, 3],
    ]);
    cached.close();
  });

  it("answers with the new schema after a column is added under a cached statement", async () => {
    const { db } = openCounted();
    await sql`create table items (id integer primary key, name text not null)`.execute(db);
    await db.insertInto("items").values({ id: 1, name: "n1" }).execute();
    const selectAll = sql<Record<string, unknown>>`select * from items`;
    expect((await selectAll.execute(db)).rows).to.deep.equal([{ id: 1, name: "n1" }]);
    await sql`alter table items add column note text default 'x'`.execute(db);
    expect((await selectAll.execute(db)).rows).to.deep.equal([{ id: 1, name: "n1", note: "x" }]);
    await db.destroy();
  });

  it("keeps at most its size, dropping the least recently used text first", async () => {
    const { db, cached, prepared } = openCounted(2);
    await sql`create table items (id integer primary key, name text not null)`.execute(db);
    const byId = () => db.selectFrom("items").select("name").where("id", "=", 1).execute();
    const byName = () => db.selectFrom("items").select("id").where("name", "=", "a").execute();
    const count = () =>
      db
        .selectFrom("items")
        .select((eb) => eb.fn.countAll().as("n"))
        .execute();
    await byId();
    await byName();
    await byId(); // byName is now the least recently used
    await count(); // evicts byName
    expect(cached.cachedStatements).to.equal(2);
    const before = prepared();
    await byId();
    await count();
    expect(prepared() - before).to.equal(0);
    await byName();
    expect(prepared() - before).to.equal(1);
    await db.destroy();
  });
});
