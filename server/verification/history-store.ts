// The verification rules' view of the past, answered from the database (and, for the
// exact duplicate, from the on-chain registry shared with other platforms).
import { sql } from "kysely";
import type { Db } from "../store/database.js";
import type { VerificationHistory } from "./types.js";
import type { ChainClient } from "../chain/chain-client.js";
import type { ReceivableSubmission } from "../model/receivable-schema.js";
import type { SubmissionStatus } from "../model/row-statuses.js";

/** Submissions that hold their identity, order capacity and delivery: not rejected, declined or withdrawn. */
export const LIVE: SubmissionStatus[] = ["held_for_review", "awaiting_confirmation", "confirming", "registered"];

export function verificationHistory(db: Db, chain: ChainClient): VerificationHistory {
  return {
    async invoicedAgainstOrder(sellerId, debtorId, poNumberCanonical, excludeReceivableId) {
      const rows = await db
        .selectFrom("receivables")
        .select("net_value")
        .where("seller_id", "=", sellerId)
        .where("debtor_id", "=", debtorId)
        .where("po_number_canonical", "=", poNumberCanonical)
        .where("status", "in", LIVE)
        .where("id", "!=", excludeReceivableId)
        .execute();
      return rows.reduce((sum, row) => sum + BigInt(row.net_value), 0n);
    },
    async sameOrderSameAmount(sellerId, debtorId, poNumberCanonical, faceValue, excludeInvoiceNormalized) {
      const rows = await db
        .selectFrom("receivables")
        .select("id")
        .where("seller_id", "=", sellerId)
        .where("debtor_id", "=", debtorId)
        .where("po_number_canonical", "=", poNumberCanonical)
        .where("face_value", "=", faceValue.toString())
        .where("invoice_number_canonical", "!=", excludeInvoiceNormalized)
        .where("status", "in", LIVE)
        .execute();
      return rows.map((row) => row.id);
    },
    async claimsOnDelivery(deliveryKey, excludeReceivableId) {
      const rows = await db
        .selectFrom("receivables")
        .select(["id", "seller_id", "documents"])
        .where("delivery_key", "=", deliveryKey)
        .where("status", "in", LIVE)
        .where("id", "!=", excludeReceivableId)
        .orderBy("created_at")
        .execute();
      return rows.map((row) => {
        const documents = JSON.parse(row.documents) as ReceivableSubmission;
        return {
          receivableId: row.id,
          sellerId: row.seller_id,
          received: documents.delivery.lines,
          invoiced: documents.invoice.lines.map(({ sku, quantity }) => ({ sku, quantity })),
        };
      });
    },
    async previousFaceValues(sellerId, debtorId) {
      const rows = await db
        .selectFrom("receivables")
        .select("face_value")
        .where("seller_id", "=", sellerId)
        .where("debtor_id", "=", debtorId)
        .where("status", "in", LIVE)
        .orderBy("created_at")
        .execute();
      return rows.map((row) => BigInt(row.face_value));
    },
    async tradeEdgesFrom(partyId, maxDepth) {
      // Walk out from the party, one seller at a time through receivables_by_seller
      // (seller_id, status); UNION (not UNION ALL) and the depth bound keep the walk finite.
      const live = sql.join(LIVE);
      const { rows } = await sql<{ seller_id: string; debtor_id: string }>`
        with recursive reach(party, depth) as (
          select cast(${partyId} as text), 0
          union
          select receivables.debtor_id, reach.depth + 1
            from reach join receivables on receivables.seller_id = reach.party
           where receivables.status in (${live}) and reach.depth + 1 < ${maxDepth}
        )
        select distinct receivables.seller_id, receivables.debtor_id
          from receivables
         where receivables.seller_id in (select party from reach) and receivables.status in (${live})`.execute(db);
      return rows.map((row) => ({ sellerId: row.seller_id, debtorId: row.debtor_id }));
    },
    async recentSubmissions(sellerId, debtorId, since) {
      const rows = await db
        .selectFrom("receivables")
        .select(["face_value", "created_at"])
        .where("seller_id", "=", sellerId)
        .where("debtor_id", "=", debtorId)
        .where("created_at", ">=", since.toISOString())
        .execute();
      return rows.map((row) => ({ faceValue: BigInt(row.face_value), createdAt: new Date(row.created_at) }));
    },
    async registeredOnChain(receivableId) {
      const status = await chain.contracts.registry.statusOf(receivableId);
      return Number(status) !== 0;
    },
  };
}
