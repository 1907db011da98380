// A valid submission and the parties around it, for the verification unit tests: each test
// copies it and changes the one thing it is about.
import { expect } from "chai";
import {
  hashText,
  receivableIdOf,
  SubmitReceivableSchema,
  sumLines,
  type ReceivableSubmission,
} from "../../../server/model/receivable-schema.js";
import type {
  PartyView,
  RuleResult,
  VerificationConfig,
  VerificationHistory,
  VerificationInput,
  VerificationReport,
} from "../../../server/verification/types.js";
import { DEFAULT_VERIFICATION_CONFIG, verifyReceivable } from "../../../server/verification/verify.js";

export const NOW = new Date("2026-11-10T12:00:00Z");
export const SELLER_ID = "party-tier1";
export const DEBTOR_ID = "party-anchor";

export const FAMILIES = [
  "PARTIES",
  "THREE_WAY_MATCH",
  "PO_CAPACITY",
  "DELIVERY",
  "CHRONOLOGY",
  "DUPLICATE",
  "FRAUD_SIGNAL",
];

/**
 * Ordered 120 x BRK-100 @ 2.50 and 60 x BRK-200 @ 1.00 (order total 360.00); received and
 * invoiced 100 and 50 (300.00 + 30.00 tax = 330.00); a 90-day tenor; everything before NOW.
 * Amounts in 6-decimal minor units.
 */
export function sampleSubmission(): ReceivableSubmission {
  return {
    debtorId: DEBTOR_ID,
    purchaseOrder: {
      number: "PO-2026-0117",
      issuedAt: "2026-10-01T09:00:00Z",
      currency: "USD",
      lines: [
        { sku: "BRK-100", quantity: 120, unitPrice: "2500000" },
        { sku: "BRK-200", quantity: 60, unitPrice: "1000000" },
      ],
    },
    delivery: {
      carrier: "Rhein Freight",
      waybill: "WB 77812",
      shippedAt: "2026-10-10T08:00:00Z",
      receivedAt: "2026-10-12T15:00:00Z",
      receivedBy: "Goods-in, Plant 2",
      lines: [
        { sku: "BRK-100", quantity: 100 },
        { sku: "BRK-200", quantity: 50 },
      ],
    },
    invoice: {
      number: "INV-2026-0042",
      issuedAt: "2026-10-15T09:00:00Z",
      dueDate: "2027-01-13T09:00:00Z",
      lines: [
        { sku: "BRK-100", quantity: 100, unitPrice: "2500000" },
        { sku: "BRK-200", quantity: 50, unitPrice: "1000000" },
      ],
      tax: "30000000",
      total: "330000000",
    },
  };
}

export function sampleSeller(): PartyView {
  return {
    id: SELLER_ID,
    name: "Tier-1 Brakes GmbH",
    roles: ["supplier"],
    status: "active",
    industry: "automotive parts",
    relatedPartyIds: [],
  };
}

export function sampleDebtor(): PartyView {
  return {
    id: DEBTOR_ID,
    name: "Anchor Motors AG",
    roles: ["debtor"],
    status: "active",
    industry: "automotive",
    relatedPartyIds: [],
  };
}

export const receivableIdFor = (submission: ReceivableSubmission): string =>
  receivableIdOf(hashText("DE-HRB-1001"), hashText("DE-HRB-2002"), submission.invoice.number);

/** The sample input; `change` edits a fresh copy (the submission's id is derived after the change). */
export function sampleInput(change?: (input: VerificationInput) => void): VerificationInput {
  const input: VerificationInput = {
    receivableId: "",
    seller: sampleSeller(),
    debtor: sampleDebtor(),
    submission: sampleSubmission(),
    now: new Date(NOW),
  };
  change?.(input);
  if (input.receivableId === "") input.receivableId = receivableIdFor(input.submission);
  return input;
}

/** Sets the invoice total to its lines plus tax, so a test about lines trips nothing else. */
export function recomputeTotal(submission: ReceivableSubmission): void {
  submission.invoice.total = (sumLines(submission.invoice.lines) + BigInt(submission.invoice.tax)).toString();
}

/** Verifies, after checking the test built a schema-valid submission (as the API guarantees). */
export async function verify(
  input: VerificationInput,
  history: VerificationHistory,
  config: VerificationConfig = DEFAULT_VERIFICATION_CONFIG,
): Promise<VerificationReport> {
  const parsed = SubmitReceivableSchema.safeParse(input.submission);
  expect(parsed.success, parsed.error?.message).to.equal(true);
  return verifyReceivable(input, history, config);
}

/** The results that are not a pass, without their messages. */
export const findingsOf = (report: VerificationReport): Array<Omit<RuleResult, "message">> =>
  report.results
    .filter((r) => r.outcome !== "pass")
    .map(({ rule, code, outcome, fields }) => ({ rule, code, outcome, fields }));

/** The one finding with this code; fails the test if there is none or several. */
export function findingWith(report: VerificationReport, code: string): RuleResult {
  const found = report.results.filter((r) => r.code === code);
  expect(found, `results with code ${code}`).to.have.length(1);
  return found[0]!;
}

export const isoPlusSeconds = (iso: string, seconds: number): string =>
  new Date(Date.parse(iso) + seconds * 1000).toISOString();
