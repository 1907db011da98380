// A small HTTP client for the integration tests: JSON in, { status, body, headers } out.
// Every answer is checked against the contract the route declares (its RouteSpec, the same
// object the OpenAPI document is written from): the status must be one the route documents,
// and the body must match that status's schema exactly — no field missing, none of the wrong
// type, none the schema does not document. A mismatch fails the test that made the call.
import { isDeepStrictEqual } from "node:util";
import type { z } from "zod";
import { allRoutes } from "../../server/api/app.js";
import { errorStatusesOf, type RouteSpec } from "../../server/api/route-spec.js";
import { ErrorSchema } from "../../server/api/schemas.js";
import { createTierlineClient, type TierlineClient } from "../../client/index.js";

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** Answers any path may get before a route runs: body too large, not JSON, rate limited, a crash. */
const ANY_ROUTE_STATUSES = [413, 415, 429, 500];

/** Served beside the routes, not by a RouteSpec: the OpenAPI document itself and its docs page. */
const DOCUMENTATION = /^\/(openapi\.json|docs)(\/|$)/;

const ROUTES = allRoutes().map((route) => ({
  route,
  pattern: new RegExp(`^${route.path.replace(/:[A-Za-z]+/g, "[^/]+")}/?$`),
}));

export function routeFor(method: string, path: string): RouteSpec | undefined {
  const pathname = new URL(path, "http://localhost").pathname;
  return ROUTES.find(({ route, pattern }) => route.method === method.toLowerCase() && pattern.test(pathname))?.route;
}

/** What is wrong with this answer, measured against the route's declared contract; [] if nothing. */
export function contractViolations(method: string, path: string, response: ApiResponse, contentType: string): string[] {
  if (DOCUMENTATION.test(new URL(path, "http://localhost").pathname)) return [];
  const route = routeFor(method, path);
  const { status, body } = response;
  const isJson = /^application\/(.+\+)?json\b/.test(contentType);
  if (!route) {
    // No route: only the 404 ROUTE_NOT_FOUND and the answers any path may get.
    if (status !== 404 && !ANY_ROUTE_STATUSES.includes(status)) return [`no route answers ${method} ${path}`];
    return checkSchema(ErrorSchema, body, isJson);
  }
  const where = `${route.method.toUpperCase()} ${route.path}`;
  if (status >= 400 && !route.responses[status]) {
    const declared = (errorStatusesOf(route) as number[]).includes(status) || ANY_ROUTE_STATUSES.includes(status);
    const problems = checkSchema(ErrorSchema, body, isJson);
    if (!declared) problems.unshift(`${where} answered ${status}, which its route spec does not declare`);
    return problems;
  }
  const declared = route.responses[status];
  if (!declared) return [`${where} answered ${status}, which its route spec does not declare`];
  if (!isJson) {
    const type = contentType.split(";")[0]!.trim();
    return declared.text?.includes(type) ? [] : [`${where} answered ${status} as ${type}, which it does not declare`];
  }
  return declared.schema ? checkSchema(declared.schema, body, true) : [];
}

function checkSchema(schema: z.ZodType, body: unknown, isJson: boolean): string[] {
  if (!isJson) return ["the body is not JSON"];
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    return parsed.error.issues.slice(0, 10).map((issue) => `${issue.path.join(".") || "(body)"}: ${issue.message}`);
  }
  // zod drops what a schema does not name: what it dropped is undocumented.
  return isDeepStrictEqual(parsed.data, body) ? [] : undocumented(parsed.data, body, "");
}

function undocumented(documented: unknown, sent: unknown, path: string): string[] {
  if (isDeepStrictEqual(documented, sent)) return [];
  if (documented && sent && typeof documented === "object" && typeof sent === "object") {
    const keys = new Set([...Object.keys(sent), ...Object.keys(documented)]);
    return [...keys].flatMap((key) => {
      const at = path ? `${path}.${key}` : key;
      if (!(key in documented)) return [`${at}: sent but not in the schema`];
      if (!(key in sent)) return [`${at}: added by the schema (a default?) but not sent`];
      return undocumented((documented as Record<string, unknown>)[key], (sent as Record<string, unknown>)[key], at);
    });
  }
  return [`${path || "(body)"}: the schema turns ${JSON.stringify(sent)} into ${JSON.stringify(documented)}`];
}

export class ApiClient {
  constructor(
    private readonly baseUrl: () => string,
    private readonly apiKey?: string,
  ) {}

  as(apiKey: string | undefined): ApiClient {
    return new ApiClient(this.baseUrl, apiKey);
  }

  /**
   * The generated, typed client (client/index.ts) with this client's key: paths, parameters
   * and bodies are checked by the compiler against the committed OpenAPI types, and every
   * answer by the route's declared contract, as for `request`.
   */
  get typed(): TierlineClient {
    return createTierlineClient({ baseUrl: this.baseUrl(), apiKey: this.apiKey, fetch: contractCheckedFetch });
  }

  async request<T = any>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse<T>> {
    const response = await fetch(`${this.baseUrl()}${path}`, {
      method,
      headers: {
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
        ...(this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* keep text */
    }
    const answer = { status: response.status, body: parsed as T, headers: response.headers };
    const problems = contractViolations(method, path, answer, response.headers.get("content-type") ?? "");
    if (problems.length > 0) {
      throw new Error(
        `${method} ${path} -> ${response.status} breaks the API contract:\n  ${problems.join("\n  ")}\n` +
          `body: ${text.slice(0, 500)}`,
      );
    }
    return answer;
  }

  get<T = any>(path: string) {
    return this.request<T>("GET", path);
  }

  post<T = any>(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.request<T>("POST", path, body ?? {}, headers);
  }
}

/** fetch, then the same contract check as ApiClient.request: a drifted answer fails the test. */
async function contractCheckedFetch(request: Request): Promise<Response> {
  const response = await fetch(request);
  const text = await response.clone().text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    /* keep text */
  }
  const url = new URL(request.url);
  const problems = contractViolations(
    request.method,
    url.pathname + url.search,
    { status: response.status, body, headers: response.headers },
    response.headers.get("content-type") ?? "",
  );
  if (problems.length > 0) {
    throw new Error(
      `${request.method} ${url.pathname} -> ${response.status} breaks the API contract:\n  ${problems.join("\n  ")}`,
    );
  }
  return response;
}
