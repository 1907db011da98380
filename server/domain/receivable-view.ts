// What GET /v1/receivables/:id answers: the off-chain submission joined with what the
// chain says (status, repayments, root certificate, transaction hashes).
import { z } from "zod";
import type { ServiceContext } from "../context.js";
import { notFound } from "../model/errors.js";
import { findPartyByAddress } from "../store/parties-store.js";
import type { Actor } from "../model/actor.js";
import { decide, redactFields, requireAccess } from "../model/access-policy.js";
import { ReceivableRelations } from "../store/access-relations.js";

export const ReceivableViewSchema = z
  .object({
    id: z.string(),
    status: z.enum([
      "held_for_review",
      "awaiting_confirmation",
      "confirming",
      "rejected",
      "declined",
      "withdrawn",
      "active",
      "overdue",
      "defaulted",
      "repaid",
    ]),
    sellerId: z.string(),
    debtorId: z.string(),
    invoiceNumber: z.string(),
    purchaseOrderNumber: z.string(),
    currency: z.string(),
    faceValue: z.string(),
    repaidAmount: z.string(),
    creditedAmount: z
      .string()
      .meta({ description: "Credit notes applied to it (returns, short deliveries, rebates): face value less owed" }),
    owedAmount: z.string().meta({ description: "What the debtor owes: face value less credited" }),
    dueDate: z.string(),
    documentHash: z.string(),
    rootCertificateId: z.string().nullable(),
    txHashes: z.object({ register: z.string().nullable() }),
    registeredBlock: z.number().nullable(),
    verification: z.unknown(),
    documents: z
      .unknown()
      .optional()
      .meta({ description: "Only for the seller, the debtor, the operator and auditors" }),
    createdAt: z.string(),
    closed: z
      .object({ action: z.string(), by: z.string(), at: z.string(), reason: z.string().nullable() })
      .optional()
      .meta({ description: "Who declined or withdrew the submission, when and why" }),
    earlierAttempts: z
      .array(z.object({ status: z.string(), closedAt: z.string(), archivedAt: z.string(), documentHash: z.string() }))
      .optional()
      .meta({
        description:
          "Submissions of this identity that were rejected, declined or withdrawn before this one (parties only)",
      }),
  })
  .meta({ id: "Receivable" });

export type ReceivableView = z.infer<typeof ReceivableViewSchema>;

export async function getReceivableView(
  ctx: ServiceContext,
  actor: Actor,
  receivableId: string,
): Promise<ReceivableView> {
  const row = await ctx.db.selectFrom("receivables").selectAll().where("id", "=", receivableId).executeTakeFirst();
  if (!row) throw notFound("Receivable", receivableId);
  // The access policy decides: the receivable itself, its documents, its verification report.
  const relations = (await ReceivableRelations.load(ctx.db, actor, receivableId)).toReceivable();
  const subject = `receivable ${receivableId}`;
  const receivableAccess = requireAccess("receivable", relations, subject);
  const documentsAccess = decide("documents", relations);
  const verificationAccess = decide("verificationReport", relations);
  const chain = await ctx.db
    .selectFrom("onchain_receivables")
    .selectAll()
    .where("id", "=", receivableId)
    .executeTakeFirst();
  const view: ReceivableView = {
    id: row.id,
    status: (chain?.status ?? (row.status === "registered" ? "active" : row.status)) as ReceivableView["status"],
    sellerId: row.seller_id,
    debtorId: row.debtor_id,
    invoiceNumber: row.invoice_number,
    purchaseOrderNumber: row.po_number,
    currency: row.currency,
    faceValue: row.face_value,
    repaidAmount: chain?.repaid_amount ?? "0",
    creditedAmount: chain?.credited ?? "0",
    owedAmount: (BigInt(row.face_value) - BigInt(chain?.credited ?? "0")).toString(),
    dueDate: new Date(row.due_date * 1000).toISOString(),
    documentHash: row.document_hash,
    rootCertificateId: chain?.root_certificate_id ?? null,
    txHashes: { register: chain?.register_tx_hash ?? null },
    registeredBlock: chain?.registered_block ?? null,
    verification:
      verificationAccess.access === "denied"
        ? null
        : redactFields(JSON.parse(row.verification) as unknown, verificationAccess),
    ...(documentsAccess.access === "denied"
      ? {}
      : { documents: redactFields(JSON.parse(row.documents) as unknown, documentsAccess) }),
    createdAt: row.created_at,
    ...(row.closed ? { closed: JSON.parse(row.closed) } : {}),
    ...(await earlierAttempts(ctx, receivableId)),
  };
  return redactFields(view, receivableAccess);
}

/** The closed submissions this identity had before, oldest first; nothing when there were none. */
async function earlierAttempts(
  ctx: ServiceContext,
  receivableId: string,
): Promise<{ earlierAttempts?: NonNullable<ReceivableView["earlierAttempts"]> }> {
  const rows = await ctx.db
    .selectFrom("receivable_attempts")
    .select(["status", "row", "archived_at"])
    .where("receivable_id", "=", receivableId)
    .orderBy("attempt_id")
    .execute();
  if (rows.length === 0) return {};
  return {
    earlierAttempts: rows.map((attempt) => {
      const closed = JSON.parse(attempt.row) as { updated_at: string; document_hash: string };
      return {
        status: attempt.status,
        closedAt: closed.updated_at,
        archivedAt: attempt.archived_at,
        documentHash: closed.document_hash,
      };
    }),
  };
}

/** The party id behind an address, or the address itself for outsiders. */
export async function partyIdOrAddress(ctx: ServiceContext, address: string): Promise<string> {
  return (await findPartyByAddress(ctx.db, address))?.id ?? address;
}
