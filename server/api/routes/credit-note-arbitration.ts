// /v1 routes for the arbiter path of credit notes (issue 16): the operator's review queue of
// notes the seller left unanswered, and its recommendation, answered with the timelock
// proposal the governor signs (the service holds no key that can decide a note).
import {
  ArbitrationOutcomeSchema,
  AwaitingArbiterPageSchema,
  AwaitingArbiterQuery,
  listAwaitingArbiter,
  recommendArbitration,
  RecommendArbitrationSchema,
} from "../../domain/credit-note-arbitration.js";
import { CreditNoteIdParams } from "../../domain/dilution.js";
import { requireRole } from "../../model/actor.js";
import { defineRoute, type RouteSpec } from "../route-spec.js";

export const creditNoteArbitrationRoutes: RouteSpec[] = [
  defineRoute({
    method: "get",
    path: "/v1/credit-notes",
    operationId: "listCreditNotesAwaitingArbiter",
    tag: "dilution",
    summary: "The review queue: proposed credit notes whose seller response period has passed (operator, auditor)",
    description:
      "`awaiting=arbiter`: notes still proposed after their sellerRespondBy (chain time), oldest deadline first, each with " +
      "the operator's recommendation once recorded.",
    auth: true,
    authorize: (actor) => requireRole(actor, "operator", "auditor"),
    query: AwaitingArbiterQuery,
    responses: {
      200: { description: "a page of credit notes awaiting the arbiter", schema: AwaitingArbiterPageSchema },
    },
    errors: [400, 401, 403],
  }).handle(async (ctx, { actor, query }) => {
    return { status: 200, body: await listAwaitingArbiter(ctx, actor, query) };
  }),
  defineRoute({
    method: "post",
    path: "/v1/credit-notes/:id/arbitration",
    operationId: "recommendCreditNoteArbitration",
    tag: "dilution",
    summary:
      "Recommend approving or rejecting a credit note the seller did not answer; get the governor's timelock proposal (operator)",
    description:
      "Only the timelock (ARBITER_ROLE) decides: this records the operator's recommendation and answers the exact " +
      "TierlineTimelock.schedule/execute arguments, the operation id and its state. Nothing is sent. Refusals: " +
      "SELLER_RESPONSE_PERIOD_OPEN (before sellerRespondBy), CREDIT_NOTE_NOT_PROPOSED, ARBITRATION_ALREADY_RECOMMENDED " +
      "(another decision was recorded); the same decision again answers the same proposal.",
    auth: true,
    authorize: (actor) => requireRole(actor, "operator"),
    idempotent: true,
    params: CreditNoteIdParams,
    body: RecommendArbitrationSchema,
    responses: { 200: { description: "recorded; the proposal to schedule", schema: ArbitrationOutcomeSchema } },
    errors: [400, 401, 403, 404, 409],
  }).handle(async (ctx, { actor, params: { id }, body }) => {
    return { status: 200, body: await recommendArbitration(ctx, actor, id, body) };
  }),
];
