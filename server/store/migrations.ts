// Schema migrations, applied in order at start-up (Kysely's Migrator keeps the ledger).
// The same migrations run on SQLite and PostgreSQL: booleans are integers, money and big
// ids are text, and the two column kinds the engines spell differently go through
// int64() (SQLite's integer is 64-bit already; PostgreSQL's is 32) and serialId().
import { PostgresAdapter, sql, type ColumnDataType, type CreateTableBuilder, type Kysely } from "kysely";
import type { Migration } from "kysely/migration";
import { getAddress } from "ethers";
import { canonicalDocumentNumber, deliveryKeyOf } from "../model/document-identity.js";
import { attributeEvents } from "./event-subjects.js";
import { trackPartyOwed } from "./party-owed-triggers.js";
import { trackPartyFinanced } from "./party-financed-triggers.js";
import { trackPartyTiers } from "./party-tiers-triggers.js";
import { trackPartyShortfall } from "./party-shortfall-triggers.js";
import { trackJournalCounts } from "./tx-journal-count-triggers.js";
import { industryKey } from "../model/industry-key.js";
import { trackOpenLeaves } from "./open-leaves-triggers.js";
import { trackOwesByDue } from "./party-owes-by-due-triggers.js";
import { logPartyHistoryChangesOnPostgres } from "./history-change-triggers.js";
import { keepPartyRelations } from "./party-relations-triggers.js";

const onPostgres = (db: Kysely<any>): boolean => db.getExecutor().adapter instanceof PostgresAdapter;

/** Block numbers and unix seconds: 64-bit on both engines. */
const int64 = (db: Kysely<any>): ColumnDataType => (onPostgres(db) ? "bigint" : "integer");

/** An integer primary key the database numbers: SQLite's autoincrement, PostgreSQL's identity. */
function serialId<T extends string>(db: Kysely<any>, table: CreateTableBuilder<T, never>, column = "id") {
  return onPostgres(db)
    ? table.addColumn(column, "bigint", (c) => c.primaryKey().generatedByDefaultAsIdentity())
    : table.addColumn(column, "integer", (c) => c.primaryKey().autoIncrement());
}

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
        .addColumn("due_date", int64(db), (c) => c.notNull())
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
      await serialId(db, db.schema.createTable("tx_journal"))
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
        .addColumn("block_number", int64(db), (c) => c.notNull())
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
        .addColumn("due_date", int64(db), (c) => c.notNull())
        .addColumn("document_hash", "text", (c) => c.notNull())
        .addColumn("root_certificate_id", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("register_tx_hash", "text", (c) => c.notNull())
        .addColumn("registered_block", int64(db), (c) => c.notNull())
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
        .addColumn("issued_block", int64(db), (c) => c.notNull())
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
        .addColumn("opened_block", int64(db), (c) => c.notNull())
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
      await serialId(db, db.schema.createTable("risk_score_history"))
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
      await serialId(db, db.schema.createTable("risk_alerts"))
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
        .addColumn("repaid_at", int64(db), (c) => c.notNull())
        .addColumn("block_number", int64(db), (c) => c.notNull())
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
        .addColumn("attempt_id", onPostgres(db) ? "bigint" : "integer", (c) =>
          onPostgres(db) ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement(),
        )
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
      await serialId(db, db.schema.createTable("limit_reservations"))
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
  "0007_replicas": {
    async up(db: Kysely<any>) {
      // Several replicas over one database: which process is working on an idempotency key
      // or a confirmation (so a crash is told from a live attempt elsewhere, store/cluster.ts),
      // and the request counts of the shared rate limiter.
      await db.schema.alterTable("idempotency").addColumn("owner", "text").execute();
      await db.schema.alterTable("receivables").addColumn("owner", "text").execute();
      await db.schema
        .createTable("rate_limits")
        .addColumn("key", "text", (c) => c.primaryKey())
        .addColumn("hits", "integer", (c) => c.notNull())
        .addColumn("reset_at", int64(db), (c) => c.notNull())
        .execute();
    },
  },
  "0008_startup_indexes": {
    async up(db: Kysely<any>) {
      // Start-up reads only what a crash may have left half-done; these indexes keep those
      // reads (and the risk monitor's "what changed" cursors) independent of the history.
      await db.schema.createIndex("receivables_by_status").on("receivables").column("status").execute();
      await db.schema.createIndex("receivables_by_updated_at").on("receivables").column("updated_at").execute();
      await db.schema.createIndex("parties_by_status").on("parties").column("status").execute();
      await db.schema.createIndex("parties_by_created_at").on("parties").column("created_at").execute();
      await db.schema.createIndex("tx_journal_by_state").on("tx_journal").column("state").execute();
      // Registered receivables used to stay "confirming" forever: move them out.
      await sql`update receivables set status = 'registered'
                where status = 'confirming' and id in (select id from onchain_receivables)`.execute(db);
    },
  },
  "0009_exposure_indexes": {
    async up(db: Kysely<any>) {
      // Every limit check (each confirmation, each financing opening) and each risk score
      // reads one party's side of the book; without these it scanned the whole tables.
      const index = (name: string, table: string, columns: string[]) =>
        db.schema.createIndex(name).on(table).columns(columns).execute();
      await index("onchain_receivables_by_debtor", "onchain_receivables", ["debtor", "status"]);
      await index("onchain_receivables_by_seller", "onchain_receivables", ["seller", "status"]);
      await index("receivables_by_debtor", "receivables", ["debtor_id", "status"]);
      await index("receivables_by_seller", "receivables", ["seller_id", "status"]);
      await index("financing_by_holder", "onchain_financing_requests", ["holder", "status"]);
    },
  },
  "0010_party_aliases": {
    async up(db: Kysely<any>) {
      // Who let a further address join a legal id (PartyAliasAdded): the existing address that
      // consented, or the timelock. Null for the first address of a legal id. An index column,
      // refilled from events by a reindex.
      await db.schema.alterTable("onchain_parties").addColumn("alias_approved_by", "text").execute();
    },
  },
  "0011_lists_and_webhooks": {
    async up(db: Kysely<any>) {
      // Every list is a keyset page read from one index range (server/store/paginate.ts):
      // the filter columns first, then the list's order (test/server/store/list-query-plans.test.ts).
      const index = (name: string, table: string, columns: string[]) =>
        db.schema.createIndex(name).on(table).columns(columns).execute();
      await index("receivables_by_seller_created", "receivables", ["seller_id", "created_at", "id"]);
      await index("receivables_by_debtor_created", "receivables", ["debtor_id", "created_at", "id"]);
      await index("receivables_by_status_created", "receivables", ["status", "created_at", "id"]);
      await index("receivables_by_created", "receivables", ["created_at", "id"]);
      await index("onchain_receivables_by_status", "onchain_receivables", ["status", "registered_block", "id"]);
      await index("parties_by_status_id", "parties", ["status", "id"]);
      await index("certificates_by_holder_issued", "onchain_certificates", ["holder", "issued_block", "id"]);
      await index("financing_by_status_opened", "onchain_financing_requests", ["status", "opened_block", "id"]);
      await index("financing_by_holder_opened", "onchain_financing_requests", ["holder", "opened_block", "id"]);
      await index("financing_by_financier_opened", "onchain_financing_requests", ["financier", "opened_block", "id"]);
      await index("financing_by_opened", "onchain_financing_requests", ["opened_block", "id"]);
      await index("chain_events_by_name_position", "chain_events", ["contract", "name", "block_number", "log_index"]);

      // Webhooks (docs in README "Webhooks"): endpoints per party; the outbox, written in the
      // same transaction as the change it reports; one delivery per (event, endpoint); every
      // attempt logged.
      await db.schema
        .createTable("webhook_endpoints")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("party_id", "text", (c) => c.notNull().references("parties.id"))
        .addColumn("url", "text", (c) => c.notNull())
        .addColumn("description", "text", (c) => c.notNull())
        .addColumn("event_types", "text") // JSON array; null: every type
        .addColumn("secret", "text", (c) => c.notNull()) // encrypted by the key vault
        .addColumn("status", "text", (c) => c.notNull()) // active | deleted
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("deleted_at", "text")
        .execute();
      await index("webhook_endpoints_by_party", "webhook_endpoints", ["party_id", "status", "created_at", "id"]);
      await serialId(db, db.schema.createTable("webhook_outbox"), "seq")
        .addColumn("id", "text", (c) => c.notNull().unique()) // the webhook-id: stable across retries
        .addColumn("type", "text", (c) => c.notNull())
        .addColumn("payload", "text", (c) => c.notNull()) // JSON: { type, timestamp, data }
        .addColumn("party_ids", "text", (c) => c.notNull()) // JSON: the parties it concerns
        .addColumn("fanned_out", "integer", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .execute();
      await index("webhook_outbox_pending", "webhook_outbox", ["fanned_out", "seq"]);
      await serialId(db, db.schema.createTable("webhook_deliveries"))
        .addColumn("event_id", "text", (c) => c.notNull())
        .addColumn("endpoint_id", "text", (c) => c.notNull())
        .addColumn("state", "text", (c) => c.notNull()) // pending | delivered | failed
        .addColumn("attempts", "integer", (c) => c.notNull())
        .addColumn("next_attempt_at", int64(db), (c) => c.notNull()) // unix ms: past 2^31
        .addColumn("last_status", "integer")
        .addColumn("last_error", "text")
        .addColumn("delivered_at", "text")
        .addColumn("created_at", "text", (c) => c.notNull())
        .addUniqueConstraint("webhook_deliveries_once", ["event_id", "endpoint_id"])
        .execute();
      await index("webhook_deliveries_due", "webhook_deliveries", ["state", "next_attempt_at", "id"]);
      await index("webhook_deliveries_by_endpoint", "webhook_deliveries", ["endpoint_id", "id"]);
      await serialId(db, db.schema.createTable("webhook_attempts"))
        .addColumn("delivery_id", int64(db), (c) => c.notNull())
        .addColumn("attempt", "integer", (c) => c.notNull())
        .addColumn("at", "text", (c) => c.notNull())
        .addColumn("status_code", "integer")
        .addColumn("error", "text")
        .addColumn("duration_ms", "integer", (c) => c.notNull())
        .execute();
      await index("webhook_attempts_by_delivery", "webhook_attempts", ["delivery_id", "id"]);
    },
  },
  "0012_events_by_receivable": {
    async up(db: Kysely<any>) {
      // A receivable's repayments are read page by page from its own events: the receivable
      // an event is about becomes a column (filled by the indexer from now on, and here from
      // the stored arguments), indexed with the event's position.
      await db.schema.alterTable("chain_events").addColumn("receivable_id", "text").execute();
      if (onPostgres(db))
        await sql`update chain_events set receivable_id = args::json->>'receivableId'
                  where args::json->>'receivableId' is not null`.execute(db);
      else
        await sql`update chain_events set receivable_id = json_extract(args, '$.receivableId')
                  where json_extract(args, '$.receivableId') is not null`.execute(db);
      await db.schema
        .createIndex("chain_events_by_receivable")
        .on("chain_events")
        .columns(["receivable_id", "contract", "name", "block_number", "log_index"])
        .execute();
    },
  },
  "0013_party_holding": {
    async up(db: Kysely<any>) {
      // Whether a party may receive certificates (PartyHoldingChanged: set at registration and by
      // the party manager). An index column, refilled from events by a reindex; null until the
      // event is seen.
      await db.schema.alterTable("onchain_parties").addColumn("may_hold", "integer").execute();
    },
  },
  "0014_dilution_and_recourse": {
    async up(db: Kysely<any>) {
      // Issue 16's index: disputes, credit notes and each leaf's cut (DilutionLedger), the
      // registry's credited amount, endorsements and claims (RecourseLedger). All index tables,
      // emptied and refilled from events by a reindex.
      await db.schema
        .alterTable("onchain_receivables")
        .addColumn("credited", "text", (c) => c.notNull().defaultTo("0"))
        .execute();
      await db.schema
        .alterTable("onchain_certificates")
        .addColumn("reduction", "text", (c) => c.notNull().defaultTo("0"))
        .execute();
      await db.schema
        .createTable("onchain_disputes")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("receivable_id", "text", (c) => c.notNull())
        .addColumn("debtor", "text", (c) => c.notNull())
        .addColumn("reason_code", "text", (c) => c.notNull())
        .addColumn("document_hash", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("credit_note_id", "text")
        .addColumn("opened_tx_hash", "text", (c) => c.notNull())
        .addColumn("opened_block", int64(db), (c) => c.notNull())
        .addColumn("closed_tx_hash", "text")
        .execute();
      await db.schema
        .createIndex("disputes_by_receivable")
        .on("onchain_disputes")
        .columns(["receivable_id", "status"])
        .execute();
      await db.schema
        .createTable("onchain_credit_notes")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("receivable_id", "text", (c) => c.notNull())
        .addColumn("amount", "text", (c) => c.notNull())
        .addColumn("reason_code", "text", (c) => c.notNull())
        .addColumn("document_hash", "text", (c) => c.notNull())
        .addColumn("seller_respond_by", int64(db), (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("approved_by", "text")
        .addColumn("retained_reduction", "text")
        .addColumn("shared_reduction", "text")
        .addColumn("proposed_tx_hash", "text", (c) => c.notNull())
        .addColumn("proposed_block", int64(db), (c) => c.notNull())
        .addColumn("closed_tx_hash", "text")
        .execute();
      await db.schema
        .createIndex("credit_notes_by_receivable")
        .on("onchain_credit_notes")
        .columns(["receivable_id", "status"])
        .execute();
      await db.schema
        .createTable("onchain_leaf_reductions")
        .addColumn("credit_note_id", "text", (c) => c.notNull())
        .addColumn("certificate_id", "text", (c) => c.notNull())
        .addColumn("receivable_id", "text", (c) => c.notNull())
        .addColumn("holder", "text", (c) => c.notNull())
        .addColumn("reduction", "text", (c) => c.notNull())
        .addColumn("claim", "text", (c) => c.notNull())
        .addColumn("retained", "integer", (c) => c.notNull())
        .addColumn("tx_hash", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("leaf_reductions_pk", ["credit_note_id", "certificate_id"])
        .execute();
      await db.schema
        .createIndex("leaf_reductions_by_certificate")
        .on("onchain_leaf_reductions")
        .column("certificate_id")
        .execute();
      await db.schema
        .createTable("onchain_recourse_endorsements")
        .addColumn("certificate_id", "text", (c) => c.notNull())
        .addColumn("endorsement_index", "integer", (c) => c.notNull())
        .addColumn("endorser", "text", (c) => c.notNull())
        .addColumn("tx_hash", "text", (c) => c.notNull())
        .addColumn("block_number", int64(db), (c) => c.notNull())
        .addPrimaryKeyConstraint("recourse_endorsements_pk", ["certificate_id", "endorsement_index"])
        .execute();
      await db.schema
        .createTable("onchain_recourse_claims")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("leaf_id", "text", (c) => c.notNull())
        .addColumn("receivable_id", "text")
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("creditor", "text", (c) => c.notNull())
        .addColumn("guarantor", "text", (c) => c.notNull())
        .addColumn("guarantor_certificate_id", "text", (c) => c.notNull())
        .addColumn("endorsement_index", "integer", (c) => c.notNull())
        .addColumn("amount", "text", (c) => c.notNull())
        .addColumn("parent_claim_id", "text")
        .addColumn("opened_tx_hash", "text", (c) => c.notNull())
        .addColumn("opened_block", int64(db), (c) => c.notNull())
        .addColumn("paid_tx_hash", "text")
        .addColumn("paid_by", "text")
        .execute();
      await db.schema
        .createIndex("recourse_claims_by_guarantor")
        .on("onchain_recourse_claims")
        .columns(["guarantor", "status"])
        .execute();
      await db.schema
        .createIndex("recourse_claims_by_receivable")
        .on("onchain_recourse_claims")
        .column("receivable_id")
        .execute();
    },
  },
  "0015_credit_note_arbitration": {
    async up(db: Kysely<any>) {
      // Issue 16, the arbiter path: the operator's recommendation on a credit note the seller
      // left unanswered, and the timelock proposal the governor signs for it. The service's
      // own record (not an index table): a reindex keeps it.
      await db.schema
        .createTable("credit_note_arbitrations")
        .addColumn("credit_note_id", "text", (c) => c.primaryKey())
        .addColumn("receivable_id", "text", (c) => c.notNull())
        .addColumn("decision", "text", (c) => c.notNull())
        .addColumn("reason", "text", (c) => c.notNull())
        .addColumn("recommended_by", "text", (c) => c.notNull())
        .addColumn("recommended_at", "text", (c) => c.notNull())
        .addColumn("timelock", "text", (c) => c.notNull())
        .addColumn("target", "text", (c) => c.notNull())
        .addColumn("value", "text", (c) => c.notNull())
        .addColumn("data", "text", (c) => c.notNull())
        .addColumn("predecessor", "text", (c) => c.notNull())
        .addColumn("salt", "text", (c) => c.notNull())
        .addColumn("delay", "text", (c) => c.notNull())
        .addColumn("operation_id", "text", (c) => c.notNull())
        .execute();
      // The review queue reads proposed notes whose response period has passed, oldest first:
      // one index range, not a scan of every note.
      await db.schema
        .createIndex("credit_notes_awaiting_arbiter")
        .on("onchain_credit_notes")
        .columns(["status", "seller_respond_by", "id"])
        .execute();
    },
  },
  "0016_pledge_shortfalls_and_open_claims": {
    async up(db: Kysely<any>) {
      // Issue 16, the risk side. `PledgeCollateralShortfall` (DilutionLedger): a credit note left a
      // pledged leaf's claim below what its pledgee is owed. One row per event, an index table
      // emptied and refilled by a reindex; the views read the live gap from the pledge and the leaf.
      await db.schema
        .createTable("onchain_pledge_shortfalls")
        .addColumn("block_number", int64(db), (c) => c.notNull())
        .addColumn("log_index", "integer", (c) => c.notNull())
        .addColumn("certificate_id", "text", (c) => c.notNull())
        .addColumn("request_id", "text", (c) => c.notNull())
        .addColumn("pledgee", "text", (c) => c.notNull())
        .addColumn("outstanding", "text", (c) => c.notNull())
        .addColumn("claim", "text", (c) => c.notNull())
        .addColumn("tx_hash", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("pledge_shortfalls_pk", ["block_number", "log_index"])
        .execute();
      await db.schema
        .createIndex("pledge_shortfalls_by_certificate")
        .on("onchain_pledge_shortfalls")
        .column("certificate_id")
        .execute();
      // Events journaled before this migration: the same rows the projection writes (and a reindex).
      const journaled = await db
        .selectFrom("chain_events")
        .select(["block_number", "log_index", "tx_hash", "args"])
        .where("contract", "=", "dilution")
        .where("name", "=", "PledgeCollateralShortfall")
        .execute();
      for (const event of journaled) {
        const a = JSON.parse(event.args) as Record<string, string>;
        await db
          .insertInto("onchain_pledge_shortfalls")
          .values({
            block_number: event.block_number,
            log_index: event.log_index,
            certificate_id: a.certificateId,
            request_id: a.requestId,
            pledgee: getAddress(a.pledgee!),
            outstanding: a.outstanding,
            claim: a.claim,
            tx_hash: event.tx_hash,
          })
          .execute();
      }
      // The stress test reads every open recourse claim (debts of guarantors): by status, not by scan.
      await db.schema
        .createIndex("recourse_claims_by_status")
        .on("onchain_recourse_claims")
        .columns(["status", "guarantor"])
        .execute();
    },
  },
  "0017_events_by_piece": {
    async up(db: Kysely<any>) {
      // The auditor's trace reads a receivable's events by chain_events_by_receivable (issue 12:
      // no scan of every event since the registration). Events that name a piece of the tree
      // (a certificate, a financing request, a recourse claim) rather than the receivable are
      // attributed from now on by the indexer, and here for those journaled before.
      let after = { block: -1, log: -1 };
      for (;;) {
        const rows = await db
          .selectFrom("chain_events")
          .select(["block_number", "log_index", "contract", "args"])
          .where("receivable_id", "is", null)
          .where("contract", "in", ["certificates", "financing", "dilution", "recourse"])
          .where((eb) =>
            eb.or([
              eb("block_number", ">", after.block),
              eb.and([eb("block_number", "=", after.block), eb("log_index", ">", after.log)]),
            ]),
          )
          .orderBy("block_number")
          .orderBy("log_index")
          .limit(2_000)
          .execute();
        if (rows.length === 0) break;
        await attributeEvents(
          db,
          rows.map((row) => ({
            blockNumber: Number(row.block_number),
            logIndex: Number(row.log_index),
            contract: row.contract as string,
            args: JSON.parse(row.args as string) as Record<string, unknown>,
          })),
        );
        const last = rows.at(-1)!;
        after = { block: Number(last.block_number), log: Number(last.log_index) };
      }
    },
  },
  "0018_dispute_dismissal": {
    async up(db: Kysely<any>) {
      // Issue 16, the arbiter's dismissal of a dispute: the operator's recommendation and the
      // timelock proposal the governor signs for it, one row per dispute (a debtor may open a
      // new dispute after one is dismissed). The service's own record: a reindex keeps it.
      let table = db.schema.createTable("dispute_dismissals").addColumn("dispute_id", "text", (c) => c.primaryKey());
      for (const column of [
        "receivable_id",
        "reason",
        "recommended_by",
        "recommended_at",
        "timelock",
        "target",
        "value",
        "data",
        "predecessor",
        "salt",
        "delay",
        "operation_id",
      ])
        table = table.addColumn(column, "text", (c) => c.notNull());
      await table.execute();
      // The review queue reads the disputes in one status, oldest first: one index range.
      await db.schema
        .createIndex("disputes_by_status")
        .on("onchain_disputes")
        .columns(["status", "opened_block", "id"])
        .execute();
    },
  },
  "0019_party_history_changes": {
    async up(db: Kysely<any>) {
      // Issue 12: the risk history of a party that owes the whole book was read in full for
      // every limit check (0.12 s at 25,000 receivables). SQLite's triggers log which of a
      // party's receivables changed what the risk model reads, so a kept history reloads only
      // those (risk/history-rows.ts). SQLite has one writer at a time, so `seq` grows in
      // commit order and a reader that has seen seq N has seen every change before it.
      // PostgreSQL numbers concurrent transactions out of commit order: no triggers there,
      // its histories are read in full (the table stays empty).
      await serialId(db, db.schema.createTable("party_history_changes"), "seq")
        .addColumn("party_id", "text", (c) => c.notNull())
        .addColumn("receivable_id", "text", (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("party_history_changes_by_party")
        .on("party_history_changes")
        .columns(["party_id", "seq"])
        .execute();
      if (onPostgres(db)) return;
      const log = (rows: string) =>
        `insert into party_history_changes (party_id, receivable_id) select party_id, receivable_id from (${rows}) where party_id is not null;`;
      const submitted = (row: "new" | "old") =>
        `select ${row}.seller_id as party_id, ${row}.id as receivable_id union select ${row}.debtor_id, ${row}.id`;
      const owed = (row: "new" | "old") =>
        `select p.id as party_id, ${row}.id as receivable_id from parties p where p.address = ${row}.debtor`;
      // Only a new value in a column risk/history-rows.ts reads: a change to anything else, or
      // an update that writes the same value again (a lock, a replayed event), leaves the history as it was.
      const SUBMITTED_COLUMNS = ["seller_id", "debtor_id", "face_value", "status", "document_hash"];
      const OWED_COLUMNS = ["debtor", "face_value", "repaid_amount", "due_date", "status"];
      const changed = (columns: string[]) => `when ${columns.map((c) => `old.${c} is not new.${c}`).join(" or ")}`;
      const triggers = {
        receivables_history_insert: `after insert on receivables begin ${log(submitted("new"))} end`,
        receivables_history_update: `after update on receivables ${changed(SUBMITTED_COLUMNS)} begin ${log(`${submitted("old")} union ${submitted("new")}`)} end`,
        receivables_history_delete: `after delete on receivables begin ${log(submitted("old"))} end`,
        onchain_history_insert: `after insert on onchain_receivables begin ${log(owed("new"))} end`,
        onchain_history_update: `after update on onchain_receivables ${changed(OWED_COLUMNS)} begin ${log(`${owed("old")} union ${owed("new")}`)} end`,
        onchain_history_delete: `after delete on onchain_receivables begin ${log(owed("old"))} end`,
      };
      for (const [name, body] of Object.entries(triggers)) await sql.raw(`create trigger ${name} ${body}`).execute(db);
    },
  },
  "0020_dispute_numbers": {
    async up(db: Kysely<any>) {
      // A dismissal scheduled for one dispute must not close a later one on the same receivable:
      // DilutionLedger numbers each receivable's disputes (DisputeOpened's disputeNumber) and
      // dismissDispute names the number. Rows indexed before carry their position in opening
      // order, which is the number the ledger gave them.
      await db.schema
        .alterTable("onchain_disputes")
        .addColumn("dispute_number", "integer", (c) => c.notNull().defaultTo(0))
        .execute();
      const rows = await db.selectFrom("onchain_disputes").select(["id", "receivable_id"]).execute();
      const position = (id: string) => id.split(":").map(Number) as [number, number];
      rows.sort((a, b) => {
        const [blockA, logA] = position(a.id);
        const [blockB, logB] = position(b.id);
        return blockA - blockB || logA - logB;
      });
      const counts = new Map<string, number>();
      for (const row of rows) {
        const number = (counts.get(row.receivable_id) ?? 0) + 1;
        counts.set(row.receivable_id, number);
        await db.updateTable("onchain_disputes").set({ dispute_number: number }).where("id", "=", row.id).execute();
      }
    },
  },
  "0021_receivables_by_pair_created": {
    async up(db: Kysely<any>) {
      // The fraud signals read one seller's receivables on one debtor in order of submission
      // (earlier face values, submissions in the brushing window). With no index on both
      // parties and the time, SQLite walked receivables_by_debtor_created: every receivable of
      // the debtor, 8 ms a read at 25,000 for a core enterprise (issue 12's growth bench).
      await db.schema
        .createIndex("receivables_by_pair_created")
        .on("receivables")
        .columns(["seller_id", "debtor_id", "created_at"])
        .execute();
    },
  },
  "0022_party_owed": {
    async up(db: Kysely<any>) {
      // Issue 12: every confirmation's limit check summed what its debtor still owes over the
      // debtor's receivables, inside the transaction that holds the write lock (7 ms at 25,000
      // receivables on one debtor, 47 ms at 100,000). Triggers now keep that sum per party and
      // side, so the check reads one row (risk/exposure.ts).
      await db.schema
        .createTable("party_owed")
        .addColumn("address", "text", (c) => c.notNull())
        .addColumn("side", "text", (c) => c.notNull()) // debtor | seller
        .addColumn("owed", onPostgres(db) ? "numeric" : "integer", (c) => c.notNull())
        .addColumn("wide", "integer", (c) => c.notNull())
        .addPrimaryKeyConstraint("party_owed_pk", ["address", "side"])
        .execute();
      await trackPartyOwed(db, onPostgres(db) ? "postgres" : "sqlite");
    },
  },
  "0023_party_history_changes_on_postgres": {
    async up(db: Kysely<any>) {
      // Issue 12: on PostgreSQL every limit check read the risk history of the debtor that owes
      // the whole book in full (0.11 s at 25,000). The change log of 0019 now fills there too,
      // each change stamped with its transaction's id: a reader takes the ids below its
      // snapshot's xmin as settled and reads the later ones again (risk/history-rows.ts).
      if (!onPostgres(db)) return;
      await db.schema.alterTable("party_history_changes").addColumn("xid", "bigint").execute();
      await db.schema
        .createIndex("party_history_changes_by_party_xid")
        .on("party_history_changes")
        .columns(["party_id", "xid"])
        .execute();
      await logPartyHistoryChangesOnPostgres(db);
    },
  },
  "0024_party_relations": {
    async up(db: Kysely<any>) {
      // Issue 12: each rescore found the counterparties that name the party as related by
      // reading every counterparty's related_party_ids (a core enterprise's thousands of
      // suppliers, at every confirmation). Triggers keep the lists as rows, so the parties that
      // name one party are one indexed read (risk/history.ts relatedPartiesOf).
      await db.schema
        .createTable("party_relations")
        .addColumn("party_id", "text", (c) => c.notNull())
        .addColumn("related_id", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("party_relations_pk", ["party_id", "related_id"])
        .execute();
      await db.schema
        .createIndex("party_relations_by_related")
        .on("party_relations")
        .columns(["related_id", "party_id"])
        .execute();
      await keepPartyRelations(db, onPostgres(db) ? "postgres" : "sqlite");
    },
  },
  "0025_exposure_owes_by_due_date": {
    async up(db: Kysely<any>) {
      // Issue 12: the receivables a debtor owes are paged soonest due first
      // (domain/audit/exposure-lists.ts); each page is one range of this index.
      await db.schema
        .createIndex("onchain_receivables_by_debtor_due")
        .on("onchain_receivables")
        .columns(["debtor", "due_date", "id"])
        .execute();
    },
  },
  "0026_party_sums": {
    async up(db: Kysely<any>) {
      // Issue 12: two limit checks read a party's whole history inside the transaction that
      // holds the write lock. Opening a financing request read every request the holder ever
      // opened (a sold one stays sold after settlement); a confirmation's supplier check read
      // every certificate the supplier ever held, for what it is owed at tier 2 and deeper,
      // and every live pledge of it, for their collateral shortfalls. Triggers now keep those
      // sums per party and kind (store/party-financed-triggers.ts, party-tiers-triggers.ts,
      // party-shortfall-triggers.ts), so each check reads its rows (risk/exposure.ts).
      await db.schema
        .createTable("party_sums")
        .addColumn("address", "text", (c) => c.notNull())
        .addColumn("kind", "text", (c) => c.notNull()) // financing_open | financing_pledged | financing_sold | through_tiers | pledge_shortfall
        .addColumn("amount", onPostgres(db) ? "numeric" : "integer", (c) => c.notNull())
        .addColumn("wide", "integer", (c) => c.notNull())
        .addPrimaryKeyConstraint("party_sums_pk", ["address", "kind"])
        .execute();
      await trackPartyFinanced(db, onPostgres(db) ? "postgres" : "sqlite");
      await trackPartyTiers(db, onPostgres(db) ? "postgres" : "sqlite");
      await trackPartyShortfall(db, onPostgres(db) ? "postgres" : "sqlite");
    },
  },
  "0027_party_owes_by_due": {
    async up(db: Kysely<any>) {
      // Issue 12: the exposure report summed, bucketed and counted every receivable its debtor
      // owes. Triggers keep what it owes per due date (store/party-owes-by-due-triggers.ts):
      // the report reads a row per distinct due date (domain/audit/exposure.ts).
      await db.schema
        .createTable("party_owes_by_due")
        .addColumn("address", "text", (c) => c.notNull())
        .addColumn("due_date", int64(db), (c) => c.notNull())
        .addColumn("amount", onPostgres(db) ? "numeric" : "integer", (c) => c.notNull())
        .addColumn("count", "integer", (c) => c.notNull())
        .addColumn("wide", "integer", (c) => c.notNull())
        .addPrimaryKeyConstraint("party_owes_by_due_pk", ["address", "due_date"])
        .execute();
      await trackOwesByDue(db, onPostgres(db) ? "postgres" : "sqlite");
    },
  },
  "0028_request_path_indexes": {
    async up(db: Kysely<any>) {
      // Issue 12: request paths that read a whole table, found by explaining every statement
      // the API tests run (test/server/store/request-path-scans.test.ts):
      // - a split's answer read its children by parent: every certificate;
      // - a party's recourse claims (creditor or guarantor) and the audit's claims on a tree's
      //   leaves: every claim, since only the guarantor had an index;
      // - the trace's and verify's credit-note cuts of a receivable: every cut;
      // - the retry of an interrupted attempt looked for what it had sent: the whole journal;
      // - GET /metrics counted the whole journal by kind and state: triggers keep the counts
      //   (store/tx-journal-count-triggers.ts).
      const index = (name: string, table: string, columns: string[]) =>
        db.schema.createIndex(name).on(table).columns(columns).execute();
      await index("certificates_by_parent", "onchain_certificates", ["parent_id"]);
      await index("recourse_claims_by_creditor", "onchain_recourse_claims", ["creditor"]);
      await index("recourse_claims_by_leaf", "onchain_recourse_claims", ["leaf_id"]);
      await index("leaf_reductions_by_receivable", "onchain_leaf_reductions", ["receivable_id"]);
      await index("tx_journal_by_ref", "tx_journal", ["kind", "ref"]);
      // - setting an industry's risk index counted its parties by reading every party: each
      //   party now carries its industry's key (computed in JavaScript: SQL has no NFKC).
      await db.schema.alterTable("parties").addColumn("industry_key", "text").execute();
      for (const party of await db.selectFrom("parties").select(["id", "industry"]).execute())
        await db
          .updateTable("parties")
          .set({ industry_key: industryKey(party.industry) })
          .where("id", "=", party.id)
          .execute();
      await index("parties_by_industry_key", "parties", ["industry_key"]);
      await db.schema
        .createTable("tx_journal_counts")
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("count", "integer", (c) => c.notNull())
        .addPrimaryKeyConstraint("tx_journal_counts_pk", ["kind", "state"])
        .execute();
      await trackJournalCounts(db, onPostgres(db) ? "postgres" : "sqlite");
    },
  },
  "0029_settlement_candidates": {
    async up(db: Kysely<any>) {
      // Issue 12: every keeper pass looked for receivables to settle by reading every repaid
      // receivable and every certificate (47 ms at 100,000 receivables, each 2 s). It now reads
      // what is pending only: the receivables whose repayments are not all distributed (a
      // partial index), and the repaid ones with leaves still open, kept by triggers in
      // receivable_open_leaves (store/open-leaves-triggers.ts).
      await sql`create index onchain_receivables_undistributed on onchain_receivables (registered_block, id)
                where repaid_amount <> distributed`.execute(db);
      await db.schema
        .createTable("receivable_open_leaves")
        .addColumn("receivable_id", "text", (c) => c.primaryKey())
        .addColumn("open_leaves", "integer", (c) => c.notNull())
        .addColumn("repaid", "integer", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("open_leaves_by_repaid").on("receivable_open_leaves").column("repaid").execute();
      // The same pass's overdue and default marks read every active receivable and kept those
      // past due; by status and due date they read only those past due.
      await db.schema
        .createIndex("onchain_receivables_by_status_due")
        .on("onchain_receivables")
        .columns(["status", "due_date"])
        .execute();
      await trackOpenLeaves(db, onPostgres(db) ? "postgres" : "sqlite");
    },
  },
  "0030_idempotency_first_attempt": {
    async up(db: Kysely<any>) {
      // When a key's first attempt began. A retry that takes an interrupted key over restarts
      // created_at (it owns the key from then on), so a second retry searched the transaction
      // journal from the first retry's start only, missed the first attempt's payment and paid
      // again. The journal is searched from here instead. Rows from before stay null: their
      // created_at may already be a takeover's, so a retry of one unfinished is refused
      // (IDEMPOTENCY_KEY_PREDATES_UPGRADE) rather than risk sending its transaction again.
      await db.schema.alterTable("idempotency").addColumn("first_started_at", "text").execute();
    },
  },
};
