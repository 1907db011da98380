// What the HTTP benchmarks share: one API call, a status check, and the documents of one
// receivable (the number series `series` keeps two benchmarks' receivables apart).
export const DAY_MS = 86_400_000;

export type Json = Record<string, any>;

export async function call(
  baseUrl: string,
  apiKey: string,
  method: string,
  route: string,
  body?: unknown,
  headers?: Record<string, string>,
): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${baseUrl}${route}`, {
    method,
    headers: {
      authorization: `Bearer ${apiKey}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Json };
}

export function must(reply: { status: number; body: Json }, status: number, what: string): Json {
  if (reply.status !== status)
    throw new Error(`${what}: HTTP ${reply.status} ${JSON.stringify(reply.body).slice(0, 300)}`);
  return reply.body;
}

export const iso = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString();

/** Order, delivery and invoice of receivable `n` of series `series` (e.g. "B", "S"). */
export function benchDocuments(series: string, debtorId: string, n: number) {
  const quantity = 100 + (n % 50);
  return {
    debtorId,
    purchaseOrder: {
      number: `PO-${series}-${n}`,
      issuedAt: iso(-20 * DAY_MS),
      currency: "USD",
      lines: [{ sku: `SKU-${series}`, quantity, unitPrice: "1000000" }],
    },
    delivery: {
      carrier: "Bench Freight",
      waybill: `WB-${series}-${n}`,
      shippedAt: iso(-15 * DAY_MS),
      receivedAt: iso(-12 * DAY_MS),
      receivedBy: "Dock",
      lines: [{ sku: `SKU-${series}`, quantity }],
    },
    invoice: {
      number: `INV-${series}-${n}`,
      issuedAt: iso(-10 * DAY_MS),
      dueDate: iso(60 * DAY_MS),
      lines: [{ sku: `SKU-${series}`, quantity, unitPrice: "1000000" }],
      tax: "0",
      total: (BigInt(quantity) * 1_000_000n).toString(),
    },
  };
}
