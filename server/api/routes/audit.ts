// /v1/audit: read-only views for auditors, regulators and risk teams — a receivable's
// whole certificate tree (JSON, text, Graphviz, Mermaid), a party's exposure, and a
// check of the service's index against the chain's events.
import { z } from "zod";
import { partyExposure, ExposureQuery, ExposureSchema } from "../../domain/audit/exposure.js";
import {
  EXPOSURE_LISTS,
  exposureListPage,
  exposureListPageSchema,
  type ExposureList,
} from "../../domain/audit/exposure-lists.js";
import { PageQuery } from "../../model/page.js";
import { renderTrace, TRACE_FORMATS } from "../../domain/audit/render.js";
import { buildTrace, TraceSchema } from "../../domain/audit/trace.js";
import { verifyFromChain, VerifyReportSchema } from "../../domain/audit/verify-from-chain.js";
import { defineRoute, type RouteSpec } from "../route-spec.js";
import { IdParams, ReceivableIdParams } from "../schemas.js";

const TraceQuery = z.object({
  format: z
    .enum(TRACE_FORMATS)
    .default("json")
    .meta({ description: "json (default); text: a tree for the terminal; dot: Graphviz; mermaid" }),
});

const VerifyParams = z.object({
  receivableId: z.string().regex(/^0x[0-9a-f]{64}$/, "a receivable id is 0x and 64 lowercase hex digits"),
});

export const auditRoutes: RouteSpec[] = [
  defineRoute({
    method: "get",
    path: "/v1/audit/receivables/:id/trace",
    operationId: "traceReceivable",
    tag: "audit",
    summary:
      "The whole certificate tree of a receivable: holders, tiers, financing, payouts, transactions, conservation (auditor, operator, seller, debtor)",
    description:
      "From the root certificate to every live, locked, settled and retired piece. `conservation.conserves` is true when the leaves add up to the root and every split to its parent. " +
      "?format=text answers a readable tree (text/plain), dot a Graphviz digraph (text/vnd.graphviz), mermaid a Mermaid flowchart (text/plain).",
    auth: true,
    params: ReceivableIdParams,
    query: TraceQuery,
    responses: {
      200: {
        description: "the trace (JSON unless another format was asked for)",
        schema: TraceSchema,
        text: ["text/plain", "text/vnd.graphviz"],
      },
    },
    errors: [400, 401, 403, 404],
  }).handle(async (ctx, { actor, params: { id }, query: { format } }) => {
    const trace = await buildTrace(ctx, actor, id);
    if (format === "json") return { status: 200, body: trace };
    const rendered = renderTrace(trace, format);
    return { status: 200, body: rendered.body, contentType: rendered.contentType };
  }),
  defineRoute({
    method: "get",
    path: "/v1/audit/parties/:id/exposure",
    operationId: "getPartyExposure",
    tag: "audit",
    summary:
      "What a party is owed (by tier, debtor and maturity), owes as a debtor, and has at stake as a financier (auditor, operator, the party itself)",
    description:
      "Totals count every certificate, receivable and request of the party; each list is its first page (`limit` items, default 50), " +
      "with a nextCursor for /v1/audit/parties/{id}/exposure/certificates, /receivables, /pledges or /purchases.",
    auth: true,
    params: IdParams,
    query: ExposureQuery,
    responses: { 200: { description: "the exposure", schema: ExposureSchema } },
    errors: [400, 401, 403, 404],
  }).handle(async (ctx, { actor, params: { id }, query }) => {
    return { status: 200, body: await partyExposure(ctx, actor, id, query) };
  }),
  ...(Object.keys(EXPOSURE_LISTS) as ExposureList[]).map((list) =>
    defineRoute({
      method: "get",
      path: `/v1/audit/parties/:id/exposure/${list}`,
      operationId: `listExposure${list[0]!.toUpperCase()}${list.slice(1)}`,
      tag: "audit",
      summary: `A page of a party's exposure: ${EXPOSURE_LISTS[list].what} (auditor, operator, the party itself)`,
      auth: true,
      params: IdParams,
      query: PageQuery,
      responses: { 200: { description: "one page", schema: exposureListPageSchema(list) } },
      errors: [400, 401, 403, 404],
    }).handle(async (ctx, { actor, params: { id }, query }) => {
      return { status: 200, body: await exposureListPage(ctx, actor, id, list, query) };
    }),
  ),
  defineRoute({
    method: "get",
    path: "/v1/audit/verify/:receivableId",
    operationId: "verifyReceivableAgainstChain",
    tag: "audit",
    summary:
      "Rebuild a receivable's tree from the chain's events alone and compare it with the service's index (auditor, operator)",
    description:
      "Reads the contracts' logs from the deployment block (never the index) and replays them; every field that differs from the index is listed. " +
      "The contracts' view functions at the same block are a third opinion (`contractView`).",
    auth: true,
    params: VerifyParams,
    responses: {
      200: { description: "the comparison", schema: VerifyReportSchema },
    },
    errors: [400, 401, 403, 404, 503],
  }).handle(async (ctx, { actor, params: { receivableId } }) => {
    return { status: 200, body: await verifyFromChain(ctx, actor, receivableId) };
  }),
];
