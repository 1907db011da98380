// Tierline's typed API client: openapi-fetch over the types generated from the OpenAPI
// document (client/openapi-types.ts). Paths, parameters, bodies and answers are checked by
// the compiler: `client.GET("/v1/receivables/{id}", { params: { path: { id } } })`.
// Used by the demo, the financier and audit CLIs and the integration tests.
import createClient, { type Client, type ClientOptions } from "openapi-fetch";
import type { components, paths } from "./openapi-types.js";

export type { components, paths };
export type TierlineClient = Client<paths>;
export type Schemas = components["schemas"];

export interface TierlineClientOptions {
  baseUrl: string;
  /** A party's API key, sent as a bearer token. */
  apiKey?: string;
  /** Another fetch (a test's contract check, a timeout). */
  fetch?: ClientOptions["fetch"];
}

export function createTierlineClient(options: TierlineClientOptions): TierlineClient {
  return createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ""),
    headers: options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {},
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}
