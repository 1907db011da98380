// An in-memory VerificationHistory with the same meaning as the database one: it answers
// from a list of earlier receivables, and records every question it was asked.
import { canonicalDocumentNumber, deliveryKeyOf } from "../../../server/model/document-identity.js";
import { normaliseInvoiceNumber } from "../../../server/model/receivable-schema.js";
import type { DeliveryClaim, VerificationHistory } from "../../../server/verification/types.js";

export interface EarlierReceivable {
  id: string;
  sellerId: string;
  debtorId: string;
  poNumber: string;
  invoiceNumber: string;
  faceValue: bigint;
  /** Invoiced value before tax; the face value when omitted. */
  netValue?: bigint;
  createdAt: Date;
  /** Rejected receivables count for brushing only, as in the database. */
  rejected?: boolean;
  /** The delivery that backs it, with what it says was received and what it invoiced. */
  delivery?: {
    carrier: string;
    waybill: string;
    received: Array<{ sku: string; quantity: number }>;
    invoiced: Array<{ sku: string; quantity: number }>;
  };
}

export class FakeHistory implements VerificationHistory {
  readonly receivables: EarlierReceivable[] = [];
  /** Trade relations from outside the receivables list (e.g. other registrars). */
  readonly extraEdges: Array<{ sellerId: string; debtorId: string }> = [];
  readonly onChain = new Set<string>();
  readonly calls: Array<{ method: keyof VerificationHistory; args: unknown[] }> = [];

  add(...receivables: EarlierReceivable[]): this {
    this.receivables.push(...receivables);
    return this;
  }

  private live(): EarlierReceivable[] {
    return this.receivables.filter((r) => r.rejected !== true);
  }

  async invoicedAgainstOrder(
    sellerId: string,
    debtorId: string,
    poNumber: string,
    excludeReceivableId: string,
  ): Promise<bigint> {
    this.calls.push({ method: "invoicedAgainstOrder", args: [sellerId, debtorId, poNumber, excludeReceivableId] });
    return this.live()
      .filter(
        (r) =>
          r.sellerId === sellerId &&
          r.debtorId === debtorId &&
          canonicalDocumentNumber(r.poNumber) === poNumber &&
          r.id !== excludeReceivableId,
      )
      .reduce((sum, r) => sum + (r.netValue ?? r.faceValue), 0n);
  }

  async sameOrderSameAmount(
    sellerId: string,
    debtorId: string,
    poNumber: string,
    faceValue: bigint,
    excludeInvoiceNormalized: string,
  ): Promise<string[]> {
    this.calls.push({
      method: "sameOrderSameAmount",
      args: [sellerId, debtorId, poNumber, faceValue, excludeInvoiceNormalized],
    });
    return this.live()
      .filter(
        (r) =>
          r.sellerId === sellerId &&
          r.debtorId === debtorId &&
          canonicalDocumentNumber(r.poNumber) === poNumber &&
          r.faceValue === faceValue &&
          normaliseInvoiceNumber(r.invoiceNumber) !== excludeInvoiceNormalized,
      )
      .map((r) => r.id);
  }

  async claimsOnDelivery(deliveryKey: string, excludeReceivableId: string): Promise<DeliveryClaim[]> {
    this.calls.push({ method: "claimsOnDelivery", args: [deliveryKey, excludeReceivableId] });
    return this.live()
      .filter(
        (r) =>
          r.delivery !== undefined &&
          deliveryKeyOf(r.delivery.carrier, r.delivery.waybill) === deliveryKey &&
          r.id !== excludeReceivableId,
      )
      .map((r) => ({
        receivableId: r.id,
        sellerId: r.sellerId,
        received: r.delivery!.received,
        invoiced: r.delivery!.invoiced,
      }));
  }

  async previousFaceValues(sellerId: string, debtorId: string): Promise<bigint[]> {
    this.calls.push({ method: "previousFaceValues", args: [sellerId, debtorId] });
    return this.live()
      .filter((r) => r.sellerId === sellerId && r.debtorId === debtorId)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
      .map((r) => r.faceValue);
  }

  async tradeEdgesFrom(partyId: string, maxDepth: number): Promise<Array<{ sellerId: string; debtorId: string }>> {
    this.calls.push({ method: "tradeEdgesFrom", args: [partyId, maxDepth] });
    const edges = [...this.live(), ...this.extraEdges];
    // The sellers reached in fewer than maxDepth edges, as the database's walk finds them.
    const reached = new Set([partyId]);
    let frontier = [partyId];
    for (let depth = 1; depth < maxDepth && frontier.length > 0; depth++) {
      frontier = edges.filter((e) => frontier.includes(e.sellerId) && !reached.has(e.debtorId)).map((e) => e.debtorId);
      for (const party of frontier) reached.add(party);
    }
    const seen = new Map<string, { sellerId: string; debtorId: string }>();
    for (const { sellerId, debtorId } of edges)
      if (reached.has(sellerId)) seen.set(`${sellerId}\u0000${debtorId}`, { sellerId, debtorId });
    return [...seen.values()];
  }

  async recentSubmissions(
    sellerId: string,
    debtorId: string,
    since: Date,
  ): Promise<Array<{ faceValue: bigint; createdAt: Date }>> {
    this.calls.push({ method: "recentSubmissions", args: [sellerId, debtorId, since] });
    return this.receivables
      .filter((r) => r.sellerId === sellerId && r.debtorId === debtorId && r.createdAt.getTime() >= since.getTime())
      .map((r) => ({ faceValue: r.faceValue, createdAt: r.createdAt }));
  }

  async registeredOnChain(receivableId: string): Promise<boolean> {
    this.calls.push({ method: "registeredOnChain", args: [receivableId] });
    return this.onChain.has(receivableId);
  }
}

/** An earlier live receivable of the sample seller on the sample debtor, on its own order unless told. */
export function earlier(id: string, fields: Partial<EarlierReceivable> & { faceValue: bigint }): EarlierReceivable {
  return {
    id,
    sellerId: "party-tier1",
    debtorId: "party-anchor",
    poNumber: `PO-${id}`,
    invoiceNumber: `INV-${id}`,
    createdAt: new Date("2026-06-01T00:00:00Z"),
    ...fields,
  };
}
