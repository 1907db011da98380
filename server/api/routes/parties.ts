// /v1/parties: the operator registers, suspends, reactivates and (on the local chain) funds
// parties; a party reads its own profile and withdraws payments the escrow held for it.
import { createParty } from "../../domain/create-party.js";
import { requireRole } from "../../model/actor.js";
import { CreatedPartySchema, CreatePartySchema, PartySchema } from "../../model/parties-schema.js";
import { listHoldings, HoldingsPageSchema, ListHoldingsQuery } from "../../domain/certificates.js";
import { readPartyProfile } from "../../domain/party-profile.js";
import {
  HeldPaymentsSchema,
  PartyStatusOutcomeSchema,
  TestFundsOutcomeSchema,
  TestFundsSchema,
  WithdrawHeldSchema,
  WithdrawnSchema,
  fundWithTestTokens,
  heldPayments,
  setPartyActive,
  withdrawHeldPayments,
} from "../../domain/operate-parties.js";
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
  ...(["suspend", "reactivate"] as const).map((action) =>
    defineRoute({
      method: "post",
      path: `/v1/parties/:id/${action}`,
      operationId: action === "suspend" ? "suspendParty" : "reactivateParty",
      tag: "parties",
      summary:
        action === "suspend"
          ? "Suspend a party (operator): its API key is refused and the party registry marks it inactive"
          : "Reactivate a suspended party (operator)",
      auth: true,
      idempotent: true,
      authorize: (actor) => requireRole(actor, "operator"),
      params: IdParams,
      responses: {
        200: {
          description: "the party, and the transaction sent (none if already so)",
          schema: PartyStatusOutcomeSchema,
        },
      },
      errors: [401, 403, 404, 409, 503],
    }).handle(async (ctx, { params: { id } }) => ({
      status: 200,
      body: await setPartyActive(ctx, id, action === "reactivate"),
    })),
  ),
  defineRoute({
    method: "post",
    path: "/v1/parties/:id/test-funds",
    operationId: "fundPartyWithTestTokens",
    tag: "parties",
    summary: "Mint the local chain's test settlement token to a party (operator, local chain only)",
    description:
      "So that a debtor created on the local chain can repay. Refused with 409 NOT_A_TEST_TOKEN when the settlement token is a real ERC-20.",
    auth: true,
    idempotent: true,
    authorize: (actor) => requireRole(actor, "operator"),
    params: IdParams,
    body: TestFundsSchema,
    responses: { 200: { description: "minted", schema: TestFundsOutcomeSchema } },
    errors: [401, 403, 404, 409, 503],
  }).handle(async (ctx, { params: { id }, body }) => ({
    status: 200,
    body: await fundWithTestTokens(ctx, id, BigInt(body.amount)),
  })),
  defineRoute({
    method: "get",
    path: "/v1/me/held-payments",
    operationId: "getHeldPayments",
    tag: "repayments",
    summary: "Payments the escrow kept for the caller because its token refused the push",
    auth: true,
    responses: { 200: { description: "what the caller can withdraw", schema: HeldPaymentsSchema } },
    errors: [401, 503],
  }).handle(async (ctx, { actor }) => ({ status: 200, body: await heldPayments(ctx, actor) })),
  defineRoute({
    method: "post",
    path: "/v1/me/held-payments/withdraw",
    operationId: "withdrawHeldPayments",
    tag: "repayments",
    summary: "Withdraw the payments the escrow kept for the caller (custodial parties)",
    auth: true,
    idempotent: true,
    bodyOptional: true,
    body: WithdrawHeldSchema,
    responses: { 200: { description: "withdrawn", schema: WithdrawnSchema } },
    errors: [401, 409, 503],
  }).handle(async (ctx, { actor, body }) => ({
    status: 200,
    body: await withdrawHeldPayments(ctx, actor, body.to),
  })),
];
