// /v1 routes for repayments (filled in by the repayments work).
import type { RouteSpec } from "../route-spec.js";

export const repaymentsRoutes: RouteSpec[] = [];
