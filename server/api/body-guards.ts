// Guards on request bodies, before any route reads one. A body that is not JSON would be
// skipped by the JSON parser and the request run as if it had none; JSON nested deeper than
// any schema needs would exhaust the stack of recursive code (the idempotency hash); and a
// route that takes no body would silently ignore one, as a strict schema never does.
import type { RequestHandler } from "express";
import { AppError, badRequest } from "../model/errors.js";

/** No request shape nests deeper than 5; this leaves room and refuses bodies built to crash. */
export const MAX_BODY_DEPTH = 32;

const JSON_TYPES = ["application/json", "application/*+json"];

/** A request that carries content must say it is JSON (415 UNSUPPORTED_MEDIA_TYPE). */
export const requireJsonContentType: RequestHandler = (req, _res, next) => {
  const hasContent = Number(req.headers["content-length"] ?? 0) > 0 || req.headers["transfer-encoding"] !== undefined;
  if (hasContent && !req.is(JSON_TYPES)) {
    next(
      new AppError("UNSUPPORTED_MEDIA_TYPE", 415, "send the request body as application/json", {
        contentType: req.headers["content-type"] ?? null,
      }),
    );
    return;
  }
  next();
};

/** Refuses a parsed body nested deeper than `limit` levels (400 BODY_TOO_DEEP). Iterative: no recursion to overflow. */
export const limitBodyDepth =
  (limit: number = MAX_BODY_DEPTH): RequestHandler =>
  (req, _res, next) => {
    const pending: Array<[value: unknown, depth: number]> = [[req.body, 1]];
    while (pending.length > 0) {
      const [value, depth] = pending.pop()!;
      if (value === null || typeof value !== "object") continue;
      if (depth > limit) {
        next(badRequest("BODY_TOO_DEEP", `the request body nests deeper than ${limit} levels`, { limit }));
        return;
      }
      for (const child of Object.values(value)) pending.push([child, depth + 1]);
    }
    next();
  };

/** For a route without a body schema: nothing, or `{}`, and nothing else (400 VALIDATION_FAILED). */
export function refuseUnexpectedBody(body: unknown): void {
  const empty =
    body === undefined ||
    (body !== null && typeof body === "object" && !Array.isArray(body) && Object.keys(body).length === 0);
  if (!empty) {
    throw badRequest("VALIDATION_FAILED", "the request body is not valid: 1 problem(s)", {
      fields: [
        { path: "body", message: "this route takes no request body (send none, or {})", code: "unrecognized_keys" },
      ],
    });
  }
}
