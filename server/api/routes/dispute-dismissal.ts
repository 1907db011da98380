// /v1 routes for the arbiter's dismissal of a dispute (issue 16): the operator's review queue of
// disputes, and its recommendation, answered with the timelock proposal the governor signs (the
// service holds no key that can dismiss a dispute). The recommendation sits beside the debtor's
// own dispute routes, under the receivable's disputes.
import {
  DismissalOutcomeSchema,
  DisputeListQuery,
  DisputeReviewPageSchema,
  listDisputesForReview,
  recommendDismissal,
  RecommendDismissalSchema,
} from "../../domain/dispute-dismissal.js";
import { requireRole } from "../../model/actor.js";
import { defineRoute, type RouteSpec } from "../route-spec.js";
import { ReceivableIdParams } from "../schemas.js";

export const disputeDismissalRoutes: RouteSpec[] = [
  defineRoute({
    method: "get",
    path: "/v1/disputes",
    operationId: "listDisputesForReview",
    tag: "dilution",
    summary: "The review queue: disputes in one status, oldest first (operator, auditor)",
    description:
      "`status=open`: the disputes that still freeze their receivable, each with reviewableFrom (from when the operator " +
      "may recommend dismissing it), the credit note pending on it and the operator's recommendation once recorded.",
    auth: true,
    authorize: (actor) => requireRole(actor, "operator", "auditor"),
    query: DisputeListQuery,
    responses: { 200: { description: "a page of disputes", schema: DisputeReviewPageSchema } },
    errors: [400, 401, 403],
  }).handle(async (ctx, { actor, query }) => {
    return { status: 200, body: await listDisputesForReview(ctx, actor, query) };
  }),
  defineRoute({
    method: "post",
    path: "/v1/receivables/:id/disputes/dismissal",
    operationId: "recommendDisputeDismissal",
    tag: "dilution",
    summary: "Recommend dismissing the receivable's open dispute; get the governor's timelock proposal (operator)",
    description:
      "Only the timelock (ARBITER_ROLE) dismisses a dispute: this records the operator's recommendation and answers the " +
      "exact TierlineTimelock.schedule/execute arguments for DilutionLedger.dismissDispute(receivableId, disputeNumber), " +
      "the operation id and its state. Nothing is sent. The call names the dispute's number on the receivable: if the " +
      "debtor withdraws this dispute and opens another before the operation runs, it reverts (DisputeNotTheOneNamed) and " +
      "the new dispute stays open until it is reviewed on its own. Review period: a dispute may be recommended for dismissal only once it has stood for " +
      "the ledger's sellerResponsePeriod (7 days by default, chain time) since it was opened, the time a seller has to " +
      "answer a credit note; the timelock's delay comes on top. Refusals: DISPUTE_NOT_OPEN, DISPUTE_HAS_PENDING_CREDIT_NOTE " +
      "(the note decides the dispute), DISPUTE_REVIEW_PERIOD_OPEN. The same request again answers the same proposal, also " +
      "once the dismissal has landed (state done); a dispute opened later gets its own operation.",
    auth: true,
    authorize: (actor) => requireRole(actor, "operator"),
    idempotent: true,
    params: ReceivableIdParams,
    body: RecommendDismissalSchema,
    responses: { 200: { description: "recorded; the proposal to schedule", schema: DismissalOutcomeSchema } },
    errors: [400, 401, 403, 404, 409],
  }).handle(async (ctx, { actor, params: { id }, body }) => {
    return { status: 200, body: await recommendDismissal(ctx, actor, id, body) };
  }),
];
