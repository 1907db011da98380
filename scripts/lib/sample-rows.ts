// Rows for tests and benchmarks that write the store directly (test/helpers/party-row.ts
// re-exports them for the tests; scripts may not import from test/).
import { documentHashOf, type ReceivableSubmission } from "../../server/model/receivable-schema.js";

// Rows for tests that write the store directly. A party as the parties table holds it: id,
// name, registry id and key hash all `id`, an address derived from it, active since 2026-01-01.
export const partyRow = (id: string) => ({
  id,
  name: id,
  registry_id: id,
  legal_id_hash: `0x${id}`,
  industry: "retail",
  roles: "[]",
  address: `0x${id.replace(/\W/g, "").padStart(40, "0")}`,
  custodial: 0,
  encrypted_key: null,
  api_key_hash: id,
  related_party_ids: "[]",
  status: "active" as const,
  created_at: "2026-01-01T00:00:00.000Z",
});

/** A sale by pty_s to pty_d: its delivery brings `delivered` of the 10 units ordered, received on `receivedAt`. */
export function tradeDocuments(n: number, delivered: number, receivedAt: string): ReceivableSubmission {
  return {
    debtorId: "pty_d",
    purchaseOrder: {
      number: `PO-${n}`,
      issuedAt: "2026-01-02T00:00:00.000Z",
      currency: "USD",
      lines: [{ sku: "A", quantity: 10, unitPrice: "1000000" }],
    },
    delivery: {
      carrier: "C",
      waybill: `WB-${n}`,
      shippedAt: "2026-01-03T00:00:00.000Z",
      receivedAt,
      receivedBy: "Dock",
      lines: [{ sku: "A", quantity: delivered }],
    },
    invoice: {
      number: `INV-${n}`,
      issuedAt: "2026-01-05T00:00:00.000Z",
      dueDate: "2026-03-05T00:00:00.000Z",
      lines: [{ sku: "A", quantity: delivered, unitPrice: "1000000" }],
      tax: "0",
      total: String(delivered * 1_000_000),
    },
  } as unknown as ReceivableSubmission;
}

/**
 * A submission as the receivables table holds it: `seller` sold to `debtor` with `documents`
 * (by default a full delivery), for 1,000 units, awaiting confirmation since 2026-01-06. Tests
 * spread it and set what they vary.
 */
export function receivableRow(
  id: string,
  seller: string,
  debtor: string,
  documents: ReceivableSubmission = tradeDocuments(1, 10, "2026-01-04T00:00:00.000Z"),
) {
  return {
    id,
    seller_id: seller,
    debtor_id: debtor,
    invoice_number: id,
    invoice_number_normalized: id,
    po_number: "PO",
    currency: "USD",
    face_value: "1000",
    net_value: "1000",
    due_date: 0,
    document_hash: documentHashOf(documents),
    documents: JSON.stringify(documents),
    verification: "{}",
    status: "awaiting_confirmation" as const,
    confirmation: null,
    created_at: "2026-01-06T00:00:00.000Z",
    updated_at: "2026-01-06T00:00:00.000Z",
  };
}

/**
 * A financing request on certificate `id` (the request's id too) as the index holds it once
 * funded: a discount sold to `financier` at 9 of 10 units, or a pledge with 9.5 outstanding.
 */
export function fundedRequestRow(
  id: string,
  holder: string,
  financier: string,
  kind: "discount" | "pledge",
  block: number,
) {
  const tx = `0x${Number(id).toString(16).padStart(64, "0")}`;
  return {
    id,
    certificate_id: id,
    holder,
    kind,
    price: "9000000",
    repay_amount: "9500000",
    outstanding: kind === "pledge" ? "9500000" : "0",
    status: kind === "pledge" ? "pledged" : "sold",
    financier,
    shortfall: null,
    opened_tx_hash: tx,
    opened_block: block,
    funded_tx_hash: tx,
    attested_until: null,
    advance_rate_bps: null,
  };
}
