// PARTIES: the seller may sell receivables and the debtor may owe them. Paths starting
// with "seller." or "debtor." name the party records the rule read; the seller is the
// authenticated caller, so it is not part of the submission.
import type { PartyView, RuleResult, VerificationInput } from "../types.js";

export const PARTIES_RULE = "PARTIES";

const fail = (code: string, message: string, fields: string[]): RuleResult => ({
  rule: PARTIES_RULE,
  code,
  outcome: "fail",
  message,
  fields,
});

const rolesOf = (party: PartyView): string => (party.roles.length === 0 ? "none" : party.roles.join(", "));

/** Every party finding, in a fixed order; empty when both parties may trade. */
export function checkParties(input: VerificationInput): RuleResult[] {
  const { seller, debtor, submission } = input;
  const findings: RuleResult[] = [];

  if (!seller.roles.includes("supplier")) {
    findings.push(
      fail("SELLER_NOT_SUPPLIER", `seller ${seller.id} does not hold the supplier role (roles: ${rolesOf(seller)})`, [
        "seller.roles",
      ]),
    );
  }
  if (seller.status !== "active") {
    findings.push(fail("SELLER_NOT_ACTIVE", `seller ${seller.id} is ${seller.status}, not active`, ["seller.status"]));
  }
  if (debtor === undefined) {
    findings.push(fail("DEBTOR_UNKNOWN", `no registered party has id ${submission.debtorId}`, ["debtorId"]));
  } else {
    if (!debtor.roles.includes("debtor")) {
      findings.push(
        fail("DEBTOR_NOT_DEBTOR", `party ${debtor.id} does not hold the debtor role (roles: ${rolesOf(debtor)})`, [
          "debtorId",
          "debtor.roles",
        ]),
      );
    }
    if (debtor.status !== "active") {
      findings.push(
        fail("DEBTOR_NOT_ACTIVE", `debtor ${debtor.id} is ${debtor.status}, not active`, ["debtorId", "debtor.status"]),
      );
    }
  }
  if (submission.debtorId === seller.id || debtor?.id === seller.id) {
    findings.push(fail("SELF_DEALING", `seller ${seller.id} cannot invoice itself`, ["debtorId"]));
  }
  return findings;
}
