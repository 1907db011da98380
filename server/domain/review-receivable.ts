// Use case: the operator decides a submission held for manual review.
import { enqueueWebhookEvent, newEventId } from "../store/webhook-outbox.js";
import { z } from "zod";
import type { ServiceContext } from "../context.js";
import { conflict, notFound } from "../model/errors.js";
import { nowIso } from "../store/database.js";
import { requireRole, type Actor } from "../model/actor.js";
import { getReceivableView, type ReceivableView } from "./receivable-view.js";

export const ReviewReceivableSchema = z
  .object({ decision: z.enum(["approve", "reject"]), note: z.string().trim().min(1).max(1_000) })
  .strict()
  .meta({ id: "ReviewReceivable" });

export async function reviewReceivable(
  ctx: ServiceContext,
  actor: Actor,
  receivableId: string,
  input: z.infer<typeof ReviewReceivableSchema>,
): Promise<ReceivableView> {
  requireRole(actor, "operator");
  const row = await ctx.db.selectFrom("receivables").selectAll().where("id", "=", receivableId).executeTakeFirst();
  if (!row) throw notFound("Receivable", receivableId);
  if (row.status !== "held_for_review")
    throw conflict("RECEIVABLE_NOT_HELD", `receivable ${receivableId} is ${row.status}, not held for review`, {
      status: row.status,
    });
  const report = JSON.parse(row.verification);
  report.review = { decision: input.decision, note: input.note, by: actor.id, at: nowIso() };
  await ctx.db.transaction().execute(async (trx) => {
    const updated = await trx
      .updateTable("receivables")
      .set({
        status: input.decision === "approve" ? "awaiting_confirmation" : "rejected",
        verification: JSON.stringify(report),
        updated_at: nowIso(),
      })
      .where("id", "=", receivableId)
      .where("status", "=", "held_for_review")
      .executeTakeFirst();
    if (updated.numUpdatedRows > 0n) {
      const approved = input.decision === "approve";
      await enqueueWebhookEvent(trx, {
        id: newEventId(),
        type: approved ? "receivable.approved" : "receivable.rejected",
        data: { receivableId, status: approved ? "awaiting_confirmation" : "rejected", note: input.note ?? null },
        partyIds: approved ? [row.seller_id, row.debtor_id] : [row.seller_id],
        occurredAt: nowIso(),
      });
    }
  });
  ctx.log.info({ receivableId, decision: input.decision, operator: actor.id }, "held receivable reviewed");
  return getReceivableView(ctx, actor, receivableId);
}
