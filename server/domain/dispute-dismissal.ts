// The arbiter's dismissal of a dispute (issue 16). A debtor can open a dispute and leave it open,
// which stops splits and new financing of the receivable for as long as it stands. Only the
// timelock holds ARBITER_ROLE on the DilutionLedger, so the operator recommends dismissing it and
// is answered with the exact timelock operation for `dismissDispute(receivableId, disputeNumber)`;
// the governor schedules and executes it (`npm run governor -- dismiss` on the local chain, the
// multisig elsewhere) and the index shows the dispute `dismissed` when it lands. The call names
// the dispute's number (DisputeOpened's disputeNumber): if the debtor withdraws the reviewed
// dispute and opens another before the timelock's delay ends, the scheduled operation reverts
// (DisputeNotTheOneNamed) and the new dispute stays open until it is reviewed on its own.
//
// Review period: the contract has none, the service keeps one. A dispute may be recommended for
// dismissal only once it has stood for the ledger's `sellerResponsePeriod` (read from the chain,
// 7 days by default) since its DisputeOpened block: the debtor gets the same time to back its
// dispute with a credit note that a seller gets to answer one. The timelock's delay comes on top,
// and a credit note proposed meanwhile makes the dismissal revert (DisputeHasPendingCreditNote).
import { z } from "zod";
import type { ServiceContext } from "../context.js";
import { dismissalProposal, timelockMinDelay, type TimelockProposal } from "../chain/arbitration-proposal.js";
import { chainNowSeconds } from "../chain/chain-time.js";
import type { Actor } from "../model/actor.js";
import { conflict } from "../model/errors.js";
import { PageQuery, pageSchema, type Page } from "../model/page.js";
import { keysetPage, mapPage } from "../store/paginate.js";
import type { DisputeDismissalTable } from "../store/schema.js";
import { DisputeViewSchema, latestDispute, loadOnChain, toDispute, type DisputeView } from "./dilution.js";
import {
  arbiterPathOf,
  proposalStanding,
  recommendationColumns,
  recommendationFields,
  recommendationOf,
  recommendationOutcomeSchema,
  requireReviewQueueAccess,
  storedProposal,
  timelockProposalSchema,
} from "./timelock-recommendation.js";

export const RecommendDismissalSchema = z
  .object({ reason: z.string().trim().min(1).max(2_000).describe("why, for the governor and the record") })
  .strict();

export const DismissalProposalSchema = timelockProposalSchema(
  z.object({
    function: z.literal("dismissDispute"),
    receivableId: z.string(),
    disputeNumber: z.number().int().describe("the dispute the call dismisses: it reverts once another is open"),
  }),
  "dismissDispute(receivableId, disputeNumber)",
).meta({ id: "DismissalProposal" });

export const DismissalRecommendationSchema = z
  .object({
    disputeId: z.string().describe("the dispute to dismiss: a debtor may open a new one after it"),
    disputeNumber: z.number().int().describe("its number on the receivable, which the dismissal names on chain"),
    ...recommendationFields,
  })
  .meta({ id: "DismissalRecommendation" });

export const DismissalOutcomeSchema = recommendationOutcomeSchema(
  { dispute: DisputeViewSchema },
  DismissalRecommendationSchema,
  DismissalProposalSchema,
).meta({
  id: "DismissalOutcome",
});

export const DisputeListQuery = PageQuery.extend({
  status: DisputeViewSchema.shape.status.meta({
    description: "open: the review queue of disputes the operator may recommend dismissing (oldest first)",
  }),
});

export const DisputeReviewItemSchema = z
  .object({
    dispute: DisputeViewSchema,
    reviewableFrom: z
      .string()
      .describe("when the debtor's review period ends: the operator may recommend a dismissal from then (chain time)"),
    pendingCreditNoteId: z.string().nullable().describe("a credit note pending on it: it decides the dispute"),
    recommendation: DismissalRecommendationSchema.nullable().describe("the operator's, once recorded"),
  })
  .meta({ id: "DisputeForReview" });
export const DisputeReviewPageSchema = pageSchema(DisputeReviewItemSchema).meta({ id: "DisputeForReviewPage" });

type Recommendation = z.infer<typeof DismissalRecommendationSchema>;
type Outcome = z.infer<typeof DismissalOutcomeSchema>;

const toRecommendation = (row: DisputeDismissalTable, disputeNumber: number): Recommendation => ({
  disputeId: row.dispute_id,
  disputeNumber: Number(disputeNumber),
  ...recommendationOf(row),
});

async function recordedDismissal(ctx: Pick<ServiceContext, "db">, disputeId: string) {
  return ctx.db.selectFrom("dispute_dismissals").selectAll().where("dispute_id", "=", disputeId).executeTakeFirst();
}

/** The credit note still proposed on the receivable (at most one is pending at a time). */
const pendingCreditNoteOf = (ctx: Pick<ServiceContext, "db">, receivableId: string) =>
  ctx.db
    .selectFrom("onchain_credit_notes")
    .select("id")
    .where("receivable_id", "=", receivableId)
    .where("status", "=", "proposed")
    .executeTakeFirst();

/** The end of the debtor's review period: the DisputeOpened block's time plus the ledger's sellerResponsePeriod. */
async function reviewableFromOf(ctx: ServiceContext, openedBlock: number): Promise<number> {
  const [opened, period] = await Promise.all([
    ctx.chain.provider.getBlock(Number(openedBlock)),
    ctx.chain.contracts.dilution!.sellerResponsePeriod(),
  ]);
  return Number(opened!.timestamp) + Number(period);
}

/** The recommendation on the receivable's latest dispute and its proposal, for the governor's CLI. */
export async function dismissalOf(
  ctx: Pick<ServiceContext, "db">,
  receivableId: string,
): Promise<{ recommendation: Recommendation; disputeStatus: string; proposal: TimelockProposal } | undefined> {
  const dispute = await latestDispute(ctx, receivableId);
  const row = dispute && (await recordedDismissal(ctx, dispute.id));
  return (
    row && {
      recommendation: toRecommendation(row, dispute!.dispute_number),
      disputeStatus: dispute!.status,
      proposal: storedProposal(row),
    }
  );
}

async function outcome(ctx: ServiceContext, row: DisputeDismissalTable): Promise<Outcome> {
  const dispute = await ctx.db
    .selectFrom("onchain_disputes")
    .selectAll()
    .where("id", "=", row.dispute_id)
    .executeTakeFirstOrThrow();
  const stored = storedProposal(row);
  return {
    dispute: toDispute(dispute),
    recommendation: toRecommendation(row, dispute.dispute_number),
    proposal: {
      ...stored,
      call: {
        function: "dismissDispute",
        receivableId: row.receivable_id,
        disputeNumber: Number(dispute.dispute_number),
      },
      ...(await proposalStanding(ctx, stored)),
    },
  };
}

/**
 * The operator recommends dismissing the receivable's open dispute and gets the timelock
 * proposal for the governor. Asked again, it answers the same proposal (also once the dismissal
 * has landed); refused while no dispute is open, while a credit note is pending on it, and
 * before the review period has passed.
 */
export async function recommendDismissal(
  ctx: ServiceContext,
  actor: Actor,
  receivableId: string,
  input: z.infer<typeof RecommendDismissalSchema>,
): Promise<Outcome> {
  const { ledger, timelock } = arbiterPathOf(ctx, actor);
  await loadOnChain(ctx, receivableId); // 404 for an unknown receivable, 409 for one not registered yet

  const dispute = await latestDispute(ctx, receivableId);
  const recorded = dispute && (await recordedDismissal(ctx, dispute.id));
  if (dispute?.status === "dismissed" && recorded) return outcome(ctx, recorded);
  if (!dispute || dispute.status !== "open")
    throw conflict("DISPUTE_NOT_OPEN", `receivable ${receivableId} has no open dispute`, {
      receivableId,
      lastDispute: dispute ? { id: dispute.id, status: dispute.status } : null,
    });
  // The ledger refuses to dismiss while a note is pending: the note ends the dispute instead.
  const pending = await pendingCreditNoteOf(ctx, receivableId);
  if (pending)
    throw conflict(
      "DISPUTE_HAS_PENDING_CREDIT_NOTE",
      `credit note ${pending.id} is pending on the dispute of receivable ${receivableId}: it is decided, not dismissed`,
      { receivableId, disputeId: dispute.id, creditNoteId: pending.id },
    );
  if (recorded) return outcome(ctx, recorded);

  const reviewableFrom = await reviewableFromOf(ctx, dispute.opened_block);
  const now = await chainNowSeconds(ctx);
  if (now < reviewableFrom)
    throw conflict(
      "DISPUTE_REVIEW_PERIOD_OPEN",
      `the debtor may still back its dispute on receivable ${receivableId} with a credit note until ` +
        new Date(reviewableFrom * 1000).toISOString(),
      {
        receivableId,
        disputeId: dispute.id,
        reviewableFrom: new Date(reviewableFrom * 1000).toISOString(),
        chainTime: new Date(now * 1000).toISOString(),
      },
    );

  const proposal = dismissalProposal({
    timelock,
    dilutionLedger: String(ledger.target),
    chainId: ctx.chain.deployment.chainId,
    receivableId,
    disputeId: dispute.id,
    disputeNumber: Number(dispute.dispute_number),
    delay: await timelockMinDelay(timelock, ctx.chain.provider),
    runner: ctx.chain.provider,
  });
  await ctx.db
    .insertInto("dispute_dismissals")
    .values({ dispute_id: dispute.id, ...recommendationColumns(ctx, actor, receivableId, input.reason, proposal) })
    // Two requests at once: the first row stands and both are answered with it.
    .onConflict((oc) => oc.column("dispute_id").doNothing())
    .execute();
  const row = (await recordedDismissal(ctx, dispute.id))!;
  ctx.log.info(
    { receivableId, disputeId: dispute.id, operationId: row.operation_id },
    "dispute dismissal recommended: the governor schedules the timelock proposal",
  );
  return outcome(ctx, row);
}

/** Oldest first: the order of the index (status, opened_block, id). */
export const DISPUTE_REVIEW_ORDER = {
  columns: ["opened_block", "id"],
  shape: ["n", "s"],
  direction: "asc",
  keyOf: (row: { opened_block: number; id: string }) => [Number(row.opened_block), row.id],
} as const;

export const disputesInStatusQuery = (ctx: Pick<ServiceContext, "db">, status: DisputeView["status"]) =>
  ctx.db.selectFrom("onchain_disputes").selectAll().where("status", "=", status);

/**
 * The operator's review queue of disputes (and the auditor's view of it): the disputes in one
 * status, oldest first, one index range (status, opened_block, id); each open one with the end of
 * its review period, the credit note pending on it and the recommendation once recorded.
 */
export async function listDisputesForReview(
  ctx: ServiceContext,
  actor: Actor,
  query: z.infer<typeof DisputeListQuery>,
): Promise<Page<z.infer<typeof DisputeReviewItemSchema>>> {
  requireReviewQueueAccess(actor, "the dispute review queue");
  const page = await keysetPage(disputesInStatusQuery(ctx, query.status), DISPUTE_REVIEW_ORDER, query);
  return mapPage(page, async (row) => {
    const [pending, recorded] = await Promise.all([
      pendingCreditNoteOf(ctx, row.receivable_id),
      recordedDismissal(ctx, row.id),
    ]);
    return {
      dispute: toDispute(row),
      reviewableFrom: new Date((await reviewableFromOf(ctx, row.opened_block)) * 1000).toISOString(),
      pendingCreditNoteId: row.status === "open" ? (pending?.id ?? null) : null,
      recommendation: recorded ? toRecommendation(recorded, row.dispute_number) : null,
    };
  });
}
