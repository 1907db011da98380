// /v1/parties: the operator registers parties; a party reads its own profile.
import { createParty } from "../../domain/create-party.js";
import { requireRole } from "../../model/actor.js";
import { CreatedPartySchema, CreatePartySchema, PartySchema } from "../../model/parties-schema.js";
import { listHoldings, HoldingsPageSchema, ListHoldingsQuery } from "../../domain/certificates.js";
import { readPartyProfile } from "../../domain/party-profile.js";
import { publicParty } from "../../store/parties-store.js";
import { defineRoute, type RouteSpec } from "../route-spec.js";
import { IdParams } from "../schemas.js";
import { listPartiesPage, ListPartiesQuery, PartyPageSchema } from "../../domain/list-parties.js";

export const partyRoutes: RouteSpec[] = [
  defineRoute({
    method: "post",
    path: "/v1/parties",
    operationId: "createParty",
    tag: "parties",
    summary: "Register a party (operator)",
    description:
      "Registers the party on-chain too. Returns its API key once. Without `address` the service generates the key pair and keeps it encrypted (custodial).",
    auth: true,
    idempotent: true,
    authorize: (actor) => requireRole(actor, "operator"),
    body: CreatePartySchema,
    responses: {
      201: { description: "created", schema: CreatedPartySchema },
    },
    errors: [400, 401, 403, 409, 503],
  }).handle(async (ctx, { body }) => {
    return { status: 201, body: await createParty(ctx, body) };
  }),
  defineRoute({
    method: "get",
    path: "/v1/parties",
    operationId: "listParties",
    tag: "parties",
    summary: "Every party, in id order, optionally by status or role (operator, auditor)",
    auth: true,
    authorize: (actor) => requireRole(actor, "operator", "auditor"),
    query: ListPartiesQuery,
    responses: { 200: { description: "a page of parties", schema: PartyPageSchema } },
    errors: [400, 401, 403],
  }).handle(async (ctx, { actor, query }) => {
    return { status: 200, body: await listPartiesPage(ctx, actor, query) };
  }),
  defineRoute({
    method: "get",
    path: "/v1/me",
    operationId: "getMe",
    tag: "parties",
    summary: "Who the API key belongs to: the caller's own party profile and roles",
    auth: true,
    responses: { 200: { description: "the caller's party", schema: PartySchema } },
    errors: [401],
  }).handle(async (_ctx, { actor }) => {
    return { status: 200, body: publicParty(actor) };
  }),
  defineRoute({
    method: "get",
    path: "/v1/parties/:id",
    operationId: "getParty",
    tag: "parties",
    summary: "Read a party's profile",
    auth: true,
    params: IdParams,
    responses: { 200: { description: "the party", schema: PartySchema } },
    errors: [401, 404],
  }).handle(async (ctx, { actor, params: { id } }) => {
    return { status: 200, body: await readPartyProfile(ctx, actor, id) };
  }),
  defineRoute({
    method: "get",
    path: "/v1/parties/:id/certificates",
    operationId: "listPartyCertificates",
    tag: "certificates",
    summary: "The live and locked certificates a party holds",
    auth: true,
    params: IdParams,
    query: ListHoldingsQuery,
    responses: {
      200: { description: "a page of holdings, in the order they were issued", schema: HoldingsPageSchema },
    },
    errors: [400, 401, 403, 404],
  }).handle(async (ctx, { actor, params: { id }, query }) => {
    const page = await listHoldings(ctx, actor, id, query);
    return { status: 200, body: { ...page, certificates: page.items } };
  }),
];
