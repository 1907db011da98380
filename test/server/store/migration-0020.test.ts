// Migration 0020 on a database that indexed disputes before they were numbered: each row gets its
// position among its receivable's disputes in opening order (block, then log index, compared as
// numbers), which is the number DilutionLedger gave it, so a dismissal recommended after the
// upgrade names the right dispute without a reindex.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import SQLite from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { Migrator, type MigrationProvider } from "kysely/migration";
import { migrations } from "../../../server/store/migrations.js";
import { openDatabase } from "../../../server/store/database.js";

const A = `0x${"aa".repeat(32)}`;
const B = `0x${"bb".repeat(32)}`;

describe("store: migration 0020 on disputes indexed before they were numbered", function () {
  let dir: string;
  before(function () {
    dir = mkdtempSync(path.join(tmpdir(), "tierline-migration-0020-"));
  });
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it("numbers each receivable's disputes in opening order", async function () {
    const file = path.join(dir, "old.db");
    const old = new Kysely<any>({ dialect: new SqliteDialect({ database: new SQLite(file) }) });
    const upTo0019: MigrationProvider = {
      getMigrations: async () => Object.fromEntries(Object.entries(migrations).filter(([name]) => name < "0020")),
    };
    expect((await new Migrator({ db: old, provider: upTo0019 }).migrateToLatest()).error).to.equal(undefined);
    const dispute = (id: string, receivableId: string, status: string) => ({
      id,
      receivable_id: receivableId,
      debtor: "0x00000000000000000000000000000000000000d1",
      reason_code: "0x00",
      document_hash: "0x00",
      status,
      credit_note_id: null,
      opened_tx_hash: `0xtx${id}`,
      opened_block: Number(id.split(":")[0]),
      closed_tx_hash: null,
    });
    // Inserted out of order, with ids whose text order is not their opening order ("100:1" < "9:5").
    await old
      .insertInto("onchain_disputes")
      .values([
        dispute("100:1", A, "open"),
        dispute("9:5", A, "withdrawn"),
        dispute("9:12", A, "dismissed"),
        dispute("50:0", B, "open"),
        dispute("9:7", B, "withdrawn"),
      ])
      .execute();
    await old.destroy();

    const db = await openDatabase(file);
    try {
      const rows = await db
        .selectFrom("onchain_disputes")
        .select(["receivable_id", "id", "dispute_number"])
        .orderBy("receivable_id")
        .orderBy("dispute_number")
        .execute();
      expect(rows.map((r) => [r.receivable_id, r.id, r.dispute_number])).to.deep.equal([
        [A, "9:5", 1],
        [A, "9:12", 2],
        [A, "100:1", 3],
        [B, "9:7", 1],
        [B, "50:0", 2],
      ]);
    } finally {
      await db.destroy();
    }
  });
});
