// /v1 routes for audit (filled in by the audit work).
import type { RouteSpec } from "../route-spec.js";

export const auditRoutes: RouteSpec[] = [];
