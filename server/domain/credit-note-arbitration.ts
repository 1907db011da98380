// The arbiter path of a credit note (issue 16): when the seller lets its response period pass
// without consenting, the operator reviews the note and recommends approving or rejecting it.
// The operator cannot decide: only the timelock holds ARBITER_ROLE on the DilutionLedger, and
// the service never loads the governor's key. So a recommendation is recorded with the exact
// timelock operation the governor must schedule and execute (`npm run governor -- arbitrate`
// on the local chain, the multisig elsewhere); the index shows the outcome when it lands.
import { z } from "zod";
import type { ServiceContext } from "../context.js";
import { arbitrationProposal, timelockMinDelay, type TimelockProposal } from "../chain/arbitration-proposal.js";
import { chainNowSeconds } from "../chain/chain-time.js";
import type { Actor } from "../model/actor.js";
import { conflict, notFound } from "../model/errors.js";
import { PageQuery, pageSchema, type Page } from "../model/page.js";
import { keysetPage } from "../store/paginate.js";
import type { CreditNoteArbitrationTable } from "../store/schema.js";
import { approvalLeavesOf, creditNotesOf, CreditNoteViewSchema } from "./dilution.js";
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

export const ArbitrationDecision = z.enum(["approve", "reject"]);

export const RecommendArbitrationSchema = z
  .object({
    decision: ArbitrationDecision.describe("what the operator recommends the arbiter (the timelock) decides"),
    reason: z.string().trim().min(1).max(2_000).describe("why, for the governor and the record"),
  })
  .strict();

export const TimelockProposalSchema = timelockProposalSchema(
  z.object({
    function: z.literal("decideCreditNote"),
    creditNoteId: z.string(),
    approve: z.boolean(),
    leafIds: z
      .array(z.string())
      .describe(
        "the receivable's complete ascending leaf list (empty for a rejection, and for a tree wider than MAX_DILUTION_LEAVES: the keeper then makes the cuts in passes)",
      ),
  }),
  "decideCreditNote(creditNoteId, approve, leafIds)",
).meta({ id: "TimelockProposal" });

export const ArbitrationRecommendationSchema = z
  .object({ creditNoteId: z.string(), decision: ArbitrationDecision, ...recommendationFields })
  .meta({ id: "ArbitrationRecommendation" });

export const ArbitrationOutcomeSchema = recommendationOutcomeSchema(
  { creditNote: CreditNoteViewSchema },
  ArbitrationRecommendationSchema,
  TimelockProposalSchema,
).meta({
  id: "ArbitrationOutcome",
});

export const AwaitingArbiterQuery = PageQuery.extend({
  awaiting: z
    .enum(["arbiter"])
    .meta({ description: "arbiter: proposed notes whose seller response period has passed without consent" }),
});

export const AwaitingArbiterItemSchema = z
  .object({
    creditNote: CreditNoteViewSchema,
    recommendation: ArbitrationRecommendationSchema.nullable().describe("the operator's, once recorded"),
  })
  .meta({ id: "CreditNoteAwaitingArbiter" });
export const AwaitingArbiterPageSchema = pageSchema(AwaitingArbiterItemSchema).meta({
  id: "CreditNoteAwaitingArbiterPage",
});

type Proposal = z.infer<typeof TimelockProposalSchema>;
type Recommendation = z.infer<typeof ArbitrationRecommendationSchema>;
type Outcome = z.infer<typeof ArbitrationOutcomeSchema>;

function toRecommendation(row: CreditNoteArbitrationTable): Recommendation {
  return {
    creditNoteId: row.credit_note_id,
    decision: row.decision as Recommendation["decision"],
    ...recommendationOf(row),
  };
}

/** The stored proposal with its decoded call and where it stands on the timelock now. */
async function proposalView(ctx: ServiceContext, stored: TimelockProposal): Promise<Proposal> {
  const ledger = ctx.chain.contracts.dilution!;
  const decoded = ledger.interface.decodeFunctionData("decideCreditNote", stored.data);
  return {
    ...stored,
    call: {
      function: "decideCreditNote",
      creditNoteId: String(decoded[0]),
      approve: Boolean(decoded[1]),
      leafIds: (decoded[2] as bigint[]).map(String),
    },
    ...(await proposalStanding(ctx, stored)),
  };
}

async function recordedArbitration(ctx: ServiceContext, creditNoteId: string) {
  return ctx.db
    .selectFrom("credit_note_arbitrations")
    .selectAll()
    .where("credit_note_id", "=", creditNoteId)
    .executeTakeFirst();
}

/** The recorded recommendation and its proposal, for the governor's CLI and the route. */
export async function arbitrationOf(
  ctx: Pick<ServiceContext, "db">,
  creditNoteId: string,
): Promise<{ recommendation: Recommendation; proposal: TimelockProposal } | undefined> {
  const row = await ctx.db
    .selectFrom("credit_note_arbitrations")
    .selectAll()
    .where("credit_note_id", "=", creditNoteId)
    .executeTakeFirst();
  return row && { recommendation: toRecommendation(row), proposal: storedProposal(row) };
}

async function outcome(ctx: ServiceContext, row: CreditNoteArbitrationTable): Promise<Outcome> {
  const [creditNote] = await creditNotesOf(ctx, { creditNoteId: row.credit_note_id });
  return {
    creditNote: creditNote!,
    recommendation: toRecommendation(row),
    proposal: await proposalView(ctx, storedProposal(row)),
  };
}

/**
 * The operator recommends a decision on a credit note the seller did not answer in time and
 * gets the timelock proposal for the governor. The same decision again answers the same
 * proposal; another decision after one was recorded is refused.
 */
export async function recommendArbitration(
  ctx: ServiceContext,
  actor: Actor,
  creditNoteId: string,
  input: z.infer<typeof RecommendArbitrationSchema>,
): Promise<Outcome> {
  const { ledger, timelock } = arbiterPathOf(ctx, actor);
  const [note] = await creditNotesOf(ctx, { creditNoteId });
  if (!note) throw notFound("Credit note", creditNoteId);

  const recorded = await recordedArbitration(ctx, creditNoteId);
  if (recorded) return sameDecisionOrConflict(ctx, recorded, input.decision);
  if (note.status !== "proposed")
    throw conflict("CREDIT_NOTE_NOT_PROPOSED", `credit note ${creditNoteId} is ${note.status}`, {
      creditNoteId,
      status: note.status,
    });
  // The ledger lets the arbiter decide only once block time is past sellerRespondBy.
  const now = await chainNowSeconds(ctx);
  const respondBy = Math.floor(Date.parse(note.sellerRespondBy) / 1000);
  if (now <= respondBy)
    throw conflict(
      "SELLER_RESPONSE_PERIOD_OPEN",
      `the seller may still answer credit note ${creditNoteId} until ${note.sellerRespondBy}`,
      { creditNoteId, sellerRespondBy: note.sellerRespondBy, chainTime: new Date(now * 1000).toISOString() },
    );

  const approve = input.decision === "approve";
  const proposal = arbitrationProposal({
    timelock,
    dilutionLedger: String(ledger.target),
    chainId: ctx.chain.deployment.chainId,
    creditNoteId,
    approve,
    leafIds: approve ? await approvalLeavesOf(ctx, note.receivableId) : [],
    delay: await timelockMinDelay(timelock, ctx.chain.provider),
    runner: ctx.chain.provider,
  });
  await ctx.db
    .insertInto("credit_note_arbitrations")
    .values({
      credit_note_id: creditNoteId,
      decision: input.decision,
      ...recommendationColumns(ctx, actor, note.receivableId, input.reason, proposal),
    })
    // Two requests at once: the first row stands and the second is answered against it.
    .onConflict((oc) => oc.column("credit_note_id").doNothing())
    .execute();
  const row = (await recordedArbitration(ctx, creditNoteId))!;
  ctx.log.info(
    { receivableId: note.receivableId, creditNoteId, decision: row.decision, operationId: row.operation_id },
    "arbitration recommended: the governor schedules the timelock proposal",
  );
  return sameDecisionOrConflict(ctx, row, input.decision);
}

async function sameDecisionOrConflict(
  ctx: ServiceContext,
  row: CreditNoteArbitrationTable,
  decision: string,
): Promise<Outcome> {
  if (row.decision !== decision)
    throw conflict(
      "ARBITRATION_ALREADY_RECOMMENDED",
      `the operator already recommended to ${row.decision} credit note ${row.credit_note_id}`,
      { creditNoteId: row.credit_note_id, decision: row.decision, operationId: row.operation_id },
    );
  return outcome(ctx, row);
}

/**
 * The operator's review queue: proposed notes whose seller response period has passed
 * (chain time), oldest deadline first; one index range (status, seller_respond_by, id).
 */
export async function listAwaitingArbiter(
  ctx: ServiceContext,
  actor: Actor,
  query: z.infer<typeof AwaitingArbiterQuery>,
): Promise<Page<z.infer<typeof AwaitingArbiterItemSchema>>> {
  // The whole book of credit notes: the dilution cells of the operator and the auditor.
  requireReviewQueueAccess(actor, "the arbitration queue");
  const now = await chainNowSeconds(ctx);
  const page = await keysetPage(
    ctx.db
      .selectFrom("onchain_credit_notes")
      .select(["id", "seller_respond_by"])
      .where("status", "=", "proposed")
      .where("seller_respond_by", "<", now),
    {
      columns: ["seller_respond_by", "id"],
      shape: ["n", "s"],
      direction: "asc",
      keyOf: (r) => [Number(r.seller_respond_by), r.id],
    },
    query,
  );
  const items = [];
  for (const { id } of page.items) {
    const [creditNote] = await creditNotesOf(ctx, { creditNoteId: id });
    const recorded = await recordedArbitration(ctx, id);
    items.push({ creditNote: creditNote!, recommendation: recorded ? toRecommendation(recorded) : null });
  }
  return { items, nextCursor: page.nextCursor };
}
