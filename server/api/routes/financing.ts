// /v1/financing-requests: holders open and cancel requests on their certificates and repay pledges;
// financiers browse the open market, fund (delivery versus payment) and foreclose defaulted pledges.
import { z } from "zod";
import {
  cancelFinancingRequest,
  foreclosePledge,
  FinancingRequestIdParam,
  FinancingRequestViewSchema,
  fundFinancingRequest,
  getFinancingRequest,
  ListFinancingRequestsQuery,
  listFinancingRequests,
  openFinancingRequest,
  OpenFinancingRequestSchema,
  repayPledge,
} from "../../domain/financing.js";
import { quoteCertificate, QuoteSchema } from "../../risk/quotes.js";
import { requireActor, type RouteSpec } from "../route-spec.js";
import { errorResponses } from "../schemas.js";
import { parseOrThrow } from "../validation.js";

const Params = z.object({ id: FinancingRequestIdParam });

export const financingRoutes: RouteSpec[] = [
  {
    method: "post",
    path: "/v1/financing-requests",
    tag: "financing",
    summary: "Ask for financing on a certificate: discount sale or pledge (holder)",
    description:
      "The holder's key opens FinancingMarket.openRequest and the certificate locks on-chain at once: it cannot be split, moved or financed again until the request is cancelled or ends (409 CERTIFICATE_LOCKED). Terms: 0 < price <= face; a pledge also needs price <= repayAmount <= face (422 FINANCING_TERMS_INVALID).",
    auth: true,
    idempotent: true,
    body: OpenFinancingRequestSchema,
    responses: {
      201: { description: "opened; the certificate is locked", schema: FinancingRequestViewSchema },
      ...errorResponses(400, 401, 403, 404, 409, 422, 503),
    },
    async handler(ctx, input) {
      const actor = requireActor(input);
      const body = parseOrThrow(OpenFinancingRequestSchema, input.body, "body");
      return { status: 201, body: await openFinancingRequest(ctx, actor, body) };
    },
  },
  {
    method: "get",
    path: "/v1/financing-requests",
    tag: "financing",
    summary: "The financing market: requests with their terms, debtor, tenor, face value, tier and verification",
    description:
      "Financiers, the operator and auditors see every request; other parties see the open ones and their own.",
    auth: true,
    query: ListFinancingRequestsQuery,
    responses: {
      200: {
        description: "requests, oldest first",
        schema: z.object({ requests: z.array(FinancingRequestViewSchema) }),
      },
      ...errorResponses(400, 401),
    },
    async handler(ctx, input) {
      const actor = requireActor(input);
      const query = parseOrThrow(ListFinancingRequestsQuery, input.query, "query");
      return { status: 200, body: { requests: await listFinancingRequests(ctx, actor, query) } };
    },
  },
  {
    method: "get",
    path: "/v1/financing-requests/:id",
    tag: "financing",
    summary: "Read one financing request, with the risk-priced quote for its certificate",
    auth: true,
    params: Params,
    responses: {
      200: {
        description: "the request and its quote",
        schema: FinancingRequestViewSchema.extend({ quote: QuoteSchema }),
      },
      ...errorResponses(400, 401, 403, 404),
    },
    async handler(ctx, input) {
      const actor = requireActor(input);
      const { id } = parseOrThrow(Params, input.params, "params");
      const view = await getFinancingRequest(ctx, actor, id);
      return {
        status: 200,
        body: { ...view, quote: await quoteCertificate(ctx, view.certificateId, view.holderAddress) },
      };
    },
  },
  {
    method: "post",
    path: "/v1/financing-requests/:id/cancel",
    tag: "financing",
    summary: "Withdraw an unfunded request and unlock the certificate (holder)",
    auth: true,
    idempotent: true,
    params: Params,
    responses: {
      200: { description: "cancelled", schema: z.object({ request: FinancingRequestViewSchema, txHash: z.string() }) },
      ...errorResponses(400, 401, 403, 404, 409, 503),
    },
    async handler(ctx, input) {
      const actor = requireActor(input);
      const { id } = parseOrThrow(Params, input.params, "params");
      return { status: 200, body: await cancelFinancingRequest(ctx, actor, id) };
    },
  },
  {
    method: "post",
    path: "/v1/financing-requests/:id/fund",
    tag: "financing",
    summary: "Fund a request at its listed terms (custodial financier)",
    description:
      "Approves the settlement token for exactly the price, then calls FinancingMarket.fund with the price and repay amount shown by GET: the holder is paid and the certificate (discount) or the pledge (pledge) goes to the financier in one transaction. A financier with its own key uses `npm run financier -- fund <id>` instead.",
    auth: true,
    idempotent: true,
    params: Params,
    responses: {
      200: {
        description: "funded",
        schema: z.object({
          request: FinancingRequestViewSchema,
          txHashes: z.object({ approve: z.string(), fund: z.string() }),
        }),
      },
      ...errorResponses(400, 401, 403, 404, 409, 503),
    },
    async handler(ctx, input) {
      const actor = requireActor(input);
      const { id } = parseOrThrow(Params, input.params, "params");
      return { status: 200, body: await fundFinancingRequest(ctx, actor, id) };
    },
  },
  {
    method: "post",
    path: "/v1/financing-requests/:id/repay-pledge",
    tag: "financing",
    summary: "Repay a pledge in full and unlock the certificate (custodial holder)",
    description:
      "Approves the settlement token for exactly what is still owed to the pledgee, then calls FinancingMarket.repayPledge: the pledgee is paid and the certificate unlocks in one transaction. 409 FINANCING_WRONG_STATUS unless pledged, 409 INSUFFICIENT_BALANCE if the holder holds less than is owed.",
    auth: true,
    idempotent: true,
    params: Params,
    responses: {
      200: {
        description: "repaid; the request is released",
        schema: z.object({
          request: FinancingRequestViewSchema,
          txHashes: z.object({ approve: z.string(), repay: z.string() }),
        }),
      },
      ...errorResponses(400, 401, 403, 404, 409, 503),
    },
    async handler(ctx, input) {
      const actor = requireActor(input);
      const { id } = parseOrThrow(Params, input.params, "params");
      return { status: 200, body: await repayPledge(ctx, actor, id) };
    },
  },
  {
    method: "post",
    path: "/v1/financing-requests/:id/foreclose",
    tag: "financing",
    summary: "Take the pledged certificate after its receivable defaulted (custodial pledgee)",
    description:
      "Calls FinancingMarket.foreclose: the certificate is delivered to the pledgee. 409 FINANCING_WRONG_STATUS unless pledged, 409 RECEIVABLE_WRONG_STATUS until the receivable is marked defaulted.",
    auth: true,
    idempotent: true,
    params: Params,
    responses: {
      200: {
        description: "foreclosed; the certificate is the pledgee's",
        schema: z.object({
          request: FinancingRequestViewSchema,
          certificate: z.object({ id: z.string(), holderAddress: z.string(), holderPartyId: z.string().nullable() }),
          txHash: z.string(),
        }),
      },
      ...errorResponses(400, 401, 403, 404, 409, 503),
    },
    async handler(ctx, input) {
      const actor = requireActor(input);
      const { id } = parseOrThrow(Params, input.params, "params");
      return { status: 200, body: await foreclosePledge(ctx, actor, id) };
    },
  },
];
