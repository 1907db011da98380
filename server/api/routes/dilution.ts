// /v1 routes for dilution (issue 16): the debtor disputes a receivable and proposes credit
// notes; the seller consents, and the service applies the note down the tree; anyone entitled
// reads a receivable's disputes and credit notes.
import {
  consentToCreditNote,
  CreditNoteIdParams,
  CreditNoteOutcomeSchema,
  DilutionViewSchema,
  DisputeOutcomeSchema,
  getReceivableDilution,
  openDispute,
  OpenDisputeSchema,
  proposeCreditNote,
  ProposeCreditNoteSchema,
  withdrawCreditNote,
  withdrawDispute,
} from "../../domain/dilution.js";
import { byRole, requireRole } from "../../model/actor.js";
import { defineRoute, type RouteSpec } from "../route-spec.js";
import { ReceivableIdParams } from "../schemas.js";

export const dilutionRoutes: RouteSpec[] = [
  defineRoute({
    method: "post",
    path: "/v1/receivables/:id/disputes",
    operationId: "openDispute",
    tag: "dilution",
    summary: "Dispute a receivable before its due date (debtor)",
    description:
      "While the dispute is open the receivable cannot be split or newly financed; holders keep their claims. " +
      "It ends in a credit note, a withdrawal, or the arbiter's dismissal. Refusals: DISPUTE_ALREADY_OPEN, DISPUTE_AFTER_MATURITY.",
    auth: true,
    authorize: byRole("debtor"),
    idempotent: true,
    params: ReceivableIdParams,
    body: OpenDisputeSchema,
    responses: { 200: { description: "disputed", schema: DisputeOutcomeSchema } },
    errors: [400, 401, 403, 404, 409, 422, 503],
  }).handle(async (ctx, { actor, params: { id }, body }) => {
    requireRole(actor, "debtor");
    return { status: 200, body: await openDispute(ctx, actor, id, body) };
  }),
  defineRoute({
    method: "post",
    path: "/v1/receivables/:id/disputes/withdraw",
    operationId: "withdrawDispute",
    tag: "dilution",
    summary: "Withdraw the open dispute (debtor); refused while a credit note is pending",
    auth: true,
    authorize: byRole("debtor"),
    idempotent: true,
    params: ReceivableIdParams,
    responses: { 200: { description: "withdrawn", schema: DisputeOutcomeSchema } },
    errors: [400, 401, 403, 404, 409, 503],
  }).handle(async (ctx, { actor, params: { id } }) => {
    requireRole(actor, "debtor");
    return { status: 200, body: await withdrawDispute(ctx, actor, id) };
  }),
  defineRoute({
    method: "post",
    path: "/v1/receivables/:id/credit-notes",
    operationId: "proposeCreditNote",
    tag: "dilution",
    summary: "Propose a credit note for goods returned, short or damaged (debtor)",
    description:
      "The service checks it against the invoice it holds: every line named is on the invoice and not above its quantity " +
      "(CREDIT_NOTE_LINE_NOT_INVOICED, CREDIT_NOTE_LINE_ABOVE_INVOICED), the amount is not above those lines' value " +
      "(CREDIT_NOTE_ABOVE_LINES) nor all notes above the invoice (CREDIT_NOTE_ABOVE_INVOICED); the chain refuses more than is owed " +
      "(CREDIT_NOTE_EXCEEDS_OUTSTANDING) and notes once repayment has begun (CREDIT_NOTE_CLOSED). Opens a dispute if none is open.",
    auth: true,
    authorize: byRole("debtor"),
    idempotent: true,
    params: ReceivableIdParams,
    body: ProposeCreditNoteSchema,
    responses: { 200: { description: "proposed", schema: CreditNoteOutcomeSchema } },
    errors: [400, 401, 403, 404, 409, 422, 503],
  }).handle(async (ctx, { actor, params: { id }, body }) => {
    requireRole(actor, "debtor");
    return { status: 200, body: await proposeCreditNote(ctx, actor, id, body) };
  }),
  defineRoute({
    method: "get",
    path: "/v1/receivables/:id/credit-notes",
    operationId: "getReceivableDilution",
    tag: "dilution",
    summary: "A receivable's disputes and credit notes, what is credited and owed, and each leaf's cut",
    auth: true,
    params: ReceivableIdParams,
    responses: { 200: { description: "disputes and credit notes", schema: DilutionViewSchema } },
    errors: [400, 401, 403, 404, 409],
  }).handle(async (ctx, { actor, params: { id } }) => {
    return { status: 200, body: await getReceivableDilution(ctx, actor, id) };
  }),
  defineRoute({
    method: "post",
    path: "/v1/credit-notes/:id/withdraw",
    operationId: "withdrawCreditNote",
    tag: "dilution",
    summary: "Withdraw a credit note still proposed (debtor)",
    auth: true,
    authorize: byRole("debtor"),
    idempotent: true,
    params: CreditNoteIdParams,
    responses: { 200: { description: "withdrawn", schema: CreditNoteOutcomeSchema } },
    errors: [400, 401, 403, 404, 409, 503],
  }).handle(async (ctx, { actor, params: { id } }) => {
    requireRole(actor, "debtor");
    return { status: 200, body: await withdrawCreditNote(ctx, actor, id) };
  }),
  defineRoute({
    method: "post",
    path: "/v1/credit-notes/:id/consent",
    operationId: "consentToCreditNote",
    tag: "dilution",
    summary: "Consent to a credit note as its original seller; the service applies it down the tree (seller)",
    description:
      "The service signs the EIP-712 CreditNoteConsent with the seller's custodial key and applies the note over the " +
      "receivable's complete ascending leaf list: the seller's retained pieces absorb it first, the rest is shared pro rata " +
      "(cumulative rounding in id order). Over a tree wider than MAX_DILUTION_LEAVES (128) the note comes back " +
      "`applying`: the credit is recorded at once and the keeper makes the cuts in passes, then it is `applied`.",
    auth: true,
    authorize: byRole("supplier"),
    idempotent: true,
    params: CreditNoteIdParams,
    responses: { 200: { description: "applied (or applying, over a wide tree)", schema: CreditNoteOutcomeSchema } },
    errors: [400, 401, 403, 404, 409, 422, 503],
  }).handle(async (ctx, { actor, params: { id } }) => {
    requireRole(actor, "supplier");
    return { status: 200, body: await consentToCreditNote(ctx, actor, id) };
  }),
];
