// /v1/risk routes: party risk views (score, factors, limits, exposure, alerts), the alert
// feed, industry risk indices and base limits set by the operator, and financing quotes.
import { z } from "zod";
import { byRole, requireRole } from "../../model/actor.js";
import { CertificateIdParam } from "../../domain/certificates.js";
import { FinancingRequestIdParam } from "../../domain/financing.js";
import { AlertsPageSchema, listAlertsPage, ListAlertsQuery, requireAlertReader } from "../../risk/alerts.js";
import {
  IndustryParam,
  IndustryRiskSchema,
  IndustryRiskSetSchema,
  listIndustryRisks,
  setIndustryRisk,
  SetIndustryRiskSchema,
} from "../../risk/industry.js";
import { CreditLimitSchema, setBaseLimit, SetLimitSchema } from "../../risk/limits.js";
import { quoteForCertificate, QuoteSchema } from "../../risk/quotes.js";
import { quoteForRequest } from "../../domain/financing.js";
import { catchUpRisk } from "../../risk/refresh.js";
import { partyRiskView, PartyRiskSchema } from "../../risk/view.js";
import { defineRoute, type RouteSpec } from "../route-spec.js";
import { IdParams } from "../schemas.js";

const IndustryParams = z.object({ industry: IndustryParam });
const LimitParams = z.object({ partyId: z.string().min(1).max(80) });
const RequestParams = z.object({ id: FinancingRequestIdParam });
const CertificateParams = z.object({ id: CertificateIdParam });

export const riskRoutes: RouteSpec[] = [
  defineRoute({
    method: "get",
    path: "/v1/risk/parties/:id",
    operationId: "getPartyRisk",
    tag: "risk",
    summary:
      "A party's credit score with its factors, limits and exposure, financing terms on its debts, and alerts (operator, auditor, financier, the party itself)",
    description:
      "Computed fresh from the platform's data on every read. docs/risk.md explains every factor and number.",
    auth: true,
    params: IdParams,
    responses: {
      200: { description: "the party's risk", schema: PartyRiskSchema },
    },
    errors: [400, 401, 403, 404],
  }).handle(async (ctx, { actor, params: { id } }) => {
    return { status: 200, body: await partyRiskView(ctx, actor, id) };
  }),
  defineRoute({
    method: "get",
    path: "/v1/risk/alerts",
    operationId: "listRiskAlerts",
    tag: "risk",
    summary:
      "Early-warning alerts, newest first: scores falling below the threshold, overdue shares rising (operator, auditor, financier)",
    auth: true,
    authorize: requireAlertReader,
    query: ListAlertsQuery,
    responses: {
      200: { description: "a page of alerts", schema: AlertsPageSchema },
    },
    errors: [400, 401, 403],
  }).handle(async (ctx, { query }) => {
    await catchUpRisk(ctx);
    const page = await listAlertsPage(ctx, query);
    return { status: 200, body: { ...page, alerts: page.items } };
  }),
  defineRoute({
    method: "get",
    path: "/v1/risk/industries",
    operationId: "listIndustryRisks",
    tag: "risk",
    summary: "Industry risk indices and thresholds set so far (operator, auditor, financier)",
    auth: true,
    authorize: requireAlertReader,
    responses: {
      200: { description: "industries", schema: z.object({ industries: z.array(IndustryRiskSchema) }) },
    },
    errors: [401, 403],
  }).handle(async (ctx) => {
    return { status: 200, body: { industries: await listIndustryRisks(ctx) } };
  }),
  defineRoute({
    method: "post",
    path: "/v1/risk/industries/:industry",
    operationId: "setIndustryRisk",
    tag: "risk",
    summary: "Set an industry's risk index and threshold (operator)",
    description:
      "Above the threshold, the industry's parties' limits are cut to 50 %, financing on their debts allows at most 90 days' tenor and 10 percentage points less advance rate. Takes effect on the next check.",
    auth: true,
    authorize: byRole("operator"),
    idempotent: true,
    params: IndustryParams,
    body: SetIndustryRiskSchema,
    responses: {
      200: {
        description: "set",
        schema: IndustryRiskSetSchema,
      },
    },
    errors: [400, 401, 403],
  }).handle(async (ctx, { actor, params: { industry }, body }) => {
    return { status: 200, body: await setIndustryRisk(ctx, actor, industry, body) };
  }),
  defineRoute({
    method: "post",
    path: "/v1/risk/limits/:partyId",
    operationId: "setBaseLimit",
    tag: "risk",
    summary: "Set a party's base credit limit as a debtor or as a supplier (operator)",
    description: "The limit in force is the base times the score band's multiplier times the industry cut.",
    auth: true,
    idempotent: true,
    authorize: (actor) => requireRole(actor, "operator"),
    params: LimitParams,
    body: SetLimitSchema,
    responses: {
      200: { description: "set; the limit now in force", schema: CreditLimitSchema },
    },
    errors: [400, 401, 403, 404],
  }).handle(async (ctx, { actor, params: { partyId }, body }) => {
    return { status: 200, body: await setBaseLimit(ctx, actor, partyId, body) };
  }),
  defineRoute({
    method: "get",
    path: "/v1/financing-requests/:id/quote",
    operationId: "quoteFinancingRequest",
    tag: "financing",
    summary:
      "Quote a financing request: advance rate, discount rate and price from the debtor's risk, the tenor and concentration, with every component",
    description:
      "Whoever may read the request. `request` compares the request's own price with the quote and the allowed advance rate.",
    auth: true,
    params: RequestParams,
    responses: { 200: { description: "the quote", schema: QuoteSchema } },
    errors: [400, 401, 403, 404],
  }).handle(async (ctx, { actor, params: { id } }) => {
    return { status: 200, body: await quoteForRequest(ctx, actor, id) };
  }),
  defineRoute({
    method: "get",
    path: "/v1/certificates/:id/quote",
    operationId: "quoteCertificate",
    tag: "financing",
    summary:
      "Quote a certificate before asking for financing: the price and the most a request may ask (holder, financier, operator, auditor)",
    auth: true,
    params: CertificateParams,
    responses: { 200: { description: "the quote", schema: QuoteSchema } },
    errors: [400, 401, 403, 404],
  }).handle(async (ctx, { actor, params: { id } }) => {
    return { status: 200, body: await quoteForCertificate(ctx, actor, id) };
  }),
];
