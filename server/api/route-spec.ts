// One description per endpoint, used twice: to mount the Express route and to write
// the OpenAPI document, so the docs cannot drift from what is served.
import type { z } from "zod";
import type { ServiceContext } from "../context.js";
import type { Actor } from "../model/actor.js";

export interface HandlerInput {
  actor: Actor | undefined;
  params: Record<string, string>;
  query: Record<string, unknown>;
  body: unknown;
  requestId: string;
}

export interface HandlerResult {
  status: number;
  body: unknown;
  /** Set for a non-JSON answer (e.g. "text/plain"): `body` is then sent as the string it is. */
  contentType?: string;
}

export interface RouteSpec {
  method: "get" | "post";
  path: string; // Express style: /v1/receivables/:id
  summary: string;
  description?: string;
  tag: string;
  /** false: no API key needed (health, docs). */
  auth: boolean;
  /** Honours the Idempotency-Key header. */
  idempotent?: boolean;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  responses: Record<number, { description: string; schema?: z.ZodType }>;
  handler: (ctx: ServiceContext, input: HandlerInput) => Promise<HandlerResult>;
}

export const requireActor = (input: HandlerInput): Actor => {
  if (!input.actor) throw new Error("route marked auth: true ran without an actor");
  return input.actor;
};
