// The OpenAPI 3.1 `webhooks` section: what Tierline POSTs to a registered endpoint for each
// issue-16 event type, as the Standard Webhooks envelope { type, timestamp, data } with the
// type's own `data` schema (server/model/webhook-payloads.ts).
import { z } from "zod";
import type { ZodOpenApiPathsObject } from "zod-openapi";
import { ISSUE16_WEBHOOK_PAYLOADS } from "../model/webhook-payloads.js";

export function webhookDocs(): ZodOpenApiPathsObject {
  const docs: ZodOpenApiPathsObject = {};
  for (const [type, data] of Object.entries(ISSUE16_WEBHOOK_PAYLOADS)) {
    docs[type] = {
      post: {
        operationId: `webhook_${type.replace(/\./g, "_")}`,
        summary: `${type}: delivered to the endpoints of the parties it concerns (and every operator and auditor)`,
        description:
          "Signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature); delivered at least once: deduplicate on webhook-id.",
        tags: ["webhooks"],
        requestBody: {
          required: true,
          content: {
            "application/json": {
              schema: z.object({ type: z.literal(type), timestamp: z.string(), data }),
            },
          },
        },
        responses: { "2XX": { description: "received; any other answer is retried with backoff" } },
      },
    };
  }
  return docs;
}
