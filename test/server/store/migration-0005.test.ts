// Migration 0005_integrity on a database that already holds receivables: the canonical
// invoice and order numbers and the delivery key are backfilled, so submissions made before
// the canonical form are compared with new ones; the id-bearing invoice_number_normalized
// stays as it was (the registry id of an existing receivable was derived from it).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import SQLite from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { Migrator, type MigrationProvider } from "kysely/migration";
import { migrations } from "../../../server/store/migrations.js";
import { openDatabase } from "../../../server/store/database.js";
import { canonicalDocumentNumber, deliveryKeyOf } from "../../../server/model/document-identity.js";

describe("store: migration 0005_integrity on existing data", function () {
  let dir: string;
  before(function () {
    dir = mkdtempSync(path.join(tmpdir(), "tierline-migration-"));
  });
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it("backfills the canonical numbers and the delivery key of receivables stored before it", async function () {
    const file = path.join(dir, "old.db");
    const old = new Kysely<any>({ dialect: new SqliteDialect({ database: new SQLite(file) }) });
    const upTo0004: MigrationProvider = {
      getMigrations: async () => Object.fromEntries(Object.entries(migrations).filter(([name]) => name < "0005")),
    };
    const result = await new Migrator({ db: old, provider: upTo0004 }).migrateToLatest();
    expect(result.error).to.equal(undefined);
    const now = new Date().toISOString();
    for (const id of ["pty_s", "pty_d"]) {
      await old
        .insertInto("parties")
        .values({
          id,
          name: id,
          registry_id: id,
          legal_id_hash: `0x${id}`,
          industry: "x",
          roles: "[]",
          address: `0x${id}`,
          custodial: 1,
          encrypted_key: null,
          api_key_hash: `h_${id}`,
          related_party_ids: "[]",
          status: "active",
          created_at: now,
        })
        .execute();
    }
    await old
      .insertInto("receivables")
      .values({
        id: "0xold",
        seller_id: "pty_s",
        debtor_id: "pty_d",
        invoice_number: "INV-2026-٠٠٤٢",
        invoice_number_normalized: "INV2026٠٠٤٢", // what the old normalisation stored
        po_number: "po 944450",
        currency: "USD",
        face_value: "1",
        net_value: "1",
        due_date: 1,
        document_hash: "0x",
        documents: JSON.stringify({ delivery: { carrier: "Rhein Freight", waybill: "WB 77812" } }),
        verification: "{}",
        status: "awaiting_confirmation",
        confirmation: null,
        created_at: now,
        updated_at: now,
      })
      .execute();
    await old.destroy();

    const db = await openDatabase(file);
    try {
      const row = await db.selectFrom("receivables").selectAll().where("id", "=", "0xold").executeTakeFirstOrThrow();
      expect(row.invoice_number_canonical).to.equal(canonicalDocumentNumber("INV-2026-0042"));
      expect(row.po_number_canonical).to.equal(canonicalDocumentNumber("PO-944450"));
      expect(row.delivery_key).to.equal(deliveryKeyOf("rhein-freight", "wb77812"));
      expect(row.invoice_number_normalized).to.equal("INV2026٠٠٤٢");
      expect(row.closed).to.equal(null);
    } finally {
      await db.destroy();
    }
  });
});
