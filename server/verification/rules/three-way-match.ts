// THREE_WAY_MATCH: what was invoiced was ordered, at the ordered price, and received; and
// the invoice adds up. Quantities and money are compared as bigint, never as floats.
import { sumLines, type ReceivableSubmission } from "../../model/receivable-schema.js";
import type { RuleResult, VerificationConfig } from "../types.js";

export const THREE_WAY_MATCH_RULE = "THREE_WAY_MATCH";

const BPS = 10_000n;

type Document = "purchaseOrder" | "delivery" | "invoice";

/** The lines of one document that carry the same sku. */
interface SkuGroup {
  sku: string;
  indexes: number[];
  quantity: bigint;
  /** The unit price of the group's first line (priced documents only). */
  unitPrice: bigint | undefined;
}

const fail = (code: string, message: string, fields: string[]): RuleResult => ({
  rule: THREE_WAY_MATCH_RULE,
  code,
  outcome: "fail",
  message,
  fields,
});

/** Groups lines by sku in first-seen order; quantities of repeated skus add up. */
function groupBySku(
  lines: ReadonlyArray<{ sku: string; quantity: number; unitPrice?: string }>,
): Map<string, SkuGroup> {
  const groups = new Map<string, SkuGroup>();
  lines.forEach((line, index) => {
    const group = groups.get(line.sku);
    if (group === undefined) {
      const unitPrice = line.unitPrice === undefined ? undefined : BigInt(line.unitPrice);
      groups.set(line.sku, { sku: line.sku, indexes: [index], quantity: BigInt(line.quantity), unitPrice });
    } else {
      group.indexes.push(index);
      group.quantity += BigInt(line.quantity);
    }
  });
  return groups;
}

const paths = (document: Document, group: SkuGroup, field: "sku" | "quantity" | "unitPrice"): string[] =>
  group.indexes.map((index) => `${document}.lines[${index}].${field}`);

const lineWord = (group: SkuGroup): string =>
  group.indexes.length === 1 ? `line ${group.indexes[0]}` : `lines ${group.indexes.join(", ")}`;

/** True when `actual` is above `reference` by more than `toleranceBps` of `reference`. */
const aboveTolerance = (actual: bigint, reference: bigint, toleranceBps: number): boolean =>
  (actual - reference) * BPS > reference * BigInt(toleranceBps);

/** True when `actual` differs from `reference` either way by more than `toleranceBps` of `reference`. */
const outsideTolerance = (actual: bigint, reference: bigint, toleranceBps: number): boolean => {
  const difference = actual > reference ? actual - reference : reference - actual;
  return difference * BPS > reference * BigInt(toleranceBps);
};

/** Every three-way-match finding, grouped by code in a fixed order; empty when the documents agree. */
export function checkThreeWayMatch(submission: ReceivableSubmission, config: VerificationConfig): RuleResult[] {
  const { purchaseOrder, delivery, invoice } = submission;
  const ordered = groupBySku(purchaseOrder.lines);
  const delivered = groupBySku(delivery.lines);
  const invoiced = groupBySku(invoice.lines);
  const invoicedGroups = [...invoiced.values()];
  const findings: RuleResult[] = [];

  if (purchaseOrder.currency !== config.currency) {
    findings.push(
      fail(
        "CURRENCY_UNSUPPORTED",
        `the order is in ${purchaseOrder.currency}; this platform settles only in ${config.currency}`,
        ["purchaseOrder.currency"],
      ),
    );
  }

  for (const group of invoicedGroups) {
    if (!ordered.has(group.sku)) {
      findings.push(
        fail(
          "INVOICE_SKU_NOT_ORDERED",
          `invoice ${lineWord(group)} bills sku "${group.sku}", which the purchase order does not contain`,
          paths("invoice", group, "sku"),
        ),
      );
    }
  }
  for (const group of invoicedGroups) {
    if (!delivered.has(group.sku)) {
      findings.push(
        fail(
          "INVOICE_SKU_NOT_DELIVERED",
          `invoice ${lineWord(group)} bills sku "${group.sku}", which the delivery note does not show as received`,
          paths("invoice", group, "sku"),
        ),
      );
    }
  }
  for (const group of delivered.values()) {
    if (!ordered.has(group.sku)) {
      findings.push(
        fail(
          "DELIVERY_SKU_NOT_ORDERED",
          `delivery ${lineWord(group)} shows sku "${group.sku}", which the purchase order does not contain`,
          paths("delivery", group, "sku"),
        ),
      );
    }
  }

  for (const group of invoicedGroups) {
    const order = ordered.get(group.sku);
    if (order !== undefined && group.quantity > order.quantity) {
      findings.push(
        fail(
          "INVOICE_QUANTITY_EXCEEDS_ORDERED",
          `sku "${group.sku}": invoiced quantity ${group.quantity} exceeds the ordered ${order.quantity}`,
          [...paths("invoice", group, "quantity"), ...paths("purchaseOrder", order, "quantity")],
        ),
      );
    }
  }
  for (const group of invoicedGroups) {
    const receipt = delivered.get(group.sku);
    if (receipt !== undefined && aboveTolerance(group.quantity, receipt.quantity, config.quantityToleranceBps)) {
      findings.push(
        fail(
          "INVOICE_QUANTITY_EXCEEDS_RECEIVED",
          `sku "${group.sku}": invoiced quantity ${group.quantity} exceeds the received ${receipt.quantity} by more than ${config.quantityToleranceBps} bps`,
          [...paths("invoice", group, "quantity"), ...paths("delivery", receipt, "quantity")],
        ),
      );
    }
  }
  invoice.lines.forEach((line, index) => {
    const order = ordered.get(line.sku);
    if (order?.unitPrice === undefined) return;
    const unitPrice = BigInt(line.unitPrice);
    if (outsideTolerance(unitPrice, order.unitPrice, config.priceToleranceBps)) {
      findings.push(
        fail(
          "INVOICE_PRICE_MISMATCH",
          `invoice line ${index} (sku "${line.sku}") unit price ${unitPrice} differs from the ordered ${order.unitPrice} by more than ${config.priceToleranceBps} bps`,
          [`invoice.lines[${index}].unitPrice`, `purchaseOrder.lines[${order.indexes[0]}].unitPrice`],
        ),
      );
    }
  });

  const linesTotal = sumLines(invoice.lines);
  const tax = BigInt(invoice.tax);
  const total = BigInt(invoice.total);
  if (linesTotal + tax !== total) {
    findings.push(
      fail(
        "INVOICE_TOTAL_MISMATCH",
        `invoice lines sum to ${linesTotal}, plus tax ${tax} makes ${linesTotal + tax}, but the total says ${total}`,
        ["invoice.lines", "invoice.tax", "invoice.total"],
      ),
    );
  }

  // Tax is bounded, or a 100 tUSD invoice with 99,900 tUSD of "tax" adds up and becomes a
  // 100,000 tUSD claim: tax x 10,000 <= lines x maxTaxBps, exactly, in integers.
  if (tax * BPS > linesTotal * BigInt(config.maxTaxBps)) {
    findings.push({
      ...fail(
        "INVOICE_TAX_OUT_OF_BOUNDS",
        `invoice tax ${tax} is above ${config.maxTaxBps} bps of the lines' ${linesTotal} (at most ${(linesTotal * BigInt(config.maxTaxBps)) / BPS})`,
        ["invoice.tax", "invoice.lines"],
      ),
      details: {
        tax: tax.toString(),
        linesTotal: linesTotal.toString(),
        maxTaxBps: config.maxTaxBps,
        maxTax: ((linesTotal * BigInt(config.maxTaxBps)) / BPS).toString(),
      },
    });
  }

  // Repeated skus are flagged rather than silently merged: the supplier must say which line is meant.
  const documents: Array<[Document, Map<string, SkuGroup>]> = [
    ["purchaseOrder", ordered],
    ["delivery", delivered],
    ["invoice", invoiced],
  ];
  for (const [document, groups] of documents) {
    for (const group of groups.values()) {
      if (group.indexes.length > 1) {
        findings.push(
          fail(
            "DUPLICATE_SKU_LINES",
            `${document} ${lineWord(group)} repeat sku "${group.sku}"; put each sku on one line`,
            paths(document, group, "sku"),
          ),
        );
      }
    }
  }
  return findings;
}
