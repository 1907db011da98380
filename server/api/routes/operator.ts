// /v1/operator routes: operator-only controls of a local chain, through the service's private
// chain handle (the public JSON-RPC endpoint has none).
import { AdvanceClockSchema, advanceLocalClock, ClockAdvancedSchema } from "../../domain/operator-clock.js";
import { requireActor, type RouteSpec } from "../route-spec.js";
import { errorResponses } from "../schemas.js";
import { parseOrThrow } from "../validation.js";

export const operatorRoutes: RouteSpec[] = [
  {
    method: "post",
    path: "/v1/operator/chain/advance-time",
    tag: "operations",
    summary: "Move the local chain's clock forward (operator, local chain only)",
    description:
      "For demos and trials: mines one block after moving the clock. 409 CLOCK_NOT_LOCAL on any other chain.",
    auth: true,
    body: AdvanceClockSchema,
    responses: {
      200: { description: "the clock moved", schema: ClockAdvancedSchema },
      ...errorResponses(400, 401, 403, 409, 503),
    },
    async handler(ctx, input) {
      const actor = requireActor(input);
      const body = parseOrThrow(AdvanceClockSchema, input.body, "body");
      return { status: 200, body: await advanceLocalClock(ctx, actor, body) };
    },
  },
];
