// DELIVERY: one delivery backs at most what was delivered. A delivery is identified by its
// carrier and waybill number, both in canonical form (docs/document-identity.md); the
// quantities invoiced against it, per sku and across every live receivable of any seller,
// this invoice included, must not exceed what was received. "Received" is the smallest
// quantity any submission backed by this delivery states for the sku: describing the same
// delivery again with a larger receipt does not make more goods arrive.
import { canonicalDocumentNumber, deliveryKeyOf } from "../../model/document-identity.js";
import type {
  DeliveryClaim,
  PartyView,
  RuleResult,
  VerificationConfig,
  VerificationHistory,
  VerificationInput,
} from "../types.js";

export const DELIVERY_RULE = "DELIVERY";

const BPS = 10_000n;

const bySku = (lines: ReadonlyArray<{ sku: string; quantity: number }>): Map<string, bigint> => {
  const totals = new Map<string, bigint>();
  for (const line of lines) {
    const sku = canonicalDocumentNumber(line.sku);
    totals.set(sku, (totals.get(sku) ?? 0n) + BigInt(line.quantity));
  }
  return totals;
};

/** One DELIVERY_OVER_INVOICED finding per sku invoiced beyond the receipt; empty otherwise. */
export async function checkDelivery(
  input: VerificationInput,
  _debtor: PartyView,
  history: VerificationHistory,
  config: VerificationConfig,
): Promise<RuleResult[]> {
  const { delivery, invoice } = input.submission;
  const deliveryKey = deliveryKeyOf(delivery.carrier, delivery.waybill);
  const claims: DeliveryClaim[] = await history.claimsOnDelivery(deliveryKey, input.receivableId);
  if (claims.length === 0) return [];

  const received = bySku(delivery.lines);
  for (const claim of claims) {
    for (const [sku, quantity] of bySku(claim.received)) {
      const known = received.get(sku);
      if (known === undefined || quantity < known) received.set(sku, quantity);
    }
  }
  const alreadyInvoiced = new Map<string, bigint>();
  for (const claim of claims) {
    for (const [sku, quantity] of bySku(claim.invoiced)) {
      alreadyInvoiced.set(sku, (alreadyInvoiced.get(sku) ?? 0n) + quantity);
    }
  }
  const backedBy = claims.map((claim) => claim.receivableId).sort();

  // Skus are matched in canonical form and shown as this invoice wrote them.
  const shown = new Map(invoice.lines.map((line) => [canonicalDocumentNumber(line.sku), line.sku]));
  const findings: RuleResult[] = [];
  for (const [skuKey, quantity] of bySku(invoice.lines)) {
    const sku = shown.get(skuKey)!;
    const before = alreadyInvoiced.get(skuKey) ?? 0n;
    const receipt = received.get(skuKey) ?? 0n;
    const withThis = before + quantity;
    if ((withThis - receipt) * BPS <= receipt * BigInt(config.quantityToleranceBps)) continue;
    findings.push({
      rule: DELIVERY_RULE,
      code: "DELIVERY_OVER_INVOICED",
      outcome: "fail",
      message:
        `delivery ${delivery.waybill} by ${delivery.carrier}: sku "${sku}" received ${receipt}, already invoiced ${before} ` +
        `by ${backedBy.join(", ")}; with this invoice's ${quantity} that is ${withThis}`,
      fields: ["delivery.carrier", "delivery.waybill", "delivery.lines", "invoice.lines"],
      details: {
        delivery: { carrier: delivery.carrier, waybill: delivery.waybill, key: deliveryKey },
        sku,
        received: receipt.toString(),
        alreadyInvoiced: before.toString(),
        thisInvoice: quantity.toString(),
        backingReceivableIds: backedBy,
      },
    });
  }
  return findings;
}
