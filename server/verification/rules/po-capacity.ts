// PO_CAPACITY: everything invoiced against one purchase order, this invoice included,
// stays within the order's total (the sum of its lines). Like with like: an order's lines
// carry no tax, so what counts is each invoice's value before tax (its lines; total - tax),
// and the tax itself is bounded by THREE_WAY_MATCH (INVOICE_TAX_OUT_OF_BOUNDS), so the face
// value can never exceed the order's total by more than the configured tax rate. The order
// is identified by its canonical number (docs/document-identity.md): "PO 944450",
// "po-944450" and "PO944450" are one order.
import { canonicalDocumentNumber } from "../../model/document-identity.js";
import { sumLines } from "../../model/receivable-schema.js";
import type { PartyView, RuleResult, VerificationHistory, VerificationInput } from "../types.js";

export const PO_CAPACITY_RULE = "PO_CAPACITY";

/** One PO_CAPACITY_EXCEEDED finding when the order would be over-invoiced; empty otherwise. */
export async function checkPoCapacity(
  input: VerificationInput,
  debtor: PartyView,
  history: VerificationHistory,
): Promise<RuleResult[]> {
  const { purchaseOrder, invoice } = input.submission;
  const orderTotal = sumLines(purchaseOrder.lines);
  const alreadyInvoiced = await history.invoicedAgainstOrder(
    input.seller.id,
    debtor.id,
    canonicalDocumentNumber(purchaseOrder.number),
    input.receivableId,
  );
  const faceValue = BigInt(invoice.total) - BigInt(invoice.tax);
  const invoicedWithThis = alreadyInvoiced + faceValue;
  if (invoicedWithThis <= orderTotal) return [];
  return [
    {
      rule: PO_CAPACITY_RULE,
      code: "PO_CAPACITY_EXCEEDED",
      outcome: "fail",
      message:
        `purchase order ${purchaseOrder.number}: already invoiced ${alreadyInvoiced} + this invoice ${faceValue} (before tax) = ${invoicedWithThis}, ` +
        `above the order total ${orderTotal}`,
      fields: ["purchaseOrder.number", "purchaseOrder.lines", "invoice.total", "invoice.tax"],
    },
  ];
}
