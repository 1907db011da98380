// /v1 routes for recourse (issue 16): the holder endorses a piece with recourse before passing it
// on; a holder that bore a loss opens a claim on the nearest guarantor; the guarantor pays it
// and may pass it up the chain. The service signs with the caller's custodial key.
import { z } from "zod";
import { CertificateIdParam } from "../../domain/certificates.js";
import {
  escalateRecourseClaim,
  grantRecourse,
  listRecourseClaims,
  ListRecourseClaimsQuery,
  openRecourseClaim,
  OpenRecourseClaimSchema,
  payRecourseClaim,
  RecourseClaimIdParams,
  RecourseClaimListSchema,
  RecourseClaimOutcomeSchema,
  RecourseGrantOutcomeSchema,
} from "../../domain/recourse.js";
import { byRole } from "../../model/actor.js";
import { HOLDER_ROLES } from "../../model/parties-schema.js";
import { defineRoute, type RouteSpec } from "../route-spec.js";

const CertificateParams = z.object({ id: CertificateIdParam });

export const recourseRoutes: RouteSpec[] = [
  defineRoute({
    method: "post",
    path: "/v1/certificates/:id/recourse",
    operationId: "grantRecourse",
    tag: "recourse",
    summary: "Endorse a certificate with recourse before passing it on (its holder)",
    description:
      "Irrevocable: the holder guarantees this piece and every piece later split from it to every later holder. " +
      "Refusals: RECOURSE_NOT_HOLDER, RECOURSE_ALREADY_GRANTED, RECOURSE_TOO_MANY_ENDORSEMENTS, RECOURSE_CERTIFICATE_NOT_LIVE.",
    auth: true,
    authorize: byRole(...HOLDER_ROLES),
    idempotent: true,
    params: CertificateParams,
    responses: { 200: { description: "endorsed", schema: RecourseGrantOutcomeSchema } },
    errors: [400, 401, 403, 404, 409, 503],
  }).handle(async (ctx, { actor, params: { id } }) => {
    return { status: 200, body: await grantRecourse(ctx, actor, id) };
  }),
  defineRoute({
    method: "post",
    path: "/v1/certificates/:id/recourse-claims",
    operationId: "openRecourseClaim",
    tag: "recourse",
    summary: "Claim a loss on this leaf from its nearest guarantor (its holder)",
    description:
      "dilution: the cut a credit note made on the leaf; default: what the leaf is still owed once the receivable defaulted " +
      "(the ledger is approved for the leaf, which goes to the guarantor when paid). The service picks the nearest " +
      "endorsement on the leaf's lineage that is not the holder's own. Refusals: RECOURSE_NO_GUARANTOR, RECOURSE_NOT_DEFAULTED, " +
      "RECOURSE_DEFAULT_ALREADY_CLAIMED, RECOURSE_NOTHING_TO_CLAIM, RECOURSE_NOT_CREDITOR.",
    auth: true,
    authorize: byRole(...HOLDER_ROLES),
    idempotent: true,
    params: CertificateParams,
    body: OpenRecourseClaimSchema,
    responses: { 200: { description: "claim opened", schema: RecourseClaimOutcomeSchema } },
    errors: [400, 401, 403, 404, 409, 422, 503],
  }).handle(async (ctx, { actor, params: { id }, body }) => {
    return { status: 200, body: await openRecourseClaim(ctx, actor, id, body) };
  }),
  defineRoute({
    method: "post",
    path: "/v1/recourse-claims/:id/pay",
    operationId: "payRecourseClaim",
    tag: "recourse",
    summary: "Pay an open recourse claim (its guarantor)",
    description:
      "Approves exactly the amount to the recourse ledger, then pays; the allowance is reset if the payment fails. " +
      "A default claim delivers the leaf to the guarantor. Refusals: RECOURSE_CLAIM_WRONG_STATUS, ERC20_INSUFFICIENT_BALANCE.",
    auth: true,
    authorize: byRole(...HOLDER_ROLES),
    idempotent: true,
    params: RecourseClaimIdParams,
    responses: { 200: { description: "paid", schema: RecourseClaimOutcomeSchema } },
    errors: [400, 401, 403, 404, 409, 503],
  }).handle(async (ctx, { actor, params: { id } }) => {
    return { status: 200, body: await payRecourseClaim(ctx, actor, id) };
  }),
  defineRoute({
    method: "post",
    path: "/v1/recourse-claims/:id/escalate",
    operationId: "escalateRecourseClaim",
    tag: "recourse",
    summary: "Pass a paid claim up the chain to the nearest endorser above (the guarantor that paid)",
    description:
      "Answers the new claim. Refusals: RECOURSE_NO_GUARANTOR, RECOURSE_CLAIM_WRONG_STATUS, RECOURSE_ALREADY_ESCALATED.",
    auth: true,
    authorize: byRole(...HOLDER_ROLES),
    idempotent: true,
    params: RecourseClaimIdParams,
    responses: { 200: { description: "the new claim, one endorser up", schema: RecourseClaimOutcomeSchema } },
    errors: [400, 401, 403, 404, 409, 422, 503],
  }).handle(async (ctx, { actor, params: { id } }) => {
    return { status: 200, body: await escalateRecourseClaim(ctx, actor, id) };
  }),
  defineRoute({
    method: "get",
    path: "/v1/recourse-claims",
    operationId: "listRecourseClaims",
    tag: "recourse",
    summary: "The recourse claims a party is owed or owes, newest first (keyset-paged)",
    auth: true,
    query: ListRecourseClaimsQuery,
    responses: { 200: { description: "a page of claims", schema: RecourseClaimListSchema } },
    errors: [400, 401, 403, 404],
  }).handle(async (ctx, { actor, query }) => {
    return { status: 200, body: await listRecourseClaims(ctx, actor, query) };
  }),
];
