// The page's only backend is the v1 API: JSON over fetch with the session's Bearer key.
// Errors come back as { error: { code, message, details } } and are thrown as ApiError,
// so every view can show the API's own message and code.
import { session } from "./session.js";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown,
  ) {
    super(message);
  }
}

async function request<T>(method: "GET" | "POST", path: string, body?: unknown, key = session.apiKey): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (key) headers.authorization = `Bearer ${key}`;
  if (method === "POST") {
    headers["content-type"] = "application/json";
    // One key per submit: a retried click after a lost answer is answered, not run twice.
    headers["idempotency-key"] = crypto.randomUUID();
  }
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: method === "POST" ? JSON.stringify(body ?? {}) : undefined });
  } catch {
    throw new ApiError(0, "NETWORK_ERROR", "the Tierline service could not be reached", null);
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  if (!response.ok) {
    const error = (parsed as { error?: { code?: string; message?: string; details?: unknown } } | undefined)?.error;
    throw new ApiError(
      response.status,
      error?.code ?? `HTTP_${response.status}`,
      error?.message ?? response.statusText,
      error?.details ?? null,
    );
  }
  return parsed as T;
}

export const api = {
  get: <T>(path: string, key?: string) => request<T>("GET", path, undefined, key),
  post: <T>(path: string, body?: unknown) => request<T>("POST", path, body),
};

export const enc = encodeURIComponent;
