// /v1/operator routes: operator-only controls of a local chain, through the service's private
// chain handle (the public JSON-RPC endpoint has none).
import { byRole } from "../../model/actor.js";
import { AdvanceClockSchema, advanceLocalClock, ClockAdvancedSchema } from "../../domain/operator-clock.js";
import { defineRoute, type RouteSpec } from "../route-spec.js";

export const operatorRoutes: RouteSpec[] = [
  defineRoute({
    method: "post",
    path: "/v1/operator/chain/advance-time",
    operationId: "advanceLocalChainTime",
    tag: "operations",
    summary: "Move the local chain's clock forward (operator, local chain only)",
    description:
      "For demos and trials: mines one block after moving the clock. 409 CLOCK_NOT_LOCAL on any other chain.",
    auth: true,
    authorize: byRole("operator"),
    body: AdvanceClockSchema,
    responses: {
      200: { description: "the clock moved", schema: ClockAdvancedSchema },
    },
    errors: [400, 401, 403, 409, 503],
  }).handle(async (ctx, { actor, body }) => {
    return { status: 200, body: await advanceLocalClock(ctx, actor, body) };
  }),
];
