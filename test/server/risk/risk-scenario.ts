// Builds the histories the risk tests score: trade documents with chosen dates and
// quantities, submitted and confirmed through the API, and small waits for the monitor.
import { expect } from "chai";
import type { ApiClient } from "../client.js";
import type { TestParty } from "../scenario.js";

let counter = 0;
const unique = () => `${Date.now().toString(36)}${(++counter).toString(36)}`.toUpperCase();

export const DAY_MS = 86_400_000;
export const T = (units: number | bigint): bigint => BigInt(units) * 1_000_000n; // tUSD minor units

const iso = (days: number) => new Date(Date.now() + days * DAY_MS).toISOString();

export interface TradeOptions {
  /** Days from now (negative: in the past). */
  orderedDays?: number;
  shippedDays?: number;
  receivedDays?: number;
  invoicedDays?: number;
  dueDays?: number;
  ordered?: number;
  delivered?: number;
  invoiced?: number;
  /** Minor units per piece; 1,000,000 = 1 tUSD. */
  unitPrice?: string;
}

/** Documents that pass verification, with the dates and quantities asked for. */
export function trade(debtorId: string, o: TradeOptions = {}) {
  const ordered = o.ordered ?? 100;
  const delivered = o.delivered ?? ordered;
  const invoiced = o.invoiced ?? delivered;
  const unitPrice = o.unitPrice ?? "1000000";
  return {
    debtorId,
    purchaseOrder: {
      number: `PO-${unique()}`,
      issuedAt: iso(o.orderedDays ?? -30),
      currency: "USD",
      lines: [{ sku: "SKU-1", quantity: ordered, unitPrice }],
    },
    delivery: {
      carrier: "DHL",
      waybill: `WB-${unique()}`,
      shippedAt: iso(o.shippedDays ?? -20),
      receivedAt: iso(o.receivedDays ?? -15),
      receivedBy: "Dock 1",
      lines: [{ sku: "SKU-1", quantity: delivered }],
    },
    invoice: {
      number: `INV-${unique()}`,
      issuedAt: iso(o.invoicedDays ?? -10),
      dueDate: iso(o.dueDays ?? 60),
      lines: [{ sku: "SKU-1", quantity: invoiced, unitPrice }],
      tax: "0",
      total: (BigInt(invoiced) * BigInt(unitPrice)).toString(),
    },
  };
}

/** Submits; expects 201 with `status`; returns the receivable id. */
export async function submit(
  api: ApiClient,
  seller: TestParty,
  documents: ReturnType<typeof trade>,
  status = "awaiting_confirmation",
): Promise<string> {
  const response = await api.as(seller.apiKey).post("/v1/receivables", documents);
  expect(response.status, JSON.stringify(response.body)).to.equal(201);
  expect(response.body.status).to.equal(status);
  return response.body.id as string;
}

/** The debtor confirms; expects 200; returns the root certificate id. */
export async function confirm(api: ApiClient, debtor: TestParty, receivableId: string): Promise<string> {
  const response = await api.as(debtor.apiKey).post(`/v1/receivables/${receivableId}/confirm`);
  expect(response.status, JSON.stringify(response.body)).to.equal(200);
  return response.body.certificateId as string;
}

/** Submit and confirm: a registered receivable. */
export async function registered(
  api: ApiClient,
  seller: TestParty,
  debtor: TestParty,
  o: TradeOptions = {},
): Promise<{ id: string; certificateId: string }> {
  const id = await submit(api, seller, trade(debtor.id, o));
  return { id, certificateId: await confirm(api, debtor, id) };
}

/** Polls `read` until `done` holds (or fails after `timeoutMs`). */
export async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > until) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** factor name -> { contribution, inputs, applies } from a risk view. */
export function factorsOf(view: {
  score: { factors: Array<{ name: string; contribution: number; applies: boolean; inputs: Record<string, unknown> }> };
}) {
  return Object.fromEntries(view.score.factors.map((f) => [f.name, f]));
}
