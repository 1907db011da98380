// DELIVERY: one delivery backs at most what was delivered. A delivery is identified by its
// carrier and waybill number, both in canonical form (docs/document-identity.md); the
// quantities invoiced against it, per sku and across every live receivable of any seller,
// this invoice included, must not exceed what was received. "Received" is the smallest
// quantity any submission backed by this delivery states for the sku: describing the same
// delivery again with a larger receipt does not make more goods arrive. The seller's own
// receivables over the receipt refuse the invoice; other sellers' hold it for the operator,
// and the seller is told no more than that another party invoiced the delivery.
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

/** What the claims on one delivery add up to, per canonical sku: the smallest receipt stated and the quantity invoiced. */
function tally(
  deliveryLines: ReadonlyArray<{ sku: string; quantity: number }>,
  claims: readonly DeliveryClaim[],
): { received: Map<string, bigint>; alreadyInvoiced: Map<string, bigint> } {
  const received = bySku(deliveryLines);
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
  return { received, alreadyInvoiced };
}

/**
 * Per sku of this invoice: whether it, with what the claims invoiced already, exceeds the
 * smallest receipt beyond the tolerance.
 */
function overInvoiced(
  input: VerificationInput,
  claims: readonly DeliveryClaim[],
  config: VerificationConfig,
): Array<{ sku: string; received: bigint; before: bigint; quantity: bigint }> {
  const { delivery, invoice } = input.submission;
  const { received, alreadyInvoiced } = tally(delivery.lines, claims);
  // Skus are matched in canonical form and shown as this invoice wrote them.
  const shown = new Map(invoice.lines.map((line) => [canonicalDocumentNumber(line.sku), line.sku]));
  const over = [];
  for (const [skuKey, quantity] of bySku(invoice.lines)) {
    const before = alreadyInvoiced.get(skuKey) ?? 0n;
    const receipt = received.get(skuKey) ?? 0n;
    if ((before + quantity - receipt) * BPS <= receipt * BigInt(config.quantityToleranceBps)) continue;
    over.push({ sku: shown.get(skuKey)!, received: receipt, before, quantity });
  }
  return over;
}

const FIELDS = ["delivery.carrier", "delivery.waybill", "delivery.lines", "invoice.lines"];

/**
 * DELIVERY_OVER_INVOICED (a refusal) per sku the seller's own receivables on this delivery and
 * this invoice take beyond the receipt; otherwise, when other sellers' receivables on it take
 * it beyond, one DELIVERY_INVOICED_BY_ANOTHER_PARTY (a hold for the operator's review); empty
 * when the delivery holds it all.
 *
 * A refusal names only the seller's own receivables and quantities: other sellers' receivable
 * ids and quantities are their business. A clash with another seller is held, not refused, so a
 * competitor cannot block a real delivery by invoicing its waybill first; the operator sees the
 * other receivables in details.otherSellers, which the access policy hides from everyone else.
 */
export async function checkDelivery(
  input: VerificationInput,
  _debtor: PartyView,
  history: VerificationHistory,
  config: VerificationConfig,
): Promise<RuleResult[]> {
  const { delivery } = input.submission;
  const deliveryKey = deliveryKeyOf(delivery.carrier, delivery.waybill);
  const claims: DeliveryClaim[] = await history.claimsOnDelivery(deliveryKey, input.receivableId);
  if (claims.length === 0) return [];
  const deliveryShown = { carrier: delivery.carrier, waybill: delivery.waybill, key: deliveryKey };

  const own = claims.filter((claim) => claim.sellerId === input.seller.id);
  const ownOver = overInvoiced(input, own, config);
  if (ownOver.length > 0) {
    const backedBy = own.map((claim) => claim.receivableId).sort();
    return ownOver.map(({ sku, received, before, quantity }) => ({
      rule: DELIVERY_RULE,
      code: "DELIVERY_OVER_INVOICED",
      outcome: "fail",
      message:
        `delivery ${delivery.waybill} by ${delivery.carrier}: sku "${sku}" received ${received}, already invoiced ${before}` +
        `${backedBy.length > 0 ? ` by ${backedBy.join(", ")}` : ""}; with this invoice's ${quantity} that is ${before + quantity}`,
      fields: FIELDS,
      details: {
        delivery: deliveryShown,
        sku,
        received: received.toString(),
        alreadyInvoiced: before.toString(),
        thisInvoice: quantity.toString(),
        backingReceivableIds: backedBy,
      },
    }));
  }

  const allOver = overInvoiced(input, claims, config);
  if (allOver.length === 0) return [];
  const others = claims.filter((claim) => claim.sellerId !== input.seller.id);
  return [
    {
      rule: DELIVERY_RULE,
      code: "DELIVERY_INVOICED_BY_ANOTHER_PARTY",
      outcome: "hold",
      message: `delivery ${delivery.waybill} by ${delivery.carrier} is already invoiced by another party: held for the operator's review`,
      fields: FIELDS,
      details: {
        delivery: deliveryShown,
        otherSellers: {
          receivableIds: others.map((claim) => claim.receivableId).sort(),
          skus: allOver.map(({ sku, received, before, quantity }) => ({
            sku,
            received: received.toString(),
            alreadyInvoiced: before.toString(),
            thisInvoice: quantity.toString(),
          })),
        },
      },
    },
  ];
}
