// /v1 routes for repayment: the debtor pays a receivable (full, partial or early), anyone
// entitled reads its repayments and early quote, the operator sets a debtor's early rate.
// Settlement to the holders needs no route: the keeper does it (anyone may call the escrow).
import { byRole } from "../../model/actor.js";
import {
  EarlyPaymentRateSchema,
  EarlyPaymentRateSetSchema,
  listRepayments,
  ListRepaymentsQuery,
  RepaidSchema,
  repayReceivable,
  RepaymentListSchema,
  RepaySchema,
  setEarlyPaymentRate,
} from "../../domain/repayments.js";
import { defineRoute, type RouteSpec } from "../route-spec.js";
import { IdParams, ReceivableIdParams } from "../schemas.js";

export const repaymentsRoutes: RouteSpec[] = [
  defineRoute({
    method: "post",
    path: "/v1/receivables/:id/repayments",
    operationId: "repayReceivable",
    tag: "repayments",
    summary: "Repay a receivable in full, in part, or early at the debtor's discount (debtor)",
    description:
      "{ amount } pays that much into the receivable's escrow; { early: true, maxAmount? } discharges it now at the debtor's early-payment discount " +
      "(the quote of the block that mines it, never above maxAmount). The service approves exactly that amount of the settlement token to the escrow " +
      "and pays from the debtor's custodial wallet. Refusals carry the contract's error: RECEIVABLE_WRONG_STATUS (defaulted or repaid), " +
      "REPAYMENT_EXCEEDS_OUTSTANDING, EARLY_PAYMENT_UNAVAILABLE, SETTLEMENT_QUOTE_ABOVE_LIMIT. Every call without an Idempotency-Key is a new payment: " +
      "send one to retry safely. The holders are paid by the keeper.",
    auth: true,
    authorize: byRole("debtor"),
    idempotent: true,
    params: ReceivableIdParams,
    body: RepaySchema,
    responses: { 200: { description: "paid", schema: RepaidSchema } },
    errors: [400, 401, 403, 404, 409, 503],
  }).handle(async (ctx, { actor, params: { id }, body }) => {
    return { status: 200, body: await repayReceivable(ctx, actor, id, body) };
  }),
  defineRoute({
    method: "get",
    path: "/v1/receivables/:id/repayments",
    operationId: "listRepayments",
    tag: "repayments",
    summary: "The repayments of a receivable, what was paid out, and the current early-repayment quote",
    auth: true,
    params: ReceivableIdParams,
    query: ListRepaymentsQuery,
    responses: {
      200: { description: "repayments, a page at a time in chain order", schema: RepaymentListSchema },
    },
    errors: [400, 401, 403, 404, 409],
  }).handle(async (ctx, { actor, params: { id }, query }) => {
    return { status: 200, body: await listRepayments(ctx, actor, id, query) };
  }),
  defineRoute({
    method: "post",
    path: "/v1/parties/:id/early-payment-rate",
    operationId: "setEarlyPaymentRate",
    tag: "repayments",
    summary: "Set a debtor's annual early-payment discount rate in basis points (operator)",
    description:
      "0 switches early payment off. Applies to receivables of this debtor registered from now on: each receivable keeps the rate it was registered with.",
    auth: true,
    authorize: byRole("operator"),
    idempotent: true,
    params: IdParams,
    body: EarlyPaymentRateSchema,
    responses: {
      200: { description: "set on-chain", schema: EarlyPaymentRateSetSchema },
    },
    errors: [400, 401, 403, 404, 503],
  }).handle(async (ctx, { actor, params: { id }, body }) => {
    return { status: 200, body: await setEarlyPaymentRate(ctx, actor, id, body) };
  }),
];
