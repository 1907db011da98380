// /v1 routes for financing (filled in by the financing work).
import type { RouteSpec } from "../route-spec.js";

export const financingRoutes: RouteSpec[] = [];
