// The contract between the verification rules and the rest of the service.
import type { Role } from "../model/parties-schema.js";
import type { ReceivableSubmission } from "../model/receivable-schema.js";

export interface PartyView {
  id: string;
  name: string;
  roles: Role[];
  status: string; // active | suspended | registering
  industry: string;
  relatedPartyIds: string[];
}

/** What the rules may ask about the past; implemented over the database. */
export interface VerificationHistory {
  /**
   * Value before tax already invoiced (live submissions and registered receivables) against
   * this purchase order, by its canonical number, excluding `excludeReceivableId`.
   */
  invoicedAgainstOrder(
    sellerId: string,
    debtorId: string,
    poNumberCanonical: string,
    excludeReceivableId: string,
  ): Promise<bigint>;
  /** Ids of receivables with the same order (canonical number) and face value under another invoice number. */
  sameOrderSameAmount(
    sellerId: string,
    debtorId: string,
    poNumberCanonical: string,
    faceValue: bigint,
    excludeInvoiceNormalized: string,
  ): Promise<string[]>;
  /**
   * Every live receivable, of any seller, backed by this delivery (canonical carrier |
   * canonical waybill), excluding `excludeReceivableId`: what it says was received and what it invoiced.
   */
  claimsOnDelivery(deliveryKey: string, excludeReceivableId: string): Promise<DeliveryClaim[]>;
  /** Face values of the seller's earlier receivables on this debtor, oldest first. */
  previousFaceValues(sellerId: string, debtorId: string): Promise<bigint[]>;
  /**
   * The live (seller -> debtor) trade relations a walk of at most `maxDepth` edges from
   * `partyId` may take: those whose seller `partyId` reaches in fewer than `maxDepth` edges.
   * Enough to find every cycle through `partyId` of up to `maxDepth` edges, and no more, so
   * the read grows with the party's neighbourhood, not with the book.
   */
  tradeEdgesFrom(partyId: string, maxDepth: number): Promise<Array<{ sellerId: string; debtorId: string }>>;
  /** The seller's submissions on this debtor since `since`. */
  recentSubmissions(
    sellerId: string,
    debtorId: string,
    since: Date,
  ): Promise<Array<{ faceValue: bigint; createdAt: Date }>>;
  /** Whether the receivable id is already on the on-chain registry (any registrar). */
  registeredOnChain(receivableId: string): Promise<boolean>;
}

/** One earlier receivable backed by a delivery. */
export interface DeliveryClaim {
  receivableId: string;
  sellerId: string;
  received: Array<{ sku: string; quantity: number }>;
  invoiced: Array<{ sku: string; quantity: number }>;
}

export interface VerificationConfig {
  currency: string;
  priceToleranceBps: number;
  quantityToleranceBps: number;
  maxTaxBps: number; // the invoice's tax may be at most this share of its lines (before tax)
  minTenorDays: number;
  maxTenorDays: number;
  volumeSpikeFactor: number; // hold when face > factor x the seller's historical mean on this debtor
  volumeSpikeMinHistory: number; // ... given at least this many earlier receivables
  brushingWindowHours: number;
  brushingMaxCount: number; // hold when more than this many submissions in the window
}

export interface VerificationInput {
  receivableId: string;
  seller: PartyView;
  debtor: PartyView | undefined;
  submission: ReceivableSubmission;
  now: Date;
}

export type RuleOutcome = "pass" | "fail" | "hold";

export interface RuleResult {
  /** The rule family: SCHEMA, PARTIES, THREE_WAY_MATCH, PO_CAPACITY, DELIVERY, CHRONOLOGY, DUPLICATE, FRAUD_SIGNAL. */
  rule: string;
  /** The stable code of this finding, e.g. INVOICE_QUANTITY_EXCEEDS_RECEIVED. */
  code: string;
  outcome: RuleOutcome;
  message: string;
  /** JSON paths into the submission that the rule looked at, e.g. "invoice.lines[2].quantity". */
  fields: string[];
  /** The values behind a finding, when a message alone would not let a client act on it. */
  details?: Record<string, unknown>;
}

export interface VerificationReport {
  version: 1;
  outcome: "passed" | "rejected" | "held";
  checkedAt: string;
  receivableId: string;
  documentHash: string;
  config: VerificationConfig;
  results: RuleResult[];
}
