// What the arbiter paths share (issue 16): the operator recommends, the governor schedules and
// executes a DilutionLedger call through TierlineTimelock. A recommendation is stored with the
// exact timelock operation (server/store/schema.ts TimelockRecommendationColumns) and answered
// with where that operation stands on the timelock now. Used by the credit-note arbitration and
// the dispute dismissal.
import { z } from "zod";
import type { ServiceContext } from "../context.js";
import { OPERATION_STATES, timelockOperationStatus, type TimelockProposal } from "../chain/arbitration-proposal.js";
import { chainNowSeconds } from "../chain/chain-time.js";
import { requireRole, type Actor } from "../model/actor.js";
import { requireAccess, type Relation } from "../model/access-policy.js";
import { conflict } from "../model/errors.js";
import type { TimelockRecommendationColumns } from "../store/schema.js";

const Hex = z.string().regex(/^0x[0-9a-fA-F]*$/);

/** The proposal's fields, with `call` (the decoded ledger call) between the operation and its state. */
export function timelockProposalSchema<C extends z.ZodType>(call: C, encoded: string) {
  return z.object({
    timelock: z.string().describe("the TierlineTimelock to call schedule and execute on"),
    target: z.string().describe("the DilutionLedger"),
    value: z.string(),
    data: Hex.describe(`${encoded}, ABI-encoded`),
    predecessor: z.string(),
    salt: z.string(),
    delay: z.string().describe("seconds: schedule's delay argument (the timelock's minimum delay)"),
    operationId: z.string().describe("TimelockController.hashOperation(target, value, data, predecessor, salt)"),
    call,
    state: z.enum(OPERATION_STATES).describe("where the operation stands on the timelock now"),
    readyAt: z
      .string()
      .nullable()
      .describe(
        "when execute may run: the timelock's time once scheduled, else the earliest (now + delay); null once done",
      ),
  });
}

/** What every recommendation answers besides what it decides. */
export const recommendationFields = {
  receivableId: z.string(),
  reason: z.string(),
  recommendedBy: z.string(),
  recommendedAt: z.string(),
  operationId: z.string(),
};

/** An answer to a recommendation: what it is about (`subject`), the recommendation and its proposal. */
export const recommendationOutcomeSchema = <S extends z.ZodRawShape>(
  subject: S,
  recommendation: z.ZodType,
  proposal: z.ZodType,
) => z.object({ ...subject, recommendation, proposal });

/**
 * Who may recommend and what it needs: the operator, on a deployment with a dilution ledger and
 * a timelock (the arbiter). Answers both.
 */
export function arbiterPathOf(ctx: ServiceContext, actor: Actor) {
  requireRole(actor, "operator");
  const ledger = ctx.chain.contracts.dilution;
  const timelock = ctx.chain.deployment.addresses.timelock;
  if (!ledger || !timelock)
    throw conflict("DILUTION_NOT_DEPLOYED", "this deployment has no dilution ledger or no timelock", {});
  return { ledger, timelock };
}

/** The review queues read the whole book of dilution: the operator's and the auditor's cells only. */
export function requireReviewQueueAccess(actor: Actor, what: string): void {
  const relations: Relation[] = actor.roles.filter((role): role is "operator" | "auditor" =>
    ["operator", "auditor"].includes(role),
  );
  requireAccess("dilution", relations.length ? relations : ["other"], `every receivable (${what})`);
}

export const recommendationOf = (row: TimelockRecommendationColumns) => ({
  receivableId: row.receivable_id,
  reason: row.reason,
  recommendedBy: row.recommended_by,
  recommendedAt: row.recommended_at,
  operationId: row.operation_id,
});

export const storedProposal = (row: TimelockRecommendationColumns): TimelockProposal => ({
  timelock: row.timelock,
  target: row.target,
  value: row.value,
  data: row.data,
  predecessor: row.predecessor,
  salt: row.salt,
  delay: row.delay,
  operationId: row.operation_id,
});

/** The row a recommendation is stored as: who recommended what, when, and the operation. */
export const recommendationColumns = (
  ctx: Pick<ServiceContext, "now">,
  actor: Actor,
  receivableId: string,
  reason: string,
  proposal: TimelockProposal,
): TimelockRecommendationColumns => ({
  receivable_id: receivableId,
  reason,
  recommended_by: actor.id,
  recommended_at: ctx.now().toISOString(),
  timelock: proposal.timelock,
  target: proposal.target,
  value: proposal.value,
  data: proposal.data,
  predecessor: proposal.predecessor,
  salt: proposal.salt,
  delay: proposal.delay,
  operation_id: proposal.operationId,
});

/** Where the stored operation stands on the timelock now, and when execute may (or could) run. */
export async function proposalStanding(
  ctx: ServiceContext,
  stored: TimelockProposal,
): Promise<{ state: (typeof OPERATION_STATES)[number]; readyAt: string | null }> {
  const { state, readyAt } = await timelockOperationStatus(stored.timelock, stored.operationId, ctx.chain.provider);
  const earliest = state === "unset" ? (await chainNowSeconds(ctx)) + Number(stored.delay) : readyAt;
  return { state, readyAt: earliest === null ? null : new Date(earliest * 1000).toISOString() };
}
