// /v1/certificates: read, split and transfer certificates (the holder).
import { HOLDER_ROLES } from "../../model/parties-schema.js";
import { byRole } from "../../model/actor.js";
import { z } from "zod";
import {
  CertificateIdParam,
  CertificateViewSchema,
  getCertificate,
  splitCertificate,
  SplitCertificateSchema,
  SplitOutcomeSchema,
  transferCertificate,
  TransferCertificateSchema,
  TransferOutcomeSchema,
} from "../../domain/certificates.js";
import { defineRoute, type RouteSpec } from "../route-spec.js";

const Params = z.object({ id: CertificateIdParam });

export const certificateRoutes: RouteSpec[] = [
  defineRoute({
    method: "get",
    path: "/v1/certificates/:id",
    operationId: "getCertificate",
    tag: "certificates",
    summary: "Read a certificate: receivable, parent, tier, face value, state, holder",
    auth: true,
    params: Params,
    responses: {
      200: { description: "the certificate", schema: CertificateViewSchema },
    },
    errors: [400, 401, 403, 404],
  }).handle(async (ctx, { actor, params: { id } }) => {
    return { status: 200, body: await getCertificate(ctx, actor, id) };
  }),
  defineRoute({
    method: "post",
    path: "/v1/certificates/:id/split",
    operationId: "splitCertificate",
    tag: "certificates",
    summary: "Split a certificate into pieces for other parties (holder)",
    description: "The parts must add up exactly to the face value. A piece to another party sits one tier deeper.",
    auth: true,
    authorize: byRole(...HOLDER_ROLES),
    idempotent: true,
    params: Params,
    body: SplitCertificateSchema,
    responses: {
      200: {
        description: "split",
        schema: SplitOutcomeSchema,
      },
    },
    errors: [400, 401, 403, 404, 409, 422, 503],
  }).handle(async (ctx, { actor, params: { id }, body }) => {
    return { status: 200, body: await splitCertificate(ctx, actor, id, body) };
  }),
  defineRoute({
    method: "post",
    path: "/v1/certificates/:id/transfer",
    operationId: "transferCertificate",
    tag: "certificates",
    summary: "Transfer a whole certificate to another party (holder)",
    auth: true,
    authorize: byRole(...HOLDER_ROLES),
    idempotent: true,
    params: Params,
    body: TransferCertificateSchema,
    responses: {
      200: { description: "transferred", schema: TransferOutcomeSchema },
    },
    errors: [400, 401, 403, 404, 409, 422, 503],
  }).handle(async (ctx, { actor, params: { id }, body }) => {
    return { status: 200, body: await transferCertificate(ctx, actor, id, body) };
  }),
];
