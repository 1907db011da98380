// The OpenAPI 3.1 document, generated from the same route specs and zod schemas that
// validate requests.
import { createDocument, type ZodOpenApiPathsObject } from "zod-openapi";
import { errorStatusesOf, type ResponseSpec, type RouteSpec } from "./route-spec.js";
import { errorResponses } from "./schemas.js";
import { webhookDocs } from "./webhook-docs.js";

export function buildOpenApiDocument(routes: RouteSpec[], serverUrl: string): ReturnType<typeof createDocument> {
  const paths: ZodOpenApiPathsObject = {};
  for (const route of routes) {
    const openApiPath = route.path.replace(/:([A-Za-z]+)/g, "{$1}");
    const responses = Object.fromEntries(
      Object.entries<ResponseSpec>({ ...route.responses, ...errorResponses(errorStatusesOf(route)) }).map(
        ([status, r]) => {
          const content = {
            ...(r.schema ? { "application/json": { schema: r.schema } } : {}),
            ...Object.fromEntries((r.text ?? []).map((type) => [type, { schema: { type: "string" as const } }])),
          };
          const headers = r.location
            ? { Location: { description: r.location.description, schema: { type: "string" as const } } }
            : undefined;
          return [
            status,
            {
              description: r.description,
              ...(Object.keys(content).length > 0 ? { content } : {}),
              ...(headers ? { headers } : {}),
            },
          ];
        },
      ),
    );
    paths[openApiPath] = {
      ...(paths[openApiPath] ?? {}),
      [route.method]: {
        operationId: route.operationId,
        summary: route.summary,
        ...(route.description ? { description: route.description } : {}),
        tags: [route.tag],
        ...(route.auth ? {} : { security: [] }),
        requestParams: {
          ...(route.params ? { path: route.params } : {}),
          ...(route.query ? { query: route.query } : {}),
        },
        ...(route.idempotent || route.respondAsync
          ? {
              parameters: [
                ...(route.idempotent
                  ? [
                      {
                        name: "Idempotency-Key",
                        in: "header" as const,
                        required: false,
                        description:
                          "Retry safely: the same key and body get the first answer again, never a second execution.",
                        schema: { type: "string" as const, maxLength: 128 },
                      },
                    ]
                  : []),
                ...(route.respondAsync
                  ? [
                      {
                        name: "Prefer",
                        in: "header" as const,
                        required: false,
                        description:
                          "respond-async (RFC 7240): answer 202 as soon as the work is accepted, with a Location to follow it; without it the answer waits for the work.",
                        schema: { type: "string" as const, examples: ["respond-async"] },
                      },
                    ]
                  : []),
              ],
            }
          : {}),
        ...(route.body
          ? { requestBody: { required: !route.bodyOptional, content: { "application/json": { schema: route.body } } } }
          : {}),
        responses,
      },
    };
  }
  return createDocument({
    openapi: "3.1.0",
    info: {
      title: "Tierline API",
      version: "1.0.0",
      description:
        "Verify trade receivables, register them on-chain, split and pass them down the supply chain. Amounts are decimal strings of integer minor units.",
    },
    servers: [{ url: serverUrl }],
    security: [{ apiKey: [] }],
    components: {
      securitySchemes: { apiKey: { type: "http", scheme: "bearer", description: "Authorization: Bearer <apiKey>" } },
    },
    paths,
    webhooks: webhookDocs(),
  });
}
