// zod errors as the API's 400: every field path at fault, with its message.
import type { z } from "zod";
import { AppError } from "../model/errors.js";

export function parseOrThrow<T extends z.ZodType>(
  schema: T,
  value: unknown,
  where: "body" | "params" | "query",
): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const fields = parsed.error.issues.slice(0, 50).map((issue) => ({
    path: [where, ...issue.path.map(String)].join("."),
    message: issue.message,
    code: issue.code,
  }));
  throw new AppError("VALIDATION_FAILED", 400, `the request ${where} is not valid: ${fields.length} problem(s)`, {
    fields,
  });
}
