// Builds parties and valid trade documents for integration tests, through the API.
import { expect } from "chai";
import type { ApiClient } from "./client.js";

let counter = 0;
const unique = () => `${Date.now().toString(36)}${(++counter).toString(36)}`.toUpperCase();

export interface TestParty {
  id: string;
  apiKey: string;
  address: string;
  roles: string[];
}

export async function createTestParty(
  operator: ApiClient,
  roles: string[],
  extra: Record<string, unknown> = {},
): Promise<TestParty> {
  const response = await operator.post("/v1/parties", {
    name: `Party ${roles.join("/")} ${unique()}`,
    registryId: `REG${unique()}`,
    industry: "manufacturing",
    roles,
    ...extra,
  });
  expect(response.status, JSON.stringify(response.body)).to.equal(201);
  return { id: response.body.id, apiKey: response.body.apiKey, address: response.body.address, roles };
}

const iso = (daysFromNow: number) => new Date(Date.now() + daysFromNow * 86_400_000).toISOString();

/** Documents that pass every rule: ordered, shipped, received, invoiced in order, due in 60 days. */
export function validSubmission(
  debtorId: string,
  options: { invoiceNumber?: string; poNumber?: string; quantity?: number; unitPrice?: string } = {},
) {
  const quantity = options.quantity ?? 100;
  const unitPrice = options.unitPrice ?? "1000000";
  const subtotal = BigInt(quantity) * BigInt(unitPrice);
  return {
    debtorId,
    purchaseOrder: {
      number: options.poNumber ?? `PO-${unique()}`,
      issuedAt: iso(-30),
      currency: "USD",
      lines: [{ sku: "SKU-1", quantity, unitPrice }],
    },
    delivery: {
      carrier: "DHL",
      waybill: `WB-${unique()}`,
      shippedAt: iso(-20),
      receivedAt: iso(-15),
      receivedBy: "Dock 1",
      lines: [{ sku: "SKU-1", quantity }],
    },
    invoice: {
      number: options.invoiceNumber ?? `INV-${unique()}`,
      issuedAt: iso(-10),
      dueDate: iso(60),
      lines: [{ sku: "SKU-1", quantity, unitPrice }],
      tax: "0",
      total: subtotal.toString(),
    },
  };
}

/** The cast of the authorization matrices: one party per kind of caller. */
export const MATRIX_CAST = {
  seller: ["supplier"],
  debtor: ["debtor"],
  financier: ["financier"],
  auditor: ["auditor"],
  tier2Holder: ["supplier"],
  outsider: ["supplier"],
} as const;

export type MatrixCaller = "operator" | keyof typeof MATRIX_CAST;

/** Creates the matrix cast; `keys` also holds the operator's. */
export async function createMatrixCast(operator: ApiClient, operatorKey: string) {
  const parties = {} as Record<keyof typeof MATRIX_CAST, TestParty>;
  for (const [name, roles] of Object.entries(MATRIX_CAST) as Array<[keyof typeof MATRIX_CAST, readonly string[]]>) {
    parties[name] = await createTestParty(operator, [...roles]);
  }
  const keys = {
    operator: operatorKey,
    ...Object.fromEntries(Object.entries(parties).map(([name, p]) => [name, p.apiKey])),
  } as Record<MatrixCaller, string>;
  return { parties, keys };
}
