// /v1/parties: the operator registers parties; a party reads its own profile.
import { z } from "zod";
import { createParty } from "../../domain/create-party.js";
import { canSeeEverything, requireRole } from "../../model/actor.js";
import { CreatedPartySchema, CreatePartySchema, PartySchema } from "../../model/parties-schema.js";
import { listHoldings, CertificateViewSchema } from "../../domain/certificates.js";
import { forbidden, notFound } from "../../model/errors.js";
import { findPartyById, publicParty } from "../../store/parties-store.js";
import { requireActor, type RouteSpec } from "../route-spec.js";
import { errorResponses, IdParams } from "../schemas.js";
import { parseOrThrow } from "../validation.js";

export const partyRoutes: RouteSpec[] = [
  {
    method: "post",
    path: "/v1/parties",
    tag: "parties",
    summary: "Register a party (operator)",
    description:
      "Registers the party on-chain too. Returns its API key once. Without `address` the service generates the key pair and keeps it encrypted (custodial).",
    auth: true,
    idempotent: true,
    body: CreatePartySchema,
    responses: {
      201: { description: "created", schema: CreatedPartySchema },
      ...errorResponses(400, 401, 403, 409, 503),
    },
    async handler(ctx, input) {
      const actor = requireActor(input);
      requireRole(actor, "operator");
      const body = parseOrThrow(CreatePartySchema, input.body, "body");
      return { status: 201, body: await createParty(ctx, body) };
    },
  },
  {
    method: "get",
    path: "/v1/me",
    tag: "parties",
    summary: "Who the API key belongs to: the caller's own party profile and roles",
    auth: true,
    responses: { 200: { description: "the caller's party", schema: PartySchema }, ...errorResponses(401) },
    async handler(_ctx, input) {
      return { status: 200, body: publicParty(requireActor(input)) };
    },
  },
  {
    method: "get",
    path: "/v1/parties/:id",
    tag: "parties",
    summary: "Read a party's profile",
    auth: true,
    params: IdParams,
    responses: { 200: { description: "the party", schema: PartySchema }, ...errorResponses(401, 404) },
    async handler(ctx, input) {
      requireActor(input);
      const { id } = parseOrThrow(IdParams, input.params, "params");
      const party = await findPartyById(ctx.db, id);
      if (!party) throw notFound("Party", id);
      return { status: 200, body: publicParty(party) };
    },
  },
  {
    method: "get",
    path: "/v1/parties/:id/certificates",
    tag: "certificates",
    summary: "The live and locked certificates a party holds",
    auth: true,
    params: IdParams,
    responses: {
      200: { description: "holdings", schema: z.object({ certificates: z.array(CertificateViewSchema) }) },
      ...errorResponses(401, 403, 404),
    },
    async handler(ctx, input) {
      const actor = requireActor(input);
      const { id } = parseOrThrow(IdParams, input.params, "params");
      if (actor.id !== id && !canSeeEverything(actor))
        throw forbidden(`party ${actor.id} may only list its own certificates`);
      return { status: 200, body: { certificates: await listHoldings(ctx, actor, id) } };
    },
  },
];
