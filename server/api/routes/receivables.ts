// /v1/receivables: suppliers submit trade documents; debtors confirm; everyone entitled reads.
import {
  confirmationRequest,
  ConfirmationRequestSchema,
  ConfirmOutcomeSchema,
  confirmReceivable,
  ConfirmReceivableSchema,
} from "../../domain/confirm-receivable.js";
import { getReceivableView, ReceivableViewSchema } from "../../domain/receivable-view.js";
import { SubmitReceivableSchema } from "../../model/receivable-schema.js";
import { reviewReceivable, ReviewReceivableSchema } from "../../domain/review-receivable.js";
import { submitReceivable } from "../../domain/submit-receivable.js";
import { defineRoute, type RouteSpec } from "../route-spec.js";
import { ReceivableIdParams } from "../schemas.js";

export const receivableRoutes: RouteSpec[] = [
  defineRoute({
    method: "post",
    path: "/v1/receivables",
    operationId: "submitReceivable",
    tag: "receivables",
    summary: "Submit the trade documents of a receivable (supplier)",
    description:
      "Verifies purchase order, delivery and invoice. 201 with status awaiting_confirmation (or held_for_review); 422 VERIFICATION_FAILED lists every failed rule; 409 DUPLICATE_RECEIVABLE names the existing one. Send an Idempotency-Key to retry safely.",
    auth: true,
    idempotent: true,
    body: SubmitReceivableSchema,
    responses: {
      201: { description: "verified and stored", schema: ReceivableViewSchema },
      200: { description: "the same submission again", schema: ReceivableViewSchema },
    },
    errors: [400, 401, 403, 409, 422],
  }).handle(async (ctx, { actor, body }) => {
    const outcome = await submitReceivable(ctx, actor, body);
    return { status: outcome.created ? 201 : 200, body: outcome.receivable };
  }),
  defineRoute({
    method: "get",
    path: "/v1/receivables/:id",
    operationId: "getReceivable",
    tag: "receivables",
    summary: "Status, parties, face value, due date, document hash, verification report, root certificate, tx hashes",
    auth: true,
    params: ReceivableIdParams,
    responses: {
      200: { description: "the receivable", schema: ReceivableViewSchema },
    },
    errors: [400, 401, 403, 404],
  }).handle(async (ctx, { actor, params: { id } }) => {
    return { status: 200, body: await getReceivableView(ctx, actor, id) };
  }),
  defineRoute({
    method: "get",
    path: "/v1/receivables/:id/confirmation",
    operationId: "getConfirmationTypedData",
    tag: "receivables",
    summary: "The EIP-712 typed data a non-custodial debtor signs (debtor)",
    auth: true,
    params: ReceivableIdParams,
    responses: { 200: { description: "typed data for eth_signTypedData_v4", schema: ConfirmationRequestSchema } },
    errors: [400, 401, 403, 404],
  }).handle(async (ctx, { actor, params: { id } }) => {
    return { status: 200, body: await confirmationRequest(ctx, actor, id) };
  }),
  defineRoute({
    method: "post",
    path: "/v1/receivables/:id/confirm",
    operationId: "confirmReceivable",
    tag: "receivables",
    summary: "Confirm the payable, register it on-chain and issue the root certificate (debtor)",
    description:
      "A custodial debtor's confirmation is signed by the service; a non-custodial debtor sends { nonce, deadline, signature }.",
    auth: true,
    idempotent: true,
    params: ReceivableIdParams,
    body: ConfirmReceivableSchema,
    bodyOptional: true,
    responses: {
      200: { description: "registered", schema: ConfirmOutcomeSchema },
    },
    errors: [400, 401, 403, 404, 409, 422, 503],
  }).handle(async (ctx, { actor, params: { id }, body }) => {
    return { status: 200, body: await confirmReceivable(ctx, actor, id, body) };
  }),
  defineRoute({
    method: "post",
    path: "/v1/receivables/:id/review",
    operationId: "reviewReceivable",
    tag: "receivables",
    summary: "Approve or reject a submission held for manual review (operator)",
    auth: true,
    idempotent: true,
    params: ReceivableIdParams,
    body: ReviewReceivableSchema,
    responses: {
      200: { description: "decided", schema: ReceivableViewSchema },
    },
    errors: [400, 401, 403, 404, 409],
  }).handle(async (ctx, { actor, params: { id }, body }) => {
    return { status: 200, body: await reviewReceivable(ctx, actor, id, body) };
  }),
];
