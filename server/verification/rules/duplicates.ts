// DUPLICATE: the exact receivable (same identity hash) is already on the shared registry,
// or the same order was already invoiced for the same amount under another invoice number.
import { canonicalDocumentNumber } from "../../model/document-identity.js";
import { normaliseInvoiceNumber } from "../../model/receivable-schema.js";
import type { PartyView, RuleResult, VerificationHistory, VerificationInput } from "../types.js";

export const DUPLICATE_RULE = "DUPLICATE";

/** The exact-duplicate finding (fail) and then the near-duplicate one (hold); empty when neither. */
export async function checkDuplicates(
  input: VerificationInput,
  debtor: PartyView,
  history: VerificationHistory,
): Promise<RuleResult[]> {
  const { purchaseOrder, invoice } = input.submission;
  const [onChain, nearIds] = await Promise.all([
    history.registeredOnChain(input.receivableId),
    history.sameOrderSameAmount(
      input.seller.id,
      debtor.id,
      canonicalDocumentNumber(purchaseOrder.number),
      BigInt(invoice.total),
      normaliseInvoiceNumber(invoice.number),
    ),
  ]);
  const findings: RuleResult[] = [];
  if (onChain) {
    findings.push({
      rule: DUPLICATE_RULE,
      code: "EXACT_DUPLICATE_ON_CHAIN",
      outcome: "fail",
      message: `receivable ${input.receivableId} (invoice ${invoice.number} on debtor ${debtor.id}) is already on the registry`,
      fields: ["debtorId", "invoice.number"],
    });
  }
  if (nearIds.length > 0) {
    // Sorted so the report does not depend on the order the store returns rows in.
    const ids = [...nearIds].sort();
    findings.push({
      rule: DUPLICATE_RULE,
      code: "NEAR_DUPLICATE",
      outcome: "hold",
      message: `purchase order ${purchaseOrder.number} was already invoiced for ${invoice.total} under another invoice number: ${ids.join(", ")}`,
      fields: ["purchaseOrder.number", "invoice.total", "invoice.number"],
    });
  }
  return findings;
}
