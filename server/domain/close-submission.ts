// Use cases: a submission that is stuck before the chain can be closed. The debtor declines
// one awaiting its confirmation (it does not owe this, or not as written); the supplier
// withdraws one not yet on its way to the chain. A closed submission frees its identity
// (invoice number, order capacity, delivery) for a corrected resubmission, which moves the
// closed one into the receivable's history (submit-receivable.ts).
import { enqueueWebhookEvent, newEventId } from "../store/webhook-outbox.js";
import { z } from "zod";
import type { ServiceContext } from "../context.js";
import { conflict, forbidden, notFound } from "../model/errors.js";
import { nowIso } from "../store/database.js";
import type { Actor } from "../model/actor.js";
import { getReceivableView, type ReceivableView } from "./receivable-view.js";
import { displayText } from "../model/text.js";
import type { SubmissionStatus } from "../model/row-statuses.js";

export const DeclineReceivableSchema = z
  .object({ reason: displayText(1_000).meta({ description: "Why the debtor does not confirm it, for the supplier" }) })
  .strict()
  .meta({ id: "DeclineReceivable" });

export const WithdrawReceivableSchema = z
  .object({ reason: displayText(1_000).optional().meta({ description: "Why the supplier withdraws it" }) })
  .strict()
  .meta({ id: "WithdrawReceivable" });

/** Who may close which submission, from which statuses, into which status. */
const CLOSINGS: Record<
  "decline" | "withdraw",
  { party: "debtor" | "seller"; from: SubmissionStatus[]; to: SubmissionStatus }
> = {
  decline: { party: "debtor", from: ["awaiting_confirmation"], to: "declined" },
  withdraw: { party: "seller", from: ["held_for_review", "awaiting_confirmation"], to: "withdrawn" },
} as const;

async function closeSubmission(
  ctx: ServiceContext,
  actor: Actor,
  receivableId: string,
  action: keyof typeof CLOSINGS,
  reason: string | undefined,
): Promise<ReceivableView> {
  const closing = CLOSINGS[action];
  const row = await ctx.db.selectFrom("receivables").selectAll().where("id", "=", receivableId).executeTakeFirst();
  if (!row) throw notFound("Receivable", receivableId);
  const partyId = closing.party === "debtor" ? row.debtor_id : row.seller_id;
  if (actor.id !== partyId)
    throw forbidden(`only the ${closing.party} of receivable ${receivableId} may ${action} it`, {
      [`${closing.party}Id`]: partyId,
    });
  const from: readonly SubmissionStatus[] = closing.from;
  const result = await ctx.db.transaction().execute(async (trx) => {
    const updated = await trx
      .updateTable("receivables")
      .set({
        status: closing.to,
        closed: JSON.stringify({ action, by: actor.id, at: nowIso(), reason: reason ?? null }),
        updated_at: nowIso(),
      })
      .where("id", "=", receivableId)
      .where("status", "in", from)
      .executeTakeFirst();
    if (updated.numUpdatedRows > 0n) {
      await enqueueWebhookEvent(trx, {
        id: newEventId(),
        type: closing.to === "declined" ? "receivable.declined" : "receivable.withdrawn",
        data: { receivableId, status: closing.to, by: actor.id, reason: reason ?? null },
        partyIds: [row.seller_id, row.debtor_id],
        occurredAt: nowIso(),
      });
    }
    return updated;
  });
  if (result.numUpdatedRows === 0n) {
    const now = await ctx.db
      .selectFrom("receivables")
      .select("status")
      .where("id", "=", receivableId)
      .executeTakeFirst();
    const status = now?.status ?? row.status;
    throw conflict(
      "RECEIVABLE_NOT_CLOSABLE",
      `receivable ${receivableId} is ${status}; the ${closing.party} may ${action} it only while it is ${from.join(" or ")}`,
      { receivableId, status, allowed: [...from] },
    );
  }
  ctx.log.info({ receivableId, action, by: actor.id }, `submission ${closing.to}`);
  return getReceivableView(ctx, actor, receivableId);
}

export const declineReceivable = (
  ctx: ServiceContext,
  actor: Actor,
  receivableId: string,
  input: z.infer<typeof DeclineReceivableSchema>,
) => closeSubmission(ctx, actor, receivableId, "decline", input.reason);

export const withdrawReceivable = (
  ctx: ServiceContext,
  actor: Actor,
  receivableId: string,
  input: z.infer<typeof WithdrawReceivableSchema>,
) => closeSubmission(ctx, actor, receivableId, "withdraw", input.reason);
