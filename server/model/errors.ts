// One error type for the whole service: a stable code, an HTTP status, details for the
// caller and a cause for the logs. The error middleware turns it into
// { error: { code, message, details } } and never leaks a stack trace.
export interface FieldProblem {
  path: string;
  message: string;
}

export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: string,
    status: number,
    message: string,
    details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "AppError";
    this.code = code;
    this.status = status;
    this.details = details;
  }
}

export const badRequest = (code: string, message: string, details?: Record<string, unknown>) =>
  new AppError(code, 400, message, details);
export const unauthorized = (message = "missing or unknown API key") => new AppError("UNAUTHENTICATED", 401, message);
export const forbidden = (message: string, details?: Record<string, unknown>) =>
  new AppError("FORBIDDEN", 403, message, details);
export const notFound = (what: string, id: string) =>
  new AppError("NOT_FOUND", 404, `${what} ${id} does not exist`, { [what.toLowerCase()]: id });
export const conflict = (code: string, message: string, details?: Record<string, unknown>) =>
  new AppError(code, 409, message, details);
export const unprocessable = (code: string, message: string, details?: Record<string, unknown>) =>
  new AppError(code, 422, message, details);
export const unavailable = (code: string, message: string, details?: Record<string, unknown>, cause?: unknown) =>
  new AppError(code, 503, message, details, { cause });

/** A network failure reaching the chain node (refused, reset, timed out), not a refusal by it. */
export const isConnectionFailure = (error: unknown): boolean => {
  const text =
    String((error as { code?: string; message?: string })?.code ?? "") + String((error as Error)?.message ?? "");
  return /ECONNREFUSED|ECONNRESET|ETIMEDOUT|NETWORK_ERROR|fetch failed|socket hang up|SERVER_ERROR|TIMEOUT/.test(text);
};
