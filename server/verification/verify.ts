// Verification of one submission before registration: runs every rule family in a fixed
// order and turns their findings into a stored, reproducible report. The same input,
// history and configuration always give a deep-equal report.
import { documentHashOf } from "../model/receivable-schema.js";
import { checkChronology, CHRONOLOGY_RULE } from "./rules/chronology.js";
import { checkDelivery, DELIVERY_RULE } from "./rules/delivery.js";
import { checkDuplicates, DUPLICATE_RULE } from "./rules/duplicates.js";
import { checkFraudSignals, FRAUD_SIGNAL_RULE } from "./rules/fraud-signals.js";
import { checkParties, PARTIES_RULE } from "./rules/parties.js";
import { checkPoCapacity, PO_CAPACITY_RULE } from "./rules/po-capacity.js";
import { checkThreeWayMatch, THREE_WAY_MATCH_RULE } from "./rules/three-way-match.js";
import type {
  RuleResult,
  VerificationConfig,
  VerificationHistory,
  VerificationInput,
  VerificationReport,
} from "./types.js";

/** The service configuration's defaults (server/config.ts) plus the fraud-signal thresholds. */
export const DEFAULT_VERIFICATION_CONFIG: Readonly<VerificationConfig> = Object.freeze({
  currency: "USD",
  priceToleranceBps: 50,
  quantityToleranceBps: 0,
  maxTaxBps: 2_500,
  minTenorDays: 1,
  maxTenorDays: 180,
  volumeSpikeFactor: 5,
  volumeSpikeMinHistory: 3,
  brushingWindowHours: 24,
  brushingMaxCount: 10,
});

/** What a family reports when it found nothing: the message and the fields it looked at. */
const PASSES: Record<string, { message: string; fields: string[] }> = {
  [PARTIES_RULE]: { message: "the seller is an active supplier and the debtor an active debtor", fields: ["debtorId"] },
  [THREE_WAY_MATCH_RULE]: {
    message: "invoice, purchase order and delivery agree on skus, quantities and prices; the invoice adds up",
    fields: [
      "purchaseOrder.currency",
      "purchaseOrder.lines",
      "delivery.lines",
      "invoice.lines",
      "invoice.tax",
      "invoice.total",
    ],
  },
  [PO_CAPACITY_RULE]: {
    message: "the purchase order is not over-invoiced",
    fields: ["purchaseOrder.number", "purchaseOrder.lines", "invoice.total"],
  },
  [DELIVERY_RULE]: {
    message: "the delivery (carrier and waybill) is not invoiced beyond what was received",
    fields: ["delivery.carrier", "delivery.waybill", "delivery.lines", "invoice.lines"],
  },
  [CHRONOLOGY_RULE]: {
    message: "order, shipment, receipt, invoice and due date are in order; the tenor is within limits",
    fields: [
      "purchaseOrder.issuedAt",
      "delivery.shippedAt",
      "delivery.receivedAt",
      "invoice.issuedAt",
      "invoice.dueDate",
    ],
  },
  [DUPLICATE_RULE]: {
    message: "not on the registry, and no other invoice for this order and amount",
    fields: ["debtorId", "purchaseOrder.number", "invoice.number", "invoice.total"],
  },
  [FRAUD_SIGNAL_RULE]: { message: "no fraud signal in the trade history", fields: ["debtorId", "invoice.total"] },
};

/** A family's findings, or its single pass result when it found nothing. */
function familyResults(rule: string, findings: RuleResult[]): RuleResult[] {
  if (findings.length > 0) return findings;
  const pass = PASSES[rule]!;
  return [{ rule, code: `${rule}_PASSED`, outcome: "pass", message: pass.message, fields: [...pass.fields] }];
}

/**
 * Checks one submission. The submission must already have passed SubmitReceivableSchema.
 * When the debtor is unknown (PARTIES: DEBTOR_UNKNOWN) the families that need the debtor's
 * record or its history (PO_CAPACITY, DELIVERY, DUPLICATE — the receivable id itself derives from the
 * debtor's legal id — and FRAUD_SIGNAL) are not run and so not listed; the report is rejected.
 */
export async function verifyReceivable(
  input: VerificationInput,
  history: VerificationHistory,
  config: VerificationConfig,
): Promise<VerificationReport> {
  const { debtor, submission } = input;
  const [poCapacity, delivery, duplicates, fraudSignals] =
    debtor === undefined
      ? [undefined, undefined, undefined, undefined]
      : await Promise.all([
          checkPoCapacity(input, debtor, history),
          checkDelivery(input, debtor, history, config),
          checkDuplicates(input, debtor, history),
          checkFraudSignals(input, debtor, history, config),
        ]);

  const results: RuleResult[] = [
    ...familyResults(PARTIES_RULE, checkParties(input)),
    ...familyResults(THREE_WAY_MATCH_RULE, checkThreeWayMatch(submission, config)),
    ...(poCapacity === undefined ? [] : familyResults(PO_CAPACITY_RULE, poCapacity)),
    ...(delivery === undefined ? [] : familyResults(DELIVERY_RULE, delivery)),
    ...familyResults(CHRONOLOGY_RULE, checkChronology(submission, input.now, config)),
    ...(duplicates === undefined ? [] : familyResults(DUPLICATE_RULE, duplicates)),
    ...(fraudSignals === undefined ? [] : familyResults(FRAUD_SIGNAL_RULE, fraudSignals)),
  ];

  const outcome = results.some((r) => r.outcome === "fail")
    ? "rejected"
    : results.some((r) => r.outcome === "hold")
      ? "held"
      : "passed";
  return {
    version: 1,
    outcome,
    checkedAt: input.now.toISOString(),
    receivableId: input.receivableId,
    documentHash: documentHashOf(submission),
    config: { ...config },
    results,
  };
}
