// Who may see what: the one access policy of the service, as a table a reviewer can read.
// Each resource has a row per relation the caller can stand in to it; each cell says
// whether the caller sees it whole, redacted (and which fields are left out), or is refused
// with a stable code. Routes never decide on their own: they find the caller's relations
// (server/store/access-relations.ts) and ask `decide`. The README's table and the test
// test/server/api/access-policy.test.ts are both generated from ACCESS_POLICY.
import { AppError } from "./errors.js";

export const RECEIVABLE_RELATIONS = [
  "seller",
  "debtor",
  "holder",
  "lineageHolder",
  "evaluatingFinancier",
  "fundingFinancier",
  "auditor",
  "operator",
  "other",
] as const;

/** For a resource about one party (exposure, risk view, profile): the seller/debtor/holder cells become "self". */
export const PARTY_RELATIONS = [
  "self",
  "evaluatingFinancier",
  "fundingFinancier",
  "auditor",
  "operator",
  "other",
] as const;

export type Relation = (typeof RECEIVABLE_RELATIONS)[number] | (typeof PARTY_RELATIONS)[number];

export const RELATION_MEANING: Record<Relation, string> = {
  seller: "sold the receivable (its tier-1 supplier)",
  debtor: "owes the receivable",
  holder: "holds this certificate now (for a receivable: holds a piece of it)",
  lineageHolder: "holds or held a piece above or below this one (its parent, the root, a child)",
  evaluatingFinancier: "a financier, while a financing request on this piece (or on this party's paper) is open",
  fundingFinancier: "the financier that bought or lent against this piece (or this party's paper)",
  auditor: "an auditor (reads everything, changes nothing)",
  operator: "the operator of the platform",
  other: "anyone else with an API key",
  self: "the party itself",
};

export type Decision =
  | { access: "whole" }
  | { access: "redacted"; hide: readonly string[]; why: string }
  | { access: "denied"; status: 403 | 404; code: string };

const WHOLE: Decision = { access: "whole" };
const FORBIDDEN: Decision = { access: "denied", status: 403, code: "FORBIDDEN" };
const redacted = (why: string, ...hide: string[]): Decision => ({ access: "redacted", hide, why });
/**
 * Who sees the money of one receivable (what the debtor paid in and out, and what credit
 * notes took off): every party in its tree and the financiers that funded it, not a
 * financier still weighing an open request.
 */
const RECEIVABLE_MONEY_CELLS: Record<(typeof RECEIVABLE_RELATIONS)[number], Decision> = {
  seller: WHOLE,
  debtor: WHOLE,
  holder: WHOLE,
  lineageHolder: WHOLE,
  evaluatingFinancier: FORBIDDEN,
  fundingFinancier: WHOLE,
  auditor: WHOLE,
  operator: WHOLE,
  other: FORBIDDEN,
};

/** Documents without the prices of their lines: an outsider to the trade learns quantities and totals, not unit prices. */
const NO_UNIT_PRICES = redacted(
  "unit prices are the seller's business; a grant by the seller is a later item",
  "purchaseOrder.lines[].unitPrice",
  "invoice.lines[].unitPrice",
);
/**
 * A verification report without what its findings learned of other parties' trades: the path
 * of a trade cycle (CIRCULAR_TRADING) and the other sellers' receivables on the same delivery
 * (DELIVERY_INVOICED_BY_ANOTHER_PARTY). The findings still say that there is one.
 */
const NO_OTHER_PARTIES_TRADES = redacted(
  "a trade cycle's path and other sellers' receivables on a delivery are other parties' trades; the findings keep that they exist",
  "results[].details.cycle",
  "results[].details.otherSellers",
);
/** A receivable without its closed earlier attempts: those are the trade parties' history. */
const NO_HISTORY = redacted("earlier attempts are the trade parties' history", "earlierAttempts");
/** Financing terms of pieces the caller neither holds nor funded: what they sold for and to whom. */
const OTHERS_TERMS_HIDDEN = redacted(
  "the prices and financiers of other parties' pieces are theirs",
  "nodes[].financing (of pieces the caller does not hold or fund)",
  "transactions (financing events of those pieces)",
);
const PATH_ONLY = redacted(
  "the path from the caller's pieces to the root and below them; siblings are left out",
  "nodes off the caller's path",
  "nodes[].financing (of pieces the caller does not hold or fund)",
  "transactions (financing events of those pieces)",
);

export const RESOURCES = [
  "receivable",
  "documents",
  "verificationReport",
  "certificate",
  "lineagePath",
  "tree",
  "financingRequest",
  "financingPrice",
  "repayment",
  "dilution",
  "exposure",
  "riskView",
  "partyProfile",
  "heldPayments",
] as const;
export type Resource = (typeof RESOURCES)[number];

export interface ResourceRow {
  /** What the resource is and which route serves it. */
  what: string;
  routes: readonly string[];
  scope: "receivable" | "party";
  cells: Partial<Record<Relation, Decision>>;
}

export const ACCESS_POLICY: Record<Resource, ResourceRow> = {
  receivable: {
    what: "status, parties, face value, due date, remaining claim, document hash, root certificate",
    routes: ["GET /v1/receivables/:id"],
    scope: "receivable",
    cells: {
      seller: WHOLE,
      debtor: WHOLE,
      holder: NO_HISTORY,
      lineageHolder: NO_HISTORY,
      evaluatingFinancier: NO_HISTORY,
      fundingFinancier: NO_HISTORY,
      auditor: WHOLE,
      operator: WHOLE,
      other: FORBIDDEN,
    },
  },
  documents: {
    what: "the trade documents: purchase order, delivery, invoice (`documents` of the receivable)",
    routes: ["GET /v1/receivables/:id"],
    scope: "receivable",
    cells: {
      seller: WHOLE,
      debtor: WHOLE,
      holder: FORBIDDEN,
      lineageHolder: FORBIDDEN,
      evaluatingFinancier: NO_UNIT_PRICES,
      fundingFinancier: NO_UNIT_PRICES,
      auditor: WHOLE,
      operator: WHOLE,
      other: FORBIDDEN,
    },
  },
  verificationReport: {
    what: "the verification report of the root receivable (`verification`), with the operator's review",
    routes: ["GET /v1/receivables/:id", "GET /v1/financing-requests/:id", "POST /v1/receivables (its refusals)"],
    scope: "receivable",
    cells: {
      seller: NO_OTHER_PARTIES_TRADES,
      debtor: NO_OTHER_PARTIES_TRADES,
      holder: NO_OTHER_PARTIES_TRADES,
      lineageHolder: NO_OTHER_PARTIES_TRADES,
      evaluatingFinancier: NO_OTHER_PARTIES_TRADES,
      fundingFinancier: NO_OTHER_PARTIES_TRADES,
      auditor: WHOLE,
      operator: WHOLE,
      other: FORBIDDEN,
    },
  },
  certificate: {
    what: "one certificate: receivable, parent, tier, face value, state, holder",
    routes: ["GET /v1/certificates/:id"],
    scope: "receivable",
    cells: {
      seller: WHOLE,
      debtor: WHOLE,
      holder: WHOLE,
      lineageHolder: WHOLE,
      evaluatingFinancier: WHOLE,
      fundingFinancier: WHOLE,
      auditor: WHOLE,
      operator: WHOLE,
      other: FORBIDDEN,
    },
  },
  lineagePath: {
    what: "the caller's pieces, their ancestors up to the root and their descendants",
    routes: ["GET /v1/audit/receivables/:id/trace (when the whole tree is not the caller's)"],
    scope: "receivable",
    cells: {
      seller: OTHERS_TERMS_HIDDEN,
      debtor: OTHERS_TERMS_HIDDEN,
      holder: PATH_ONLY,
      lineageHolder: PATH_ONLY,
      evaluatingFinancier: PATH_ONLY,
      fundingFinancier: PATH_ONLY,
      auditor: WHOLE,
      operator: WHOLE,
      other: FORBIDDEN,
    },
  },
  tree: {
    what: "the whole certificate tree with every piece's financing and every transaction",
    routes: ["GET /v1/audit/receivables/:id/trace"],
    scope: "receivable",
    cells: {
      seller: OTHERS_TERMS_HIDDEN,
      debtor: OTHERS_TERMS_HIDDEN,
      holder: FORBIDDEN,
      lineageHolder: FORBIDDEN,
      evaluatingFinancier: FORBIDDEN,
      fundingFinancier: FORBIDDEN,
      auditor: WHOLE,
      operator: WHOLE,
      other: FORBIDDEN,
    },
  },
  financingRequest: {
    what: "one financing request with its terms (listed in the book when the cell allows it)",
    routes: ["GET /v1/financing-requests", "GET /v1/financing-requests/:id"],
    scope: "receivable",
    cells: {
      seller: FORBIDDEN,
      debtor: FORBIDDEN,
      holder: WHOLE,
      lineageHolder: FORBIDDEN,
      evaluatingFinancier: WHOLE,
      fundingFinancier: WHOLE,
      auditor: WHOLE,
      operator: WHOLE,
      other: FORBIDDEN,
    },
  },
  financingPrice: {
    what: "the price, repay amount and financier of a piece's financing (in the tree and the path)",
    routes: ["GET /v1/audit/receivables/:id/trace"],
    scope: "receivable",
    cells: {
      seller: FORBIDDEN,
      debtor: FORBIDDEN,
      holder: WHOLE,
      lineageHolder: FORBIDDEN,
      evaluatingFinancier: WHOLE,
      fundingFinancier: WHOLE,
      auditor: WHOLE,
      operator: WHOLE,
      other: FORBIDDEN,
    },
  },
  repayment: {
    what: "what the debtor paid in and what was paid out",
    routes: ["GET /v1/receivables/:id/repayments"],
    scope: "receivable",
    cells: RECEIVABLE_MONEY_CELLS,
  },
  dilution: {
    what: "a receivable's disputes and credit notes, what was credited and each leaf's cut (issue 16)",
    routes: ["GET /v1/receivables/:id/credit-notes", "GET /v1/credit-notes?awaiting=arbiter (every receivable's)"],
    scope: "receivable",
    cells: RECEIVABLE_MONEY_CELLS,
  },
  exposure: {
    what: "what a party is owed, owes and has at stake; the certificates it holds",
    routes: ["GET /v1/audit/parties/:id/exposure", "GET /v1/parties/:id/certificates", "GET /v1/recourse-claims"],
    scope: "party",
    cells: {
      self: WHOLE,
      evaluatingFinancier: FORBIDDEN,
      fundingFinancier: FORBIDDEN,
      auditor: WHOLE,
      operator: WHOLE,
      other: FORBIDDEN,
    },
  },
  riskView: {
    what: "a party's score, limits, exposure lines and alerts",
    routes: ["GET /v1/risk/parties/:id"],
    scope: "party",
    cells: {
      self: WHOLE,
      evaluatingFinancier: WHOLE,
      fundingFinancier: WHOLE,
      auditor: WHOLE,
      operator: WHOLE,
      other: FORBIDDEN,
    },
  },
  partyProfile: {
    what: "a party's public profile: name, registry id, industry, roles, address (the directory to pay and finance)",
    routes: ["GET /v1/parties/:id"],
    scope: "party",
    cells: {
      self: WHOLE,
      evaluatingFinancier: WHOLE,
      fundingFinancier: WHOLE,
      auditor: WHOLE,
      operator: WHOLE,
      other: WHOLE,
    },
  },
  heldPayments: {
    what: "payments the escrow kept for a party because its token refused the push (what it can withdraw)",
    // The route takes no party: it answers about the caller only, so every other cell is
    // refused by construction (no way to name another party), and the test checks that.
    routes: ["GET /v1/me/held-payments"],
    scope: "party",
    cells: {
      self: WHOLE,
      evaluatingFinancier: FORBIDDEN,
      fundingFinancier: FORBIDDEN,
      auditor: FORBIDDEN,
      operator: FORBIDDEN,
      other: FORBIDDEN,
    },
  },
};

const rank = (d: Decision): number => (d.access === "whole" ? 2 : d.access === "redacted" ? 1 : 0);

/**
 * The answer for a caller standing in these relations to the resource: the most generous
 * cell among them (a seller that also holds a piece sees what either may see). A caller in
 * no relation is "other".
 */
export function decide(resource: Resource, relations: Iterable<Relation>): Decision {
  const row = ACCESS_POLICY[resource];
  let best: Decision | undefined;
  for (const relation of relations) {
    const cell = row.cells[relation];
    if (!cell) continue;
    if (
      !best ||
      rank(cell) > rank(best) ||
      (cell.access === "redacted" && best.access === "redacted" && cell.hide.length < best.hide.length)
    )
      best = cell;
  }
  return best ?? row.cells.other ?? FORBIDDEN;
}

export const mayRead = (decision: Decision): boolean => decision.access !== "denied";

/** The refusal for a denied cell, with the resource and the caller's relations for the reader. */
export function refusal(resource: Resource, relations: Iterable<Relation>, subject: string): AppError {
  const decision = decide(resource, relations);
  const list = [...relations];
  const status = decision.access === "denied" ? decision.status : 403;
  const code = decision.access === "denied" ? decision.code : "FORBIDDEN";
  return new AppError(
    code,
    status,
    `the access policy does not show the ${resource} of ${subject} to a caller who is ${list.length ? list.join(", ") : "other"}`,
    { resource, relations: list.length ? list : ["other"] },
  );
}

/** Asks the policy and throws its refusal when it says no. */
export function requireAccess(resource: Resource, relations: Iterable<Relation>, subject: string): Decision {
  const list = [...relations];
  const decision = decide(resource, list);
  if (decision.access === "denied") throw refusal(resource, list, subject);
  return decision;
}

/**
 * Leaves out the fields a redacted cell names: `a.b` a nested field, `a[].b` the field of
 * every element. Descriptions in parentheses are for readers; the caller removes those itself.
 */
export function redactFields<T>(value: T, decision: Decision): T {
  if (decision.access !== "redacted") return value;
  const copy = structuredClone(value) as unknown;
  for (const path of decision.hide) {
    if (path.includes(" ")) continue;
    removePath(copy, path.split("."));
  }
  return copy as T;
}

function removePath(target: unknown, parts: string[]): void {
  if (target === null || typeof target !== "object") return;
  const [head, ...rest] = parts;
  if (head === undefined) return;
  const isArray = head.endsWith("[]");
  const key = isArray ? head.slice(0, -2) : head;
  const record = target as Record<string, unknown>;
  if (rest.length === 0) {
    delete record[key];
    return;
  }
  const next = record[key];
  if (isArray && Array.isArray(next)) for (const item of next) removePath(item, rest);
  else removePath(next, rest);
}

/** The table as Markdown, for the README (`npm run policy:table` prints it). */
export function policyTableMarkdown(): string {
  const show = (d: Decision | undefined): string =>
    !d ? "—" : d.access === "whole" ? "whole" : d.access === "redacted" ? "redacted¹" : `${d.status} ${d.code}`;
  const out: string[] = [];
  const header = (relations: readonly string[]) => [
    `| resource | ${relations.join(" | ")} |`,
    `| --- | ${relations.map(() => "---").join(" | ")} |`,
  ];
  out.push("Receivable-scoped resources (the caller's relation to the receivable or piece):", "");
  out.push(...header(RECEIVABLE_RELATIONS));
  for (const resource of RESOURCES.filter((r) => ACCESS_POLICY[r].scope === "receivable"))
    out.push(
      `| ${resource} | ${RECEIVABLE_RELATIONS.map((rel) => show(ACCESS_POLICY[resource].cells[rel])).join(" | ")} |`,
    );
  out.push("", "Party-scoped resources (the caller's relation to the party):", "");
  out.push(...header(PARTY_RELATIONS));
  for (const resource of RESOURCES.filter((r) => ACCESS_POLICY[r].scope === "party"))
    out.push(`| ${resource} | ${PARTY_RELATIONS.map((rel) => show(ACCESS_POLICY[resource].cells[rel])).join(" | ")} |`);
  out.push("", "¹ Redacted cells leave out:", "");
  for (const resource of RESOURCES) {
    const seen = new Set<string>();
    for (const [relation, cell] of Object.entries(ACCESS_POLICY[resource].cells)) {
      if (cell.access !== "redacted") continue;
      const key = cell.hide.join("; ");
      if (seen.has(key)) continue;
      seen.add(key);
      const who = Object.entries(ACCESS_POLICY[resource].cells)
        .filter(([, c]) => c.access === "redacted" && c.hide.join("; ") === key)
        .map(([r]) => r)
        .join(", ");
      void relation;
      out.push(`- ${resource}, for ${who}: ${cell.hide.map((h) => `\`${h}\``).join(", ")} — ${cell.why}`);
    }
  }
  return out.join("\n");
}

export const POLICY_TABLE_BEGIN =
  "<!-- access-policy:begin (generated by `npx tsx scripts/policy-table.ts --write`) -->";
export const POLICY_TABLE_END = "<!-- access-policy:end -->";

/** The README's text with the generated table between its markers. */
export function withPolicyTable(readme: string): string {
  const begin = readme.indexOf(POLICY_TABLE_BEGIN);
  const end = readme.indexOf(POLICY_TABLE_END);
  if (begin < 0 || end < begin) throw new Error("README.md has no access-policy markers");
  return `${readme.slice(0, begin + POLICY_TABLE_BEGIN.length)}\n\n${policyTableMarkdown()}\n\n${readme.slice(end)}`;
}
