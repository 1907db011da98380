// Use case: a supplier submits the trade documents behind one receivable. Nothing goes
// on-chain here: the documents are verified, the report stored, and the receivable
// waits for the debtor's confirmation (or for manual review).
import { withLock } from "../store/locks.js";
import { enqueueWebhookEvent, newEventId } from "../store/webhook-outbox.js";
import type { ServiceContext } from "../context.js";
import { conflict, unprocessable } from "../model/errors.js";
import { nowIso } from "../store/database.js";
import { findPartyById, type PartyRecord } from "../store/parties-store.js";
import { LIVE, verificationHistory } from "../verification/history-store.js";
import type { ReceivableTable } from "../store/schema.js";
import type { Selectable } from "kysely";
import { verifyReceivable } from "../verification/verify.js";
import type { VerificationHistory, VerificationReport } from "../verification/types.js";
import { requireRole, type Actor } from "../model/actor.js";
import {
  documentHashOf,
  normaliseInvoiceNumber,
  receivableIdOf,
  toUnixSeconds,
  type ReceivableSubmission,
} from "../model/receivable-schema.js";
import { getReceivableView, type ReceivableView } from "./receivable-view.js";
import { decide, redactFields } from "../model/access-policy.js";
import { roleRelations } from "../store/access-relations.js";
import { canonicalDocumentNumber, deliveryKeyOf } from "../model/document-identity.js";

export interface SubmitOutcome {
  created: boolean;
  receivable: ReceivableView;
}

// One submission at a time, in every replica: each is checked against what the ones before
// it stored (duplicates, purchase-order capacity), so two concurrent submissions cannot both
// pass a check only one of them would, nor race on the same receivable id.
const SUBMISSION_LOCK = "submissions";

export async function submitReceivable(
  ctx: ServiceContext,
  actor: Actor,
  submission: ReceivableSubmission,
): Promise<SubmitOutcome> {
  requireRole(actor, "supplier");
  const debtor = await findPartyById(ctx.db, submission.debtorId);
  const receivableId = receivableIdOf(
    actor.legalIdHash,
    debtor?.legalIdHash ?? "0x" + "0".repeat(64),
    submission.invoice.number,
  );
  // The shared registry is asked before the lock, not under it: no lock of ours orders it (any
  // registrar may register meanwhile, and the registry refuses a duplicate at registration), and
  // under the lock every submission of every replica waited for a chain round trip in turn (a
  // remote node's 100 ms made it 10 submissions a second, whatever the replicas).
  const history = verificationHistory(ctx.db, ctx.chain);
  const onChain = history.registeredOnChain(receivableId);
  onChain.catch(() => undefined); // awaited under the lock; a refusal found first leaves it unread
  const asked: VerificationHistory = {
    ...history,
    registeredOnChain: (id) => (id === receivableId ? onChain : history.registeredOnChain(id)),
  };
  return withLock(ctx.db, SUBMISSION_LOCK, () => submitOne(ctx, actor, submission, debtor, receivableId, asked));
}

async function submitOne(
  ctx: ServiceContext,
  actor: Actor,
  submission: ReceivableSubmission,
  debtor: PartyRecord | undefined,
  receivableId: string,
  history: VerificationHistory,
): Promise<SubmitOutcome> {
  const documentHash = documentHashOf(submission);
  const log = ctx.log.child({ receivableId, sellerId: actor.id });

  // Exact duplicate in our own books. The same documents again is a retry: answer it. A
  // submission that was rejected, declined or withdrawn and never reached the chain gives its
  // identity up to a corrected one; the closed attempt is kept in receivable_attempts.
  const existing = await ctx.db.selectFrom("receivables").selectAll().where("id", "=", receivableId).executeTakeFirst();
  if (existing && CLOSED.includes(existing.status) && !(await history.registeredOnChain(receivableId))) {
    await archiveAttempt(ctx, existing);
    log.info({ closedStatus: existing.status }, "closed submission archived: its identity is free again");
  } else if (existing) {
    if (existing.seller_id === actor.id && existing.document_hash === documentHash) {
      return { created: false, receivable: await getReceivableView(ctx, actor, receivableId) };
    }
    throw conflict(
      "DUPLICATE_RECEIVABLE",
      `invoice ${submission.invoice.number} is already receivable ${receivableId}`,
      {
        existingReceivableId: receivableId,
      },
    );
  }
  // The same invoice under an id derived before the canonical form (docs/document-identity.md).
  const invoiceCanonical = canonicalDocumentNumber(submission.invoice.number);
  if (debtor) {
    const sameInvoice = await ctx.db
      .selectFrom("receivables")
      .select("id")
      .where("seller_id", "=", actor.id)
      .where("debtor_id", "=", debtor.id)
      .where("invoice_number_canonical", "=", invoiceCanonical)
      .where("status", "in", LIVE)
      .executeTakeFirst();
    if (sameInvoice) {
      throw conflict(
        "DUPLICATE_RECEIVABLE",
        `invoice ${submission.invoice.number} is already receivable ${sameInvoice.id}`,
        { existingReceivableId: sameInvoice.id },
      );
    }
  }

  const report = await verifyReceivable(
    { receivableId, seller: actor, debtor, submission, now: ctx.now() },
    history,
    ctx.verification,
  );
  // A refusal carries the report as the submitter (the seller) may read it, as GET would show it.
  const shown = redactFields(report, decide("verificationReport", [...roleRelations(actor), "seller"]));
  const duplicateOnChain = report.results.find((r) => r.code === "EXACT_DUPLICATE_ON_CHAIN");
  if (duplicateOnChain) {
    throw conflict("DUPLICATE_RECEIVABLE", `invoice ${submission.invoice.number} is already on the shared registry`, {
      existingReceivableId: receivableId,
      verification: shown,
    });
  }
  if (report.outcome === "rejected") {
    log.info(
      { failed: report.results.filter((r) => r.outcome === "fail").map((r) => r.code) },
      "submission rejected by verification",
    );
    throw unprocessable("VERIFICATION_FAILED", "the trade documents did not pass verification", {
      rules: failedRules(shown),
      verification: shown,
    });
  }

  const status = report.outcome === "held" ? "held_for_review" : "awaiting_confirmation";
  const now = nowIso();
  await ctx.db.transaction().execute(async (trx) => {
    await trx
      .insertInto("receivables")
      .values({
        id: receivableId,
        seller_id: actor.id,
        debtor_id: debtor!.id,
        invoice_number: submission.invoice.number,
        invoice_number_normalized: normaliseInvoiceNumber(submission.invoice.number),
        invoice_number_canonical: invoiceCanonical,
        po_number: submission.purchaseOrder.number,
        po_number_canonical: canonicalDocumentNumber(submission.purchaseOrder.number),
        delivery_key: deliveryKeyOf(submission.delivery.carrier, submission.delivery.waybill),
        currency: submission.purchaseOrder.currency,
        face_value: submission.invoice.total,
        net_value: (BigInt(submission.invoice.total) - BigInt(submission.invoice.tax)).toString(),
        due_date: toUnixSeconds(submission.invoice.dueDate),
        document_hash: documentHash,
        documents: JSON.stringify(submission),
        verification: JSON.stringify(report),
        status,
        confirmation: null,
        created_at: now,
        updated_at: now,
      })
      .execute();
    await enqueueWebhookEvent(trx, {
      id: newEventId(),
      type: status === "held_for_review" ? "receivable.held" : "receivable.submitted",
      data: { receivableId, status, sellerId: actor.id, debtorId: debtor!.id, faceValue: submission.invoice.total },
      partyIds: status === "held_for_review" ? [actor.id] : [actor.id, debtor!.id],
      occurredAt: now,
    });
  });
  log.info({ status, faceValue: submission.invoice.total }, "receivable submitted");
  return { created: true, receivable: await getReceivableView(ctx, actor, receivableId) };
}

export const failedRules = (report: VerificationReport) =>
  report.results
    .filter((r) => r.outcome === "fail")
    .map(({ rule, code, message, fields, details }) => ({
      rule,
      code,
      message,
      fields,
      ...(details === undefined ? {} : { details }),
    }));

/** Statuses of submissions that never reached the chain and were closed: their identity is free. */
export const CLOSED = ["rejected", "declined", "withdrawn"];

/** Moves a closed submission into the history, in one transaction, so its id can be taken again. */
async function archiveAttempt(ctx: ServiceContext, row: Selectable<ReceivableTable>): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    await trx
      .insertInto("receivable_attempts")
      .values({ receivable_id: row.id, status: row.status, row: JSON.stringify(row), archived_at: nowIso() })
      .execute();
    await trx.deleteFrom("receivables").where("id", "=", row.id).where("status", "=", row.status).execute();
  });
}
