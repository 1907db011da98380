// /v1/receivables: suppliers submit trade documents; debtors confirm; everyone entitled reads.
import { byRole } from "../../model/actor.js";
import {
  confirmationRequest,
  ConfirmationRequestSchema,
  ConfirmOutcomeSchema,
  confirmReceivable,
  confirmReceivableAsync,
  ConfirmReceivableSchema,
  AcceptedConfirmationSchema,
  getRegistrationState,
  RegistrationStateSchema,
} from "../../domain/confirm-receivable.js";
import { getReceivableView, ReceivableViewSchema } from "../../domain/receivable-view.js";
import { listReceivables, ListReceivablesQuery, ReceivableListSchema } from "../../domain/list-receivables.js";
import { SubmitReceivableSchema } from "../../model/receivable-schema.js";
import { reviewReceivable, ReviewReceivableSchema } from "../../domain/review-receivable.js";
import {
  declineReceivable,
  DeclineReceivableSchema,
  withdrawReceivable,
  WithdrawReceivableSchema,
} from "../../domain/close-submission.js";
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
    authorize: byRole("supplier"),
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
    path: "/v1/receivables",
    operationId: "listReceivables",
    tag: "receivables",
    summary: "The receivables a party sold or owes, newest first, with their verification reports",
    description:
      "A supplier's submissions (as=seller) and a debtor's payables (as=debtor; status=awaiting_confirmation for those waiting for its consent); the operator's review queue is status=held_for_review. Filters: counterpartyId, dueFrom/dueTo. Parties list their own; auditors and the operator any party's, or all. Paged: { items, nextCursor } (receivables repeats items under its old name).",
    auth: true,
    query: ListReceivablesQuery,
    responses: {
      200: { description: "receivables", schema: ReceivableListSchema },
    },
    errors: [400, 401, 403],
  }).handle(async (ctx, { actor, query }) => {
    const page = await listReceivables(ctx, actor, query);
    return { status: 200, body: { ...page, receivables: page.items } };
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
      "A custodial debtor's confirmation is signed by the service; a non-custodial debtor sends { nonce, deadline, signature }. " +
      "The answer is 200 once the receivable is on-chain. With `Prefer: respond-async` it is 202 as soon as the confirmation is checked and stored, " +
      "with the registration's state and a Location header to GET /v1/receivables/{id}/registration, which follows it to registered or refused " +
      "(the receivable.registered webhook tells it too). Refusals known before the chain (403, 404, 409, 422) are the same either way.",
    auth: true,
    authorize: byRole("debtor"),
    idempotent: true,
    respondAsync: true,
    params: ReceivableIdParams,
    body: ConfirmReceivableSchema,
    bodyOptional: true,
    responses: {
      200: { description: "registered", schema: ConfirmOutcomeSchema },
      202: {
        description: "accepted (Prefer: respond-async): confirmed and on its way to the registry",
        schema: AcceptedConfirmationSchema,
        location: {
          description: "The registration resource to follow: GET /v1/receivables/{id}/registration",
          of: registrationLocation,
        },
      },
    },
    errors: [400, 401, 403, 404, 409, 422, 503],
  }).handle(async (ctx, { actor, params: { id }, body, respondAsync }) => {
    if (respondAsync) return { status: 202, body: await confirmReceivableAsync(ctx, actor, id, body) };
    return { status: 200, body: await confirmReceivable(ctx, actor, id, body) };
  }),
  defineRoute({
    method: "get",
    path: "/v1/receivables/:id/registration",
    operationId: "getReceivableRegistration",
    tag: "receivables",
    summary: "Where the receivable's registration stands: not_confirmed, pending, registered or refused",
    description:
      "The status resource of a confirmation accepted with Prefer: respond-async: registered with its root certificate and transaction, or refused with the error the synchronous confirmation would have answered. Readable by whoever may read the receivable.",
    auth: true,
    params: ReceivableIdParams,
    responses: { 200: { description: "the registration's state", schema: RegistrationStateSchema } },
    errors: [400, 401, 403, 404],
  }).handle(async (ctx, { actor, params: { id } }) => {
    return { status: 200, body: await getRegistrationState(ctx, actor, id) };
  }),
  defineRoute({
    method: "post",
    path: "/v1/receivables/:id/review",
    operationId: "reviewReceivable",
    tag: "receivables",
    summary: "Approve or reject a submission held for manual review (operator)",
    auth: true,
    authorize: byRole("operator"),
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
  defineRoute({
    method: "post",
    path: "/v1/receivables/:id/decline",
    operationId: "declineReceivable",
    tag: "receivables",
    summary: "Decline a submission awaiting your confirmation, with a reason (debtor)",
    description:
      "Status becomes declined; nothing reaches the chain. The invoice number, order capacity and delivery are free for a corrected resubmission, which keeps this one in its history. 409 RECEIVABLE_NOT_CLOSABLE once it is confirming or registered.",
    auth: true,
    authorize: byRole("debtor"),
    idempotent: true,
    params: ReceivableIdParams,
    body: DeclineReceivableSchema,
    responses: {
      200: { description: "declined", schema: ReceivableViewSchema },
    },
    errors: [400, 401, 403, 404, 409],
  }).handle(async (ctx, { actor, params: { id }, body }) => {
    return { status: 200, body: await declineReceivable(ctx, actor, id, body) };
  }),
  defineRoute({
    method: "post",
    path: "/v1/receivables/:id/withdraw",
    operationId: "withdrawReceivable",
    tag: "receivables",
    summary: "Withdraw your submission before it goes on-chain (supplier)",
    description:
      "Allowed while held for review or awaiting confirmation. Status becomes withdrawn; the invoice number, order capacity and delivery are free for a corrected resubmission, which keeps this one in its history. 409 RECEIVABLE_NOT_CLOSABLE once it is confirming or registered.",
    auth: true,
    authorize: byRole("supplier"),
    idempotent: true,
    params: ReceivableIdParams,
    body: WithdrawReceivableSchema,
    bodyOptional: true,
    responses: {
      200: { description: "withdrawn", schema: ReceivableViewSchema },
    },
    errors: [400, 401, 403, 404, 409],
  }).handle(async (ctx, { actor, params: { id }, body }) => {
    return { status: 200, body: await withdrawReceivable(ctx, actor, id, body ?? {}) };
  }),
];

function registrationLocation(body: { registration: { receivableId: string } }): string {
  return `/v1/receivables/${body.registration.receivableId}/registration`;
}
