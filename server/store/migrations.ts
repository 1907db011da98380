// Schema migrations, applied in order at start-up (Kysely's Migrator keeps the ledger).
import { sql, type Kysely } from "kysely";
import type { Migration } from "kysely/migration";
import { canonicalDocumentNumber, deliveryKeyOf } from "../model/document-identity.js";

export const migrations: Record<string, Migration> = {
  "0001_initial": {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("meta")
        .addColumn("key", "text", (c) => c.primaryKey())
        .addColumn("value", "text", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("parties")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("registry_id", "text", (c) => c.notNull())
        .addColumn("legal_id_hash", "text", (c) => c.notNull())
        .addColumn("industry", "text", (c) => c.notNull())
        .addColumn("roles", "text", (c) => c.notNull())
        .addColumn("address", "text", (c) => c.notNull().unique())
        .addColumn("custodial", "integer", (c) => c.notNull())
        .addColumn("encrypted_key", "text")
        .addColumn("api_key_hash", "text", (c) => c.notNull().unique())
        .addColumn("related_party_ids", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("receivables")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("seller_id", "text", (c) => c.notNull().references("parties.id"))
        .addColumn("debtor_id", "text", (c) => c.notNull().references("parties.id"))
        .addColumn("invoice_number", "text", (c) => c.notNull())
        .addColumn("invoice_number_normalized", "text", (c) => c.notNull())
        .addColumn("po_number", "text", (c) => c.notNull())
        .addColumn("currency", "text", (c) => c.notNull())
        .addColumn("face_value", "text", (c) => c.notNull())
        .addColumn("net_value", "text", (c) => c.notNull())
        .addColumn("due_date", "integer", (c) => c.notNull())
        .addColumn("document_hash", "text", (c) => c.notNull())
        .addColumn("documents", "text", (c) => c.notNull())
        .addColumn("verification", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("confirmation", "text")
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("updated_at", "text", (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("receivables_by_order")
        .on("receivables")
        .columns(["seller_id", "debtor_id", "po_number"])
        .execute();
      await db.schema
        .createTable("idempotency")
        .addColumn("party_id", "text", (c) => c.notNull())
        .addColumn("key", "text", (c) => c.notNull())
        .addColumn("method", "text", (c) => c.notNull())
        .addColumn("path", "text", (c) => c.notNull())
        .addColumn("request_hash", "text", (c) => c.notNull())
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("status_code", "integer")
        .addColumn("response", "text")
        .addColumn("created_at", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("idempotency_pk", ["party_id", "key"])
        .execute();
      await db.schema
        .createTable("tx_journal")
        .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("ref", "text", (c) => c.notNull())
        .addColumn("signer", "text", (c) => c.notNull())
        .addColumn("nonce", "integer", (c) => c.notNull())
        .addColumn("tx_hash", "text")
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("error", "text")
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("updated_at", "text", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("chain_events")
        .addColumn("block_number", "integer", (c) => c.notNull())
        .addColumn("log_index", "integer", (c) => c.notNull())
        .addColumn("block_hash", "text", (c) => c.notNull())
        .addColumn("tx_hash", "text", (c) => c.notNull())
        .addColumn("contract", "text", (c) => c.notNull())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("args", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("chain_events_pk", ["block_number", "log_index"])
        .execute();
      await db.schema
        .createTable("onchain_receivables")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("seller", "text", (c) => c.notNull())
        .addColumn("debtor", "text", (c) => c.notNull())
        .addColumn("registrar", "text", (c) => c.notNull())
        .addColumn("face_value", "text", (c) => c.notNull())
        .addColumn("repaid_amount", "text", (c) => c.notNull())
        .addColumn("due_date", "integer", (c) => c.notNull())
        .addColumn("document_hash", "text", (c) => c.notNull())
        .addColumn("root_certificate_id", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("register_tx_hash", "text", (c) => c.notNull())
        .addColumn("registered_block", "integer", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("onchain_certificates")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("receivable_id", "text", (c) => c.notNull())
        .addColumn("parent_id", "text")
        .addColumn("holder", "text", (c) => c.notNull())
        .addColumn("face_value", "text", (c) => c.notNull())
        .addColumn("tier", "integer", (c) => c.notNull())
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("issued_tx_hash", "text", (c) => c.notNull())
        .addColumn("issued_block", "integer", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("certificates_by_holder").on("onchain_certificates").column("holder").execute();
      await db.schema
        .createIndex("certificates_by_receivable")
        .on("onchain_certificates")
        .column("receivable_id")
        .execute();
      await db.schema
        .createTable("onchain_parties")
        .addColumn("address", "text", (c) => c.primaryKey())
        .addColumn("legal_id_hash", "text", (c) => c.notNull())
        .addColumn("active", "integer", (c) => c.notNull())
        .execute();
      await sql`select 1`.execute(db);
    },
  },
  "0002_financing_and_settlement": {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("onchain_financing_requests")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("certificate_id", "text", (c) => c.notNull())
        .addColumn("holder", "text", (c) => c.notNull())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("price", "text", (c) => c.notNull())
        .addColumn("repay_amount", "text", (c) => c.notNull())
        .addColumn("outstanding", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("financier", "text")
        .addColumn("shortfall", "text")
        .addColumn("opened_tx_hash", "text", (c) => c.notNull())
        .addColumn("opened_block", "integer", (c) => c.notNull())
        .addColumn("funded_tx_hash", "text")
        .execute();
      await db.schema
        .createIndex("financing_by_certificate")
        .on("onchain_financing_requests")
        .column("certificate_id")
        .execute();
      await db.schema.createIndex("financing_by_status").on("onchain_financing_requests").column("status").execute();
      await db.schema
        .alterTable("onchain_certificates")
        .addColumn("paid_out", "text", (c) => c.notNull().defaultTo("0"))
        .execute();
      await db.schema
        .alterTable("onchain_receivables")
        .addColumn("distributed", "text", (c) => c.notNull().defaultTo("0"))
        .execute();
      await db.schema
        .alterTable("onchain_receivables")
        .addColumn("early_discount", "text", (c) => c.notNull().defaultTo("0"))
        .execute();
      await db.schema.createIndex("chain_events_by_name").on("chain_events").columns(["contract", "name"]).execute();
    },
  },
  "0003_unique_legal_id": {
    async up(db: Kysely<any>) {
      // One party per legal registry id on this platform, even under concurrent requests.
      await db.schema.createIndex("parties_by_legal_id").on("parties").column("legal_id_hash").unique().execute();
    },
  },
  "0004_risk": {
    async up(db: Kysely<any>) {
      // The risk engine's own tables (server/risk/): scores, their history, alerts, industry
      // indices, operator-set base limits, cached repayment times, and the refresh cursor.
      await db.schema
        .createTable("risk_scores")
        .addColumn("party_id", "text", (c) => c.primaryKey())
        .addColumn("score", "integer", (c) => c.notNull())
        .addColumn("band", "text", (c) => c.notNull())
        .addColumn("factors", "text", (c) => c.notNull())
        .addColumn("overdue_share_bps", "integer", (c) => c.notNull())
        .addColumn("computed_at", "text", (c) => c.notNull())
        .addColumn("reason", "text", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("risk_score_history")
        .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
        .addColumn("party_id", "text", (c) => c.notNull())
        .addColumn("score", "integer", (c) => c.notNull())
        .addColumn("band", "text", (c) => c.notNull())
        .addColumn("overdue_share_bps", "integer", (c) => c.notNull())
        .addColumn("computed_at", "text", (c) => c.notNull())
        .addColumn("reason", "text", (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("risk_score_history_by_party")
        .on("risk_score_history")
        .columns(["party_id", "id"])
        .execute();
      await db.schema
        .createTable("risk_alerts")
        .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
        .addColumn("party_id", "text", (c) => c.notNull())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("message", "text", (c) => c.notNull())
        .addColumn("details", "text", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("risk_alerts_by_party").on("risk_alerts").columns(["party_id", "id"]).execute();
      await db.schema
        .createTable("industry_risk")
        .addColumn("industry", "text", (c) => c.primaryKey())
        .addColumn("index_value", "integer", (c) => c.notNull())
        .addColumn("threshold", "integer", (c) => c.notNull())
        .addColumn("updated_by", "text", (c) => c.notNull())
        .addColumn("updated_at", "text", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("credit_limits")
        .addColumn("party_id", "text", (c) => c.notNull())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("limit_amount", "text", (c) => c.notNull())
        .addColumn("source", "text", (c) => c.notNull())
        .addColumn("updated_by", "text", (c) => c.notNull())
        .addColumn("updated_at", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("credit_limits_pk", ["party_id", "kind"])
        .execute();
      await db.schema
        .createTable("risk_repayment_times")
        .addColumn("receivable_id", "text", (c) => c.primaryKey())
        .addColumn("repaid_at", "integer", (c) => c.notNull())
        .addColumn("block_number", "integer", (c) => c.notNull())
        .addColumn("block_hash", "text", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("risk_state")
        .addColumn("key", "text", (c) => c.primaryKey())
        .addColumn("value", "text", (c) => c.notNull())
        .execute();
    },
  },
  "0005_integrity": {
    async up(db: Kysely<any>) {
      // Document identity (docs/document-identity.md): invoice and order numbers compared in
      // canonical form, deliveries identified by carrier + waybill. Existing rows keep the
      // invoice_number_normalized their registry id was derived from; the canonical columns
      // are backfilled so old and new submissions are compared alike.
      await db.schema
        .alterTable("receivables")
        .addColumn("invoice_number_canonical", "text", (c) => c.notNull().defaultTo(""))
        .execute();
      await db.schema
        .alterTable("receivables")
        .addColumn("po_number_canonical", "text", (c) => c.notNull().defaultTo(""))
        .execute();
      await db.schema
        .alterTable("receivables")
        .addColumn("delivery_key", "text", (c) => c.notNull().defaultTo(""))
        .execute();
      // Who closed a submission that never reached the chain, when and why (declined / withdrawn).
      await db.schema.alterTable("receivables").addColumn("closed", "text").execute();
      const rows = await db
        .selectFrom("receivables")
        .select(["id", "invoice_number", "po_number", "documents"])
        .execute();
      for (const row of rows) {
        const documents = JSON.parse(row.documents) as { delivery?: { carrier?: string; waybill?: string } };
        await db
          .updateTable("receivables")
          .set({
            invoice_number_canonical: canonicalDocumentNumber(row.invoice_number),
            po_number_canonical: canonicalDocumentNumber(row.po_number),
            delivery_key: deliveryKeyOf(documents.delivery?.carrier ?? "", documents.delivery?.waybill ?? ""),
          })
          .where("id", "=", row.id)
          .execute();
      }
      await db.schema
        .createIndex("receivables_by_canonical_invoice")
        .on("receivables")
        .columns(["seller_id", "debtor_id", "invoice_number_canonical"])
        .execute();
      await db.schema
        .createIndex("receivables_by_canonical_order")
        .on("receivables")
        .columns(["seller_id", "debtor_id", "po_number_canonical"])
        .execute();
      await db.schema.createIndex("receivables_by_delivery").on("receivables").column("delivery_key").execute();

      // Earlier attempts at an identity that never reached the chain (rejected, declined,
      // withdrawn), moved here when a corrected submission takes the identity over.
      await db.schema
        .createTable("receivable_attempts")
        .addColumn("attempt_id", "integer", (c) => c.primaryKey().autoIncrement())
        .addColumn("receivable_id", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("row", "text", (c) => c.notNull())
        .addColumn("archived_at", "text", (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("receivable_attempts_by_receivable")
        .on("receivable_attempts")
        .columns(["receivable_id", "attempt_id"])
        .execute();

      // Limit headroom: reservations hold headroom for financing requests on their way to
      // the chain (risk/limits.ts); the check and the reservation run in one transaction
      // that holds the party's row.
      await db.schema
        .createTable("limit_reservations")
        .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
        .addColumn("party_id", "text", (c) => c.notNull())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("ref", "text", (c) => c.notNull())
        .addColumn("amount", "text", (c) => c.notNull())
        .addColumn("expires_at", "text", (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("limit_reservations_by_party")
        .on("limit_reservations")
        .columns(["party_id", "kind"])
        .execute();
    },
  },
  "0006_risk_attestations": {
    // The service's signed risk attestation of a financing request, as the market recorded it.
    async up(db: Kysely<any>) {
      await db.schema.alterTable("onchain_financing_requests").addColumn("attested_until", "integer").execute();
      await db.schema.alterTable("onchain_financing_requests").addColumn("advance_rate_bps", "integer").execute();
    },
  },
};
