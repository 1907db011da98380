// /v1/risk/network and /v1/risk/stress routes (filled in by the network-risk work).
import type { RouteSpec } from "../route-spec.js";

export const riskNetworkRoutes: RouteSpec[] = [];
