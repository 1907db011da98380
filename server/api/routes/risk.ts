// /v1/risk routes: scores, limits, quotes, alerts (filled in by the risk work).
import type { RouteSpec } from "../route-spec.js";

export const riskRoutes: RouteSpec[] = [];
