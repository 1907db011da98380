// Start-up does not grow with history: registered receivables leave "confirming" (those a
// crash interrupted are the only ones start-up reads), and every start-up query is answered
// by an index, not a scan of the table.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import SQLite from "better-sqlite3";
import { Kysely, SqliteDialect, sql } from "kysely";
import { Migrator } from "kysely/migration";
import { migrations } from "../../../server/store/migrations.js";
import { openDatabase } from "../../../server/store/database.js";

const party = (id: string) => ({
  id,
  name: id,
  registry_id: id,
  legal_id_hash: `0x${id}`,
  industry: "x",
  roles: "[]",
  address: `0x${id.padStart(40, "0")}`,
  custodial: 0,
  encrypted_key: null,
  api_key_hash: id,
  related_party_ids: "[]",
  status: "active",
  created_at: "2026-01-01T00:00:00.000Z",
});

const receivable = (id: string, status: string) => ({
  id,
  seller_id: "s1",
  debtor_id: "d1",
  invoice_number: id,
  invoice_number_normalized: id,
  po_number: "PO",
  currency: "USD",
  face_value: "1",
  net_value: "1",
  due_date: 0,
  document_hash: "0x",
  documents: "{}",
  verification: "{}",
  status,
  confirmation: null,
  created_at: "2026-01-01T00:00:00.000Z",
  updated_at: "2026-01-01T00:00:00.000Z",
});

describe("Start-up queries", function () {
  let dir: string;
  beforeEach(function () {
    dir = mkdtempSync(path.join(tmpdir(), "tierline-startup-"));
  });
  afterEach(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it("moves receivables that reached the registry out of 'confirming' when an older database is migrated", async function () {
    const file = path.join(dir, "tierline.db");
    // A database as the previous release left it: registered receivables stuck in "confirming".
    const old = new Kysely<any>({ dialect: new SqliteDialect({ database: new SQLite(file) }) });
    const { error } = await new Migrator({ db: old, provider: { getMigrations: async () => migrations } }).migrateTo(
      "0004_risk",
    );
    expect(error).to.equal(undefined);
    await old
      .insertInto("parties")
      .values([party("s1"), party("d1")])
      .execute();
    await old
      .insertInto("receivables")
      .values([receivable("r-registered", "confirming"), receivable("r-interrupted", "confirming")])
      .execute();
    await old
      .insertInto("onchain_receivables")
      .values({
        id: "r-registered",
        seller: "0x1",
        debtor: "0x2",
        registrar: "0x3",
        face_value: "1",
        repaid_amount: "0",
        due_date: 0,
        document_hash: "0x",
        root_certificate_id: "1",
        status: "active",
        register_tx_hash: "0x",
        registered_block: 1,
      })
      .execute();
    await old.destroy();

    const db = await openDatabase(file);
    try {
      const rows = await db.selectFrom("receivables").select(["id", "status"]).orderBy("id").execute();
      expect(rows).to.deep.equal([
        { id: "r-interrupted", status: "confirming" },
        { id: "r-registered", status: "registered" },
      ]);
    } finally {
      await db.destroy();
    }
  });

  it("answers every start-up query from an index", async function () {
    const db = await openDatabase(path.join(dir, "tierline.db"));
    try {
      const plans: Record<string, string> = {};
      const queries: Record<string, string> = {
        "interrupted confirmations": "select id from receivables where status = 'confirming'",
        "interrupted party registrations": "select * from parties where status = 'registering'",
        "unsettled transactions": "select * from tx_journal where state in ('sent', 'unconfirmed')",
        "receivables changed since the risk cursor": "select id, updated_at from receivables where updated_at >= ''",
        "parties created since the risk cursor": "select id, created_at from parties where created_at >= ''",
      };
      for (const [name, query] of Object.entries(queries)) {
        const plan = await sql<{ detail: string }>`${sql.raw(`explain query plan ${query}`)}`.execute(db);
        plans[name] = plan.rows.map((r) => r.detail).join("; ");
      }
      for (const [name, plan] of Object.entries(plans)) expect(plan, name).to.match(/USING (COVERING )?INDEX/);
    } finally {
      await db.destroy();
    }
  });
});
