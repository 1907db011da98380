// One way to page through every list: an opaque cursor (the sort key of the last item
// served, base64url JSON) and a `limit` with a maximum; every answer is { items, nextCursor }.
// Keyset pagination, not offsets: a page never repeats or skips an item when rows are added
// in between, and each page is one index range read.
import { z } from "zod";
import { badRequest } from "./errors.js";

export const MAX_PAGE_LIMIT = 200;
export const DEFAULT_PAGE_LIMIT = 50;

export const PageQuery = z.object({
  cursor: z
    .string()
    .min(1)
    .max(512)
    .regex(/^[A-Za-z0-9_-]+$/, "a cursor is the opaque nextCursor of a previous page")
    .optional()
    .meta({ description: "The nextCursor of the previous page; absent for the first page" }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_PAGE_LIMIT)
    .default(DEFAULT_PAGE_LIMIT)
    .meta({ description: `Items per page (1-${MAX_PAGE_LIMIT}, default ${DEFAULT_PAGE_LIMIT})` }),
});
export type PageQuery = z.infer<typeof PageQuery>;

/** The sort key of one row: strings and integers, in the list's order. */
export type CursorKey = Array<string | number>;

export interface Page<T> {
  items: T[];
  /** null on the last page. */
  nextCursor: string | null;
}

/** The answer schema of a list: { items, nextCursor }. */
export const pageSchema = <T extends z.ZodType>(item: T) =>
  z.object({
    items: z.array(item),
    nextCursor: z
      .string()
      .nullable()
      .meta({ description: "Pass as ?cursor= for the next page; null when this is the last page" }),
  });

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify(key), "utf8").toString("base64url");
}

/** The sort key inside a cursor, checked against the list's key shape ("s" string, "n" integer). */
export function decodeCursor(cursor: string, shape: readonly ("s" | "n")[]): CursorKey {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    key = undefined;
  }
  const fits =
    Array.isArray(key) &&
    key.length === shape.length &&
    key.every((value, i) => (shape[i] === "s" ? typeof value === "string" : Number.isSafeInteger(value)));
  if (!fits) throw badRequest("INVALID_CURSOR", "the cursor is not one this list handed out", { cursor });
  return key as CursorKey;
}
