// Migration 0016 on a database that already journaled PledgeCollateralShortfall events (issue
// 16): the new index table is filled from the journal, as the projection and a reindex fill it,
// so an upgraded service shows the shortfalls it saw before without a reindex.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import SQLite from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { Migrator, type MigrationProvider } from "kysely/migration";
import { migrations } from "../../../server/store/migrations.js";
import { openDatabase } from "../../../server/store/database.js";

const PLEDGEE = "0x00000000000000000000000000000000000000aB";

describe("store: migration 0016 on journaled events", function () {
  let dir: string;
  before(function () {
    dir = mkdtempSync(path.join(tmpdir(), "tierline-migration-0016-"));
  });
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it("fills onchain_pledge_shortfalls from the shortfall events journaled before it", async function () {
    const file = path.join(dir, "old.db");
    const old = new Kysely<any>({ dialect: new SqliteDialect({ database: new SQLite(file) }) });
    const upTo0015: MigrationProvider = {
      getMigrations: async () => Object.fromEntries(Object.entries(migrations).filter(([name]) => name < "0016")),
    };
    expect((await new Migrator({ db: old, provider: upTo0015 }).migrateToLatest()).error).to.equal(undefined);
    const event = (logIndex: number, name: string, args: Record<string, string>) => ({
      block_number: 42,
      log_index: logIndex,
      block_hash: "0xblock",
      tx_hash: "0xtx",
      contract: "dilution",
      name,
      args: JSON.stringify(args),
      receivable_id: null,
    });
    await old
      .insertInto("chain_events")
      .values([
        event(3, "LeafDiluted", { certificateId: "7", claim: "20" }),
        event(4, "PledgeCollateralShortfall", {
          certificateId: "7",
          requestId: "2",
          pledgee: PLEDGEE.toLowerCase(),
          outstanding: "30",
          claim: "20",
        }),
      ])
      .execute();
    await old.destroy();

    const db = await openDatabase(file);
    try {
      expect(await db.selectFrom("onchain_pledge_shortfalls").selectAll().execute()).to.deep.equal([
        {
          block_number: 42,
          log_index: 4,
          certificate_id: "7",
          request_id: "2",
          pledgee: "0x00000000000000000000000000000000000000AB",
          outstanding: "30",
          claim: "20",
          tx_hash: "0xtx",
        },
      ]);
    } finally {
      await db.destroy();
    }
  });
});
