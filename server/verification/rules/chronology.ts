// CHRONOLOGY: order <= shipment <= receipt <= invoice <= due date, nothing issued in the
// future, the due date still ahead, and a tenor within the configured limits. Times are
// compared in whole seconds, the resolution the registry stores.
import { toUnixSeconds, type ReceivableSubmission } from "../../model/receivable-schema.js";
import type { RuleResult, VerificationConfig } from "../types.js";

export const CHRONOLOGY_RULE = "CHRONOLOGY";

const SECONDS_PER_DAY = 86_400;

const fail = (code: string, message: string, fields: string[]): RuleResult => ({
  rule: CHRONOLOGY_RULE,
  code,
  outcome: "fail",
  message,
  fields,
});

/** Every chronology finding, grouped by code in a fixed order; empty when the dates line up. */
export function checkChronology(submission: ReceivableSubmission, now: Date, config: VerificationConfig): RuleResult[] {
  const { purchaseOrder, delivery, invoice } = submission;
  const sequence: Array<[field: string, iso: string]> = [
    ["purchaseOrder.issuedAt", purchaseOrder.issuedAt],
    ["delivery.shippedAt", delivery.shippedAt],
    ["delivery.receivedAt", delivery.receivedAt],
    ["invoice.issuedAt", invoice.issuedAt],
    ["invoice.dueDate", invoice.dueDate],
  ];
  const nowSeconds = Math.floor(now.getTime() / 1000);
  const findings: RuleResult[] = [];

  // Adjacent pairs suffice: any out-of-order pair implies an out-of-order adjacent pair.
  for (let i = 1; i < sequence.length; i++) {
    const [earlierField, earlier] = sequence[i - 1]!;
    const [laterField, later] = sequence[i]!;
    if (toUnixSeconds(earlier) > toUnixSeconds(later)) {
      findings.push(
        fail("CHRONOLOGY_ORDER", `${earlierField} (${earlier}) is after ${laterField} (${later})`, [
          earlierField,
          laterField,
        ]),
      );
    }
  }

  for (const [field, iso] of sequence.slice(0, 4)) {
    if (toUnixSeconds(iso) > nowSeconds) {
      findings.push(
        fail("DOCUMENT_IN_FUTURE", `${field} (${iso}) is after the time of checking (${now.toISOString()})`, [field]),
      );
    }
  }

  if (toUnixSeconds(invoice.dueDate) <= nowSeconds) {
    findings.push(
      fail(
        "DUE_DATE_PASSED",
        `the due date ${invoice.dueDate} is not after the time of checking (${now.toISOString()})`,
        ["invoice.dueDate"],
      ),
    );
  }

  const tenorSeconds = toUnixSeconds(invoice.dueDate) - toUnixSeconds(invoice.issuedAt);
  const minSeconds = config.minTenorDays * SECONDS_PER_DAY;
  const maxSeconds = config.maxTenorDays * SECONDS_PER_DAY;
  if (tenorSeconds < minSeconds || tenorSeconds > maxSeconds) {
    findings.push(
      fail(
        "TENOR_OUT_OF_RANGE",
        `the tenor from invoice date to due date is ${tenorSeconds} s; it must be between ${config.minTenorDays} days (${minSeconds} s) and ${config.maxTenorDays} days (${maxSeconds} s)`,
        ["invoice.issuedAt", "invoice.dueDate"],
      ),
    );
  }
  return findings;
}
