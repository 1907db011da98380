// The one error middleware: AppError -> { error: { code, message, details } } with its
// status; anything else is a logged 500 that leaks nothing.
import type { ErrorRequestHandler } from "express";
import { AppError, isConnectionFailure, unavailable } from "../model/errors.js";
import { errorEnvelope } from "./schemas.js";

export const errorHandler: ErrorRequestHandler = (error, req, res, _next) => {
  let appError: AppError;
  if (error instanceof AppError) appError = error;
  else if ((error as { type?: string }).type === "entity.parse.failed") {
    appError = new AppError("MALFORMED_JSON", 400, "the request body is not valid JSON");
  } else if ((error as { type?: string }).type === "entity.too.large") {
    appError = new AppError("PAYLOAD_TOO_LARGE", 413, "the request body is too large", {
      limit: (error as { limit?: number }).limit,
    });
  } else if (
    (error as { type?: string }).type === "encoding.unsupported" ||
    (error as { type?: string }).type === "charset.unsupported"
  ) {
    appError = new AppError("UNSUPPORTED_ENCODING", 415, "the request body's encoding is not supported");
  } else if (typeof (error as { status?: number }).status === "number" && (error as { status: number }).status < 500) {
    appError = new AppError("BAD_REQUEST", (error as { status: number }).status, "the request could not be read");
  } else if (isConnectionFailure(error)) {
    // A chain read outside the transaction sender (e.g. a status check) found the node down.
    appError = unavailable(
      "CHAIN_UNAVAILABLE",
      "the chain's JSON-RPC endpoint is not answering; try again shortly",
      undefined,
      error,
    );
  } else {
    appError = new AppError("INTERNAL", 500, "something went wrong on our side; it has been logged", undefined, {
      cause: error,
    });
  }
  const log = req.log ?? console;
  if (appError.status >= 500) log.error({ err: appError.cause ?? appError, code: appError.code }, appError.message);
  else log.info({ code: appError.code, status: appError.status }, appError.message);
  if (res.headersSent) return;
  res.status(appError.status).json(errorEnvelope(appError));
};
