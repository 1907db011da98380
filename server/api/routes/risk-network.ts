// /v1/risk/network/hubs and /v1/risk/stress: the credit network's risk hubs and a
// default-contagion stress run (operator, auditor, financier).
import { byRole } from "../../model/actor.js";
import { defineRoute, type RouteSpec } from "../route-spec.js";
import {
  HubsQuerySchema,
  HubsSchema,
  networkHubs,
  StressBodySchema,
  StressSchema,
  stressNetwork,
} from "../../risk/network/network-risk.js";

export const riskNetworkRoutes: RouteSpec[] = [
  defineRoute({
    method: "get",
    path: "/v1/risk/network/hubs",
    operationId: "getNetworkHubs",
    tag: "risk",
    summary:
      "Risk hubs of the credit network: top parties by betweenness and by exposure (operator, auditor, financier)",
    description:
      "Nodes are parties, edges holder -> debtor weighted by outstanding credit (live and locked leaf certificates of receivables not repaid, face less credit-note cuts less paid out). " +
      "Betweenness counts hops along credit chains, normalized by (n-1)(n-2). Exact up to 2,000 nodes; above that, Brandes from as many random sources as a work budget allows (at least 256; exact again if every source fits), " +
      "with a Hoeffding error bound for every node at once (errorBound.epsilon at errorBound.confidence) and each hub's standard error. The ranking is kept until the index has new events. " +
      "byExposure ranks by what a party owes.",
    auth: true,
    query: HubsQuerySchema,
    responses: { 200: { description: "the hubs", schema: HubsSchema } },
    errors: [400, 401, 403],
  }).handle(async (ctx, { actor, query: { top } }) => {
    return { status: 200, body: await networkHubs(ctx, actor, top) };
  }),
  defineRoute({
    method: "post",
    path: "/v1/risk/stress",
    operationId: "stressNetwork",
    tag: "risk",
    summary:
      "Stress the credit network: if these parties default, which certificates lose how much, and who defaults next (operator, auditor, financier)",
    description:
      "Every outstanding certificate on a defaulted debtor loses ceil(outstanding × (1 - recoveryRate)). A party's buffer is its outside capital (optional, per party id; 0 if not given) plus its claims minus its payables before the stress; " +
      "a party that loses something and ends below zero defaults in the next round, and its payables lose in turn, until a round pushes nobody. " +
      "Recourse (issue 16): a piece passed with recourse passes its loss to its nearest endorser (latest endorsement on the piece, then up through its ancestors, not the holder's own); " +
      "when that endorser defaults, what it carried moves to the next endorser above it, and back to the holder only when every endorser has fallen. " +
      "Open recourse claims on-chain are debts of their guarantor (in buffers; its creditor loses on them when it defaults); a leaf under an open default claim is its guarantor's. Reads only; changes nothing.",
    auth: true,
    authorize: byRole("operator", "auditor", "financier"),
    body: StressBodySchema,
    responses: { 200: { description: "the stress run", schema: StressSchema } },
    errors: [400, 401, 403, 404],
  }).handle(async (ctx, { actor, body }) => {
    return { status: 200, body: await stressNetwork(ctx, actor, body) };
  }),
];
