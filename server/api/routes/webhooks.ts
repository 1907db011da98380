// /v1/webhooks: a party registers endpoints that receive its events, signed per Standard
// Webhooks; reads each endpoint's delivery log and replays a delivery.
import { z } from "zod";
import {
  CreatedWebhookEndpointSchema,
  createWebhookEndpoint,
  CreateWebhookEndpointSchema,
  deleteWebhookEndpoint,
  ListDeliveriesQuery,
  listWebhookDeliveries,
  listWebhookEndpoints,
  replayWebhookDelivery,
  WebhookDeliveryPageSchema,
  WebhookDeliverySchema,
  WebhookEndpointPageSchema,
  WebhookEndpointSchema,
} from "../../domain/webhooks.js";
import { PageQuery } from "../../model/page.js";
import { defineRoute, type RouteSpec } from "../route-spec.js";

const EndpointParams = z.object({ id: z.string().regex(/^whe_[A-Za-z0-9_-]{1,40}$/, "a webhook endpoint id (whe_…)") });
const DeliveryParams = EndpointParams.extend({
  deliveryId: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
});

export const webhookRoutes: RouteSpec[] = [
  defineRoute({
    method: "post",
    path: "/v1/webhooks/endpoints",
    operationId: "createWebhookEndpoint",
    tag: "webhooks",
    summary: "Register an endpoint for your party's events; the signing secret is shown once",
    description:
      "Events are POSTed as { type, timestamp, data } with the Standard Webhooks headers webhook-id, webhook-timestamp and webhook-signature (HMAC-SHA256 under the secret). Retried with exponential backoff until a 2xx answer. Operators and auditors receive every event.",
    auth: true,
    idempotent: true,
    body: CreateWebhookEndpointSchema,
    bodyOptional: false,
    responses: { 201: { description: "registered; keep the secret", schema: CreatedWebhookEndpointSchema } },
    errors: [400, 401, 403],
  }).handle(async (ctx, { actor, body }) => {
    return { status: 201, body: await createWebhookEndpoint(ctx, actor, body) };
  }),
  defineRoute({
    method: "get",
    path: "/v1/webhooks/endpoints",
    operationId: "listWebhookEndpoints",
    tag: "webhooks",
    summary: "Your party's active webhook endpoints, oldest first (without their secrets)",
    auth: true,
    query: PageQuery,
    responses: { 200: { description: "a page of endpoints", schema: WebhookEndpointPageSchema } },
    errors: [400, 401, 403],
  }).handle(async (ctx, { actor, query }) => {
    return { status: 200, body: await listWebhookEndpoints(ctx, actor, query) };
  }),
  defineRoute({
    method: "delete",
    path: "/v1/webhooks/endpoints/:id",
    operationId: "deleteWebhookEndpoint",
    tag: "webhooks",
    summary: "Delete one of your endpoints: nothing more is sent to it",
    auth: true,
    params: EndpointParams,
    responses: { 200: { description: "deleted", schema: WebhookEndpointSchema } },
    errors: [400, 401, 403, 404],
  }).handle(async (ctx, { actor, params: { id } }) => {
    return { status: 200, body: await deleteWebhookEndpoint(ctx, actor, id) };
  }),
  defineRoute({
    method: "get",
    path: "/v1/webhooks/endpoints/:id/deliveries",
    operationId: "listWebhookDeliveries",
    tag: "webhooks",
    summary: "An endpoint's delivery log, newest first: state, attempts, last HTTP status and error",
    auth: true,
    params: EndpointParams,
    query: ListDeliveriesQuery,
    responses: { 200: { description: "a page of deliveries", schema: WebhookDeliveryPageSchema } },
    errors: [400, 401, 403, 404],
  }).handle(async (ctx, { actor, params: { id }, query }) => {
    return { status: 200, body: await listWebhookDeliveries(ctx, actor, id, query) };
  }),
  defineRoute({
    method: "post",
    path: "/v1/webhooks/endpoints/:id/deliveries/:deliveryId/replay",
    operationId: "replayWebhookDelivery",
    tag: "webhooks",
    summary: "Send a delivery again (same webhook-id), whatever became of it",
    auth: true,
    idempotent: true,
    params: DeliveryParams,
    responses: { 200: { description: "queued again", schema: WebhookDeliverySchema } },
    errors: [400, 401, 403, 404],
  }).handle(async (ctx, { actor, params: { id, deliveryId } }) => {
    return { status: 200, body: await replayWebhookDelivery(ctx, actor, id, deliveryId) };
  }),
];
