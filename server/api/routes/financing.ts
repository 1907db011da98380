// /v1/financing-requests: holders open and cancel requests on their certificates and repay pledges;
// financiers browse the open market, fund (delivery versus payment) and foreclose defaulted pledges.
import { HOLDER_ROLES } from "../../model/parties-schema.js";
import { byRole } from "../../model/actor.js";
import { z } from "zod";
import {
  cancelFinancingRequest,
  ForecloseOutcomeSchema,
  foreclosePledge,
  FinancingRequestTxSchema,
  FinancingRequestIdParam,
  FinancingRequestViewSchema,
  OpenedFinancingRequestSchema,
  fundFinancingRequest,
  FundOutcomeSchema,
  getFinancingRequest,
  ListFinancingRequestsQuery,
  listFinancingRequests,
  FinancingRequestPageSchema,
  openFinancingRequest,
  OpenFinancingRequestSchema,
  repayPledge,
  RepayPledgeOutcomeSchema,
} from "../../domain/financing.js";
import { quoteCertificate, QuoteSchema } from "../../risk/quotes.js";
import { defineRoute, type RouteSpec } from "../route-spec.js";

const Params = z.object({ id: FinancingRequestIdParam });

export const financingRoutes: RouteSpec[] = [
  defineRoute({
    method: "post",
    path: "/v1/financing-requests",
    operationId: "openFinancingRequest",
    tag: "financing",
    summary: "Ask for financing on a certificate: discount sale or pledge (holder)",
    description:
      "The holder's key opens FinancingMarket.openRequest and the certificate locks on-chain at once: it cannot be split, moved or financed again until the request is cancelled or ends (409 CERTIFICATE_LOCKED). Terms: 0 < price <= face; a pledge also needs price <= repayAmount <= face (422 FINANCING_TERMS_INVALID).",
    auth: true,
    authorize: byRole(...HOLDER_ROLES),
    idempotent: true,
    body: OpenFinancingRequestSchema,
    responses: {
      201: { description: "opened; the certificate is locked", schema: OpenedFinancingRequestSchema },
    },
    errors: [400, 401, 403, 404, 409, 422, 503],
  }).handle(async (ctx, { actor, body }) => {
    return { status: 201, body: await openFinancingRequest(ctx, actor, body) };
  }),
  defineRoute({
    method: "get",
    path: "/v1/financing-requests",
    operationId: "listFinancingRequests",
    tag: "financing",
    summary: "The financing market: requests with their terms, debtor, tenor, face value, tier and verification",
    description:
      "Financiers, the operator and auditors see every request; other parties see the open ones and their own.",
    auth: true,
    query: ListFinancingRequestsQuery,
    responses: {
      200: { description: "a page of requests, oldest first", schema: FinancingRequestPageSchema },
    },
    errors: [400, 401],
  }).handle(async (ctx, { actor, query }) => {
    const page = await listFinancingRequests(ctx, actor, query);
    return { status: 200, body: { ...page, requests: page.items } };
  }),
  defineRoute({
    method: "get",
    path: "/v1/financing-requests/:id",
    operationId: "getFinancingRequest",
    tag: "financing",
    summary: "Read one financing request, with the risk-priced quote for its certificate",
    auth: true,
    params: Params,
    responses: {
      200: {
        description: "the request and its quote",
        schema: FinancingRequestViewSchema.extend({ quote: QuoteSchema }),
      },
    },
    errors: [400, 401, 403, 404],
  }).handle(async (ctx, { actor, params: { id } }) => {
    const view = await getFinancingRequest(ctx, actor, id);
    return {
      status: 200,
      body: { ...view, quote: await quoteCertificate(ctx, view.certificateId, view.holderAddress) },
    };
  }),
  defineRoute({
    method: "post",
    path: "/v1/financing-requests/:id/cancel",
    operationId: "cancelFinancingRequest",
    tag: "financing",
    summary: "Withdraw an unfunded request and unlock the certificate (holder)",
    auth: true,
    authorize: byRole(...HOLDER_ROLES),
    idempotent: true,
    params: Params,
    responses: {
      200: { description: "cancelled", schema: FinancingRequestTxSchema },
    },
    errors: [400, 401, 403, 404, 409, 503],
  }).handle(async (ctx, { actor, params: { id } }) => {
    return { status: 200, body: await cancelFinancingRequest(ctx, actor, id) };
  }),
  defineRoute({
    method: "post",
    path: "/v1/financing-requests/:id/fund",
    operationId: "fundFinancingRequest",
    tag: "financing",
    summary: "Fund a request at its listed terms (custodial financier)",
    description:
      "Approves the settlement token for exactly the price, then calls FinancingMarket.fund with the price and repay amount shown by GET: the holder is paid and the certificate (discount) or the pledge (pledge) goes to the financier in one transaction. A financier with its own key uses `npm run financier -- fund <id>` instead.",
    auth: true,
    authorize: byRole("financier"),
    idempotent: true,
    params: Params,
    responses: {
      200: {
        description: "funded",
        schema: FundOutcomeSchema,
      },
    },
    errors: [400, 401, 403, 404, 409, 503],
  }).handle(async (ctx, { actor, params: { id } }) => {
    return { status: 200, body: await fundFinancingRequest(ctx, actor, id) };
  }),
  defineRoute({
    method: "post",
    path: "/v1/financing-requests/:id/repay-pledge",
    operationId: "repayPledge",
    tag: "financing",
    summary: "Repay a pledge in full and unlock the certificate (custodial holder)",
    description:
      "Approves the settlement token for exactly what is still owed to the pledgee, then calls FinancingMarket.repayPledge: the pledgee is paid and the certificate unlocks in one transaction. 409 FINANCING_WRONG_STATUS unless pledged, 409 INSUFFICIENT_BALANCE if the holder holds less than is owed.",
    auth: true,
    authorize: byRole(...HOLDER_ROLES),
    idempotent: true,
    params: Params,
    responses: {
      200: {
        description: "repaid; the request is released",
        schema: RepayPledgeOutcomeSchema,
      },
    },
    errors: [400, 401, 403, 404, 409, 503],
  }).handle(async (ctx, { actor, params: { id } }) => {
    return { status: 200, body: await repayPledge(ctx, actor, id) };
  }),
  defineRoute({
    method: "post",
    path: "/v1/financing-requests/:id/foreclose",
    operationId: "foreclosePledge",
    tag: "financing",
    summary: "Take the pledged certificate after its receivable defaulted (custodial pledgee)",
    description:
      "Calls FinancingMarket.foreclose: the certificate is delivered to the pledgee. 409 FINANCING_WRONG_STATUS unless pledged, 409 RECEIVABLE_WRONG_STATUS until the receivable is marked defaulted.",
    auth: true,
    authorize: byRole("financier"),
    idempotent: true,
    params: Params,
    responses: {
      200: {
        description: "foreclosed; the certificate is the pledgee's",
        schema: ForecloseOutcomeSchema,
      },
    },
    errors: [400, 401, 403, 404, 409, 503],
  }).handle(async (ctx, { actor, params: { id } }) => {
    return { status: 200, body: await foreclosePledge(ctx, actor, id) };
  }),
];
