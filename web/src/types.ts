// The shapes of the v1 answers the page reads (a subset of /openapi.json).
export type Role = "operator" | "supplier" | "debtor" | "financier" | "auditor";

export interface Party {
  id: string;
  name: string;
  roles: Role[];
  address: string;
  status: string;
  industry?: string;
}

export interface PartyRef {
  address: string;
  partyId: string | null;
  name: string | null;
}

export interface TraceFinancing {
  requestId: string;
  kind: "discount" | "pledge";
  price: string;
  repayAmount: string;
  status: string;
  financier: PartyRef | null;
  outstanding: string;
  shortfall: string | null;
  openedTxHash: string;
  fundedTxHash: string | null;
}

export interface TraceNode {
  certificateId: string;
  parentId: string | null;
  tier: number;
  holder: PartyRef;
  faceValue: string;
  state: "live" | "locked" | "retired" | "settled";
  financing: TraceFinancing[];
  paidOut: string;
  issuedTxHash: string;
  issuedBlock: number;
  children: TraceNode[];
}

export interface Trace {
  receivable: {
    id: string;
    seller: PartyRef;
    debtor: PartyRef;
    faceValue: string;
    dueDate: string;
    status: string;
    repaidAmount: string;
    distributed: string;
    documentHash: string;
    registerTxHash: string;
  };
  root: TraceNode;
  certificateCount: number;
  transactions: Array<{
    txHash: string;
    blockNumber: number;
    kind: string;
    events: Array<{ name: string; args: Record<string, unknown> }>;
  }>;
  conservation: {
    rootFace: string;
    liveLeafFaceSum: string;
    leafCount: number;
    retiredCount: number;
    conserves: boolean;
    brokenSplits: Array<{ certificateId: string; faceValue: string; childrenFaceSum: string }>;
  };
  asOfBlock: number;
}

export interface VerificationResult {
  rule: string;
  code: string;
  outcome: string;
  message: string;
  fields?: string[];
}

export interface Receivable {
  id: string;
  status: string;
  sellerId: string;
  debtorId: string;
  invoiceNumber: string;
  purchaseOrderNumber: string;
  currency: string;
  faceValue: string;
  repaidAmount: string;
  dueDate: string;
  rootCertificateId: string | null;
  verification: { outcome: string; results?: VerificationResult[] } | null;
  createdAt: string;
}

export interface Certificate {
  id: string;
  receivableId: string;
  parentId: string | null;
  holderPartyId: string | null;
  faceValue: string;
  tier: number;
  state: string;
  dueDate: string;
  paidOut: string;
}

export interface FinancingRequest {
  id: string;
  certificateId: string;
  receivableId: string;
  kind: "discount" | "pledge";
  price: string;
  repayAmount: string;
  outstanding: string;
  status: string;
  holderPartyId: string | null;
  financierPartyId: string | null;
  debtor: { id: string | null; name: string | null; address: string };
  faceValue: string;
  tier: number;
  dueDate: string;
  tenorDays: number;
  verification: { outcome: string } | null;
}

export type ByMaturity = Record<string, string>;

export interface Exposure {
  party: { id: string; name: string; roles: Role[] };
  asOf: string;
  owed: {
    total: string;
    direct: string;
    throughTiers: string;
    byTier: Array<{ tier: number; amount: string; certificates: number }>;
    byDebtor: Array<{ debtor: PartyRef; amount: string; certificates: number; byMaturity: ByMaturity }>;
    byMaturity: ByMaturity;
    count: number;
    certificatesNextCursor: string | null;
    certificates: Array<{
      certificateId: string;
      receivableId: string;
      tier: number;
      state: string;
      owed: string;
      debtor: PartyRef;
      dueDate: string;
      pledge: { pledgee: PartyRef | null; outstanding: string } | null;
    }>;
  };
  owes: {
    total: string;
    byMaturity: ByMaturity;
    count: number;
    receivablesNextCursor: string | null;
    receivables: Array<{
      receivableId: string;
      seller: PartyRef;
      faceValue: string;
      repaidAmount: string;
      outstanding: string;
      dueDate: string;
      maturity: string;
      status: string;
    }>;
  };
  asFinancier: {
    pledgesOutstanding: string;
    pledgeCount: number;
    pledgesNextCursor: string | null;
    purchasesNextCursor: string | null;
    pledges: Array<{
      requestId: string;
      certificateId: string;
      receivableId: string;
      pledgor: PartyRef;
      debtor: PartyRef | null;
      lent: string;
      repayAmount: string;
      outstanding: string;
      dueDate: string | null;
    }>;
    certificatesBought: { count: number; pricePaid: string; faceValue: string; stillHeldOwed: string };
    purchases: Array<{
      requestId: string;
      certificateId: string;
      receivableId: string;
      seller: PartyRef;
      price: string;
      faceValue: string;
      paidOut: string;
      state: string;
      stillHeld: boolean;
    }>;
  };
}
