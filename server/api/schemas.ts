// Shapes shared by several routes' documentation, and the one builder of the error envelope.
import { z } from "zod";
import type { AppError } from "../model/errors.js";
import type { ErrorStatus } from "./route-spec.js";

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().meta({ example: "CERTIFICATE_LOCKED" }),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).meta({
        description: "What the refusal is about: the fields at fault, the ids, the numbers; {} if nothing more",
      }),
    }),
  })
  .meta({ id: "Error" });

export type ErrorBody = z.infer<typeof ErrorSchema>;

/** The body of every refusal, whether sent now (error-handler.ts) or stored for a retry (idempotency.ts). */
export const errorEnvelope = (error: AppError): ErrorBody => ({
  error: { code: error.code, message: error.message, details: error.details ?? {} },
});

// No control characters: PostgreSQL refuses a NUL in text outright (a 500 from a GET), and no
// id the service hands out has one.
export const IdParams = z.object({
  id: z
    .string()
    .min(1)
    .max(80)
    .refine((id) => !/\p{Cc}/u.test(id), "an id has no control characters"),
});
export const ReceivableIdParams = z.object({
  id: z.string().regex(/^0x[0-9a-f]{64}$/, "a receivable id is 0x and 64 lowercase hex digits"),
});

/** How each refusal status is documented, with the error envelope as its body. */
export const errorResponses = (statuses: readonly ErrorStatus[]) =>
  Object.fromEntries(statuses.map((status) => [status, { description: DESCRIPTIONS[status], schema: ErrorSchema }]));

const DESCRIPTIONS: Record<ErrorStatus, string> = {
  400: "the request is malformed (VALIDATION_FAILED names every field at fault)",
  401: "no or unknown API key",
  403: "the caller's party or role may not do this",
  404: "not found",
  409: "the current state refuses it (duplicate, locked, in progress…)",
  422: "understood but refused (verification failed, amounts do not add up…)",
  503: "the chain is unreachable or the index is catching up; retry",
};
