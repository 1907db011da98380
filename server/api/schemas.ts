// Shapes shared by several routes' documentation.
import { z } from "zod";

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().meta({ example: "CERTIFICATE_LOCKED" }),
      message: z.string(),
      details: z.unknown(),
    }),
  })
  .meta({ id: "Error" });

export const IdParams = z.object({ id: z.string().min(1).max(80) });
export const ReceivableIdParams = z.object({
  id: z.string().regex(/^0x[0-9a-f]{64}$/, "a receivable id is 0x and 64 lowercase hex digits"),
});

export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((status) => [status, { description: DESCRIPTIONS[status] ?? "error", schema: ErrorSchema }]),
  );

const DESCRIPTIONS: Record<number, string> = {
  400: "the request is malformed (VALIDATION_FAILED names every field at fault)",
  401: "no or unknown API key",
  403: "the caller's party or role may not do this",
  404: "not found",
  409: "the current state refuses it (duplicate, locked, in progress…)",
  422: "understood but refused (verification failed, amounts do not add up…)",
  503: "the chain is unreachable or the index is catching up; retry",
};
