// Use cases of webhook endpoints: a party registers an endpoint (the signing secret is shown
// once), lists and deletes its endpoints, reads each endpoint's delivery log and replays a
// delivery. Delivery itself is the dispatcher's (server/keeper/webhook-dispatcher.ts).
import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { ServiceContext } from "../context.js";
import type { Actor } from "../model/actor.js";
import { notFound, unprocessable } from "../model/errors.js";
import { pageSchema, PageQuery, type Page } from "../model/page.js";
import { WEBHOOK_EVENT_TYPES } from "../model/webhook-events.js";
import { nowIso } from "../store/database.js";
import { keysetPage, mapPage } from "../store/paginate.js";
import { refusedWebhookTarget } from "./webhook-target.js";

export const CreateWebhookEndpointSchema = z
  .object({
    url: z
      .url({ protocol: /^https?$/, error: "an http(s) URL" })
      .max(2_000)
      .meta({ description: "Where events are POSTed (http or https)" }),
    description: z.string().trim().max(200).default(""),
    eventTypes: z
      .array(z.enum(WEBHOOK_EVENT_TYPES))
      .min(1)
      .max(WEBHOOK_EVENT_TYPES.length)
      .optional()
      .meta({ description: "Only these types (default: every type)" }),
  })
  .strict();

export const WebhookEndpointSchema = z
  .object({
    id: z.string(),
    partyId: z.string(),
    url: z.string(),
    description: z.string(),
    eventTypes: z.array(z.string()).nullable(),
    status: z.enum(["active", "deleted"]),
    createdAt: z.string(),
  })
  .meta({ id: "WebhookEndpoint" });
export const CreatedWebhookEndpointSchema = WebhookEndpointSchema.extend({
  secret: z.string().meta({ description: "The signing secret (whsec_…): shown once, store it now" }),
});
export const WebhookEndpointPageSchema = pageSchema(WebhookEndpointSchema);

export const WebhookDeliverySchema = z
  .object({
    id: z.string(),
    eventId: z.string().meta({ description: "The webhook-id the receiver saw" }),
    eventType: z.string(),
    state: z.enum(["pending", "delivered", "failed"]),
    attempts: z.number().int(),
    lastStatus: z.number().int().nullable(),
    lastError: z.string().nullable(),
    nextAttemptAt: z.string().nullable(),
    deliveredAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: "WebhookDelivery" });
export const WebhookDeliveryPageSchema = pageSchema(WebhookDeliverySchema);
export const ListDeliveriesQuery = PageQuery.extend({
  state: z.enum(["pending", "delivered", "failed"]).optional(),
});

type EndpointRow = {
  id: string;
  party_id: string;
  url: string;
  description: string;
  event_types: string | null;
  status: string;
  created_at: string;
};
const endpointView = (row: EndpointRow): z.infer<typeof WebhookEndpointSchema> => ({
  id: row.id,
  partyId: row.party_id,
  url: row.url,
  description: row.description,
  eventTypes: row.event_types ? (JSON.parse(row.event_types) as string[]) : null,
  status: row.status as "active" | "deleted",
  createdAt: row.created_at,
});

export async function createWebhookEndpoint(
  ctx: ServiceContext,
  actor: Actor,
  input: z.infer<typeof CreateWebhookEndpointSchema>,
): Promise<z.infer<typeof CreatedWebhookEndpointSchema>> {
  if (ctx.config.TIERLINE_WEBHOOK_PRIVATE_TARGETS === "refuse") {
    const refused = await refusedWebhookTarget(input.url);
    if (refused) {
      throw unprocessable(
        "WEBHOOK_URL_NOT_PUBLIC",
        `webhooks go to public addresses only: ${refused} (the operator may allow private ones: TIERLINE_WEBHOOK_PRIVATE_TARGETS=allow)`,
        {
          fields: ["body.url"],
        },
      );
    }
  }
  const secret = `whsec_${randomBytes(24).toString("base64")}`;
  const row = {
    id: `whe_${randomBytes(9).toString("base64url")}`,
    party_id: actor.id,
    url: input.url,
    description: input.description,
    event_types: input.eventTypes ? JSON.stringify(input.eventTypes) : null,
    secret: ctx.vault.encrypt(secret),
    status: "active",
    created_at: nowIso(),
    deleted_at: null,
  };
  await ctx.db.insertInto("webhook_endpoints").values(row).execute();
  ctx.log.info({ endpointId: row.id, url: row.url }, "webhook endpoint registered");
  return { ...endpointView(row), secret };
}

async function ownEndpoint(ctx: ServiceContext, actor: Actor, id: string): Promise<EndpointRow> {
  const row = await ctx.db
    .selectFrom("webhook_endpoints")
    .selectAll()
    .where("id", "=", id)
    .where("party_id", "=", actor.id)
    .executeTakeFirst();
  // Another party's endpoint is as unknown as one that never existed.
  if (!row) throw notFound("WebhookEndpoint", id);
  return row;
}

export async function listWebhookEndpoints(
  ctx: ServiceContext,
  actor: Actor,
  page: PageQuery,
): Promise<Page<z.infer<typeof WebhookEndpointSchema>>> {
  const query = ctx.db
    .selectFrom("webhook_endpoints")
    .select(["id", "party_id", "url", "description", "event_types", "status", "created_at"])
    .where("party_id", "=", actor.id)
    .where("status", "=", "active");
  return mapPage(
    await keysetPage(
      query,
      { columns: ["created_at", "id"], shape: ["s", "s"], direction: "asc", keyOf: (r) => [r.created_at, r.id] },
      page,
    ),
    endpointView,
  );
}

export async function deleteWebhookEndpoint(
  ctx: ServiceContext,
  actor: Actor,
  id: string,
): Promise<z.infer<typeof WebhookEndpointSchema>> {
  await ownEndpoint(ctx, actor, id);
  await ctx.db
    .updateTable("webhook_endpoints")
    .set({ status: "deleted", deleted_at: nowIso() })
    .where("id", "=", id)
    .execute();
  return endpointView(await ownEndpoint(ctx, actor, id));
}

type DeliveryRow = {
  id: number;
  event_id: string;
  type: string;
  state: string;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  next_attempt_at: number;
  delivered_at: string | null;
  created_at: string;
};
const deliveryView = (row: DeliveryRow): z.infer<typeof WebhookDeliverySchema> => ({
  id: String(row.id),
  eventId: row.event_id,
  eventType: row.type,
  state: row.state as "pending" | "delivered" | "failed",
  attempts: row.attempts,
  lastStatus: row.last_status,
  lastError: row.last_error,
  nextAttemptAt: row.state === "pending" ? new Date(row.next_attempt_at).toISOString() : null,
  deliveredAt: row.delivered_at,
  createdAt: row.created_at,
});

const deliveryQuery = (ctx: ServiceContext, endpointId: string) =>
  ctx.db
    .selectFrom("webhook_deliveries as d")
    .innerJoin("webhook_outbox as o", "o.id", "d.event_id")
    .select([
      "d.id",
      "d.event_id",
      "o.type",
      "d.state",
      "d.attempts",
      "d.last_status",
      "d.last_error",
      "d.next_attempt_at",
      "d.delivered_at",
      "d.created_at",
    ])
    .where("d.endpoint_id", "=", endpointId);

/** An endpoint's delivery log, newest first. */
export async function listWebhookDeliveries(
  ctx: ServiceContext,
  actor: Actor,
  endpointId: string,
  query: z.infer<typeof ListDeliveriesQuery>,
): Promise<Page<z.infer<typeof WebhookDeliverySchema>>> {
  await ownEndpoint(ctx, actor, endpointId);
  let rows = deliveryQuery(ctx, endpointId);
  if (query.state) rows = rows.where("d.state", "=", query.state);
  return mapPage(
    await keysetPage(rows, { columns: ["d.id"], shape: ["n"], direction: "desc", keyOf: (r) => [r.id] }, query),
    deliveryView,
  );
}

/** Sends a delivery again, whatever became of it, with the same webhook-id. */
export async function replayWebhookDelivery(
  ctx: ServiceContext,
  actor: Actor,
  endpointId: string,
  deliveryId: number,
): Promise<z.infer<typeof WebhookDeliverySchema>> {
  const endpoint = await ownEndpoint(ctx, actor, endpointId);
  if (endpoint.status !== "active") throw notFound("WebhookEndpoint", endpointId);
  const updated = await ctx.db
    .updateTable("webhook_deliveries")
    .set({ state: "pending", next_attempt_at: Date.now(), last_error: null })
    .where("id", "=", deliveryId)
    .where("endpoint_id", "=", endpointId)
    .executeTakeFirst();
  if (updated.numUpdatedRows === 0n) throw notFound("WebhookDelivery", String(deliveryId));
  ctx.log.info({ endpointId, deliveryId }, "webhook delivery replayed");
  const row = await deliveryQuery(ctx, endpointId).where("d.id", "=", deliveryId).executeTakeFirstOrThrow();
  return deliveryView(row);
}
