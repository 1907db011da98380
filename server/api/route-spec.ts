// One description per endpoint, used three times: to mount the Express route (authenticate,
// parse params, query and body with the spec's schemas, then call the handler with typed
// input), to write the OpenAPI document, and, in the integration tests, to check every
// response against the schema declared for its status. The docs cannot drift from what is
// served, and the compiler checks each handler's input and answer against the schemas.
import type { z } from "zod";
import type { ServiceContext } from "../context.js";
import type { Actor } from "../model/actor.js";

/** The refusals a route may answer with, each documented as the error envelope. */
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 422 | 503;

export interface ResponseSpec {
  description: string;
  /** The JSON body's schema (OpenAPI and the tests' response check). */
  schema?: z.ZodType;
  /** Other content types this status may answer with; the body is then the string it is. */
  text?: readonly string[];
  /** The Location header this answer carries (the same on an idempotent replay), from its body. */
  location?: { description: string; of: (body: never) => string };
}

/** The answers a route gives when it succeeds (refusals are listed in `errors`). */
export type Responses = Record<number, ResponseSpec>;

type Parsed<S, Otherwise> = S extends z.ZodType ? z.output<S> : Otherwise;
/** What a handler may answer with JSON for one status: what its schema accepts. */
type JsonBody<R extends ResponseSpec> = R["schema"] extends z.ZodType ? z.input<R["schema"]> : unknown;

type JsonResult<R extends Responses> = {
  [S in keyof R & number]: { status: S; body: JsonBody<R[S]>; contentType?: undefined };
}[keyof R & number];
type TextResult<R extends Responses> = {
  [S in keyof R & number]: R[S]["text"] extends readonly string[]
    ? { status: S; body: string; contentType: string }
    : never;
}[keyof R & number];

/** A handler's answer: a declared status with a body its schema accepts (or a declared text type). */
export type HandlerResult<R extends Responses = Responses> = JsonResult<R> | TextResult<R>;

export interface HandlerInput<
  P extends z.ZodType | undefined = z.ZodType | undefined,
  Q extends z.ZodType | undefined = z.ZodType | undefined,
  B extends z.ZodType | undefined = z.ZodType | undefined,
  A extends boolean = boolean,
> {
  /** The authenticated party: always there on a route with `auth: true`. */
  actor: A extends true ? Actor : undefined;
  params: Parsed<P, Record<string, never>>;
  query: Parsed<Q, Record<string, never>>;
  body: Parsed<B, undefined>;
  requestId: string;
  /** The request said `Prefer: respond-async` (RFC 7240) to a route that offers it. */
  respondAsync: boolean;
}

interface RouteFields<A extends boolean, R extends Responses> {
  method: "get" | "post" | "delete";
  path: string; // Express style: /v1/receivables/:id
  /** The OpenAPI operationId: a stable camelCase verb phrase (e.g. splitCertificate). */
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  /** false: no API key needed (health, docs). */
  auth: A;
  /**
   * A role check that runs before the params, query and body are parsed, as some routes
   * have always answered a caller without the role 403 whatever it sent.
   */
  authorize?: (actor: Actor) => void;
  /** Honours the Idempotency-Key header. */
  idempotent?: boolean;
  /** Honours `Prefer: respond-async` (RFC 7240): the handler may answer 202 before the work is done. */
  respondAsync?: boolean;
  /** An absent body is parsed as `{}` (a route whose body fields are all optional). */
  bodyOptional?: boolean;
  responses: R;
  errors: readonly ErrorStatus[];
}

/** One route as written, before its handler: the schemas its handler's types come from. */
export interface RouteDefinition<
  P extends z.ZodObject | undefined,
  Q extends z.ZodObject | undefined,
  B extends z.ZodType | undefined,
  A extends boolean,
  R extends Responses,
> extends RouteFields<A, R> {
  params?: P;
  query?: Q;
  body?: B;
}

export type Handler<
  P extends z.ZodObject | undefined,
  Q extends z.ZodObject | undefined,
  B extends z.ZodType | undefined,
  A extends boolean,
  R extends Responses,
> = (ctx: ServiceContext, input: HandlerInput<P, Q, B, A>) => Promise<HandlerResult<R>>;

/** Any route, as the mounting code, the OpenAPI writer and the tests see it. */
export interface RouteSpec extends RouteFields<boolean, Responses> {
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  handler: (ctx: ServiceContext, input: HandlerInput) => Promise<HandlerResult>;
}

/**
 * Declares a route: `defineRoute({ ...spec }).handle(async (ctx, { actor, params, query, body }) => ...)`.
 * The handler's input types come from the params, query and body schemas, and its answers
 * are checked against the response schemas. (Two steps, so that the response types are
 * fixed before the handler is checked: a status such as 200 then stays the literal 200.)
 * The mounting code (app.ts) parses with exactly these schemas before it calls the handler,
 * which is what makes the widening to RouteSpec sound.
 */
export function defineRoute<
  const R extends Responses,
  A extends boolean,
  P extends z.ZodObject | undefined = undefined,
  Q extends z.ZodObject | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
>(route: RouteDefinition<P, Q, B, A, R>): { handle(handler: Handler<P, Q, B, A, R>): RouteSpec } {
  return {
    handle: (handler) => ({ ...route, handler }) as unknown as RouteSpec,
  };
}

/**
 * Every refusal a route can answer with: its own, and those the mounting code gives any
 * route of its kind — a missing or unknown key (401) and a suspended party (403) where a key
 * is needed; params or a query its schemas refuse, or an unreadable, too deep or unexpected
 * body on a POST (400); and on an idempotent route a malformed Idempotency-Key (400), one
 * still in progress (409) or reused for another request (422).
 */
export function errorStatusesOf(route: RouteSpec): ErrorStatus[] {
  const implied: ErrorStatus[] = [
    ...(route.auth ? ([401, 403] as const) : []),
    ...(route.method === "post" || route.params || route.query ? [400 as const] : []),
    ...(route.idempotent ? ([400, 409, 422] as const) : []),
  ];
  return [...new Set([...route.errors, ...implied])].sort((a, b) => a - b);
}
