// The two gas floors of each benchmarked operation. scripts/bench/gas.ts measures each
// operation and divides by both:
//   - today's floor: what the operation cannot avoid paying, whatever the code looks like,
//     given the data model the contracts store today (checked against the real storage diff);
//   - the design floor: what ANY design of the operation must pay (see "Design floor" below),
//     so the gap between the two is what a leaner data model could still win.
//
// How a floor is built (EVM rules as of Prague/Osaka; Hardhat runs "osaka"):
//   floor = max(21,000 + calldata + execution floor,  21,000 + 10 x calldata tokens)
//   - 21,000: intrinsic cost of any transaction.
//   - calldata: 4 gas per zero byte + 16 per non-zero byte of the tx data (EIP-2028),
//     i.e. 4 x tokens with tokens = zeros + 4 x non-zeros. EIP-7623 (Prague) charges at
//     least 21,000 + 10 x tokens for the whole transaction; the second term of the max is
//     that rule, and the table says which of the two applied.
//   - execution floor: the NET storage change of the operation (the value of each slot
//     before the transaction against its value after it), priced at cold-slot cost:
//       zero -> non-zero      22,100  (20,000 SSTORE_SET + 2,100 cold access, EIP-2929/2200)
//       non-zero -> other     5,000   (2,900 SSTORE_RESET + 2,100 cold access)
//       non-zero -> zero      200     (5,000 charged, 4,800 refunded, EIP-3529; the refund
//                                     cap of gasUsed/5 is ignored: it never binds here)
//     plus precompiles the design requires (ecrecover, 3,000, for the debtor's consent).
//     Token movements are counted the same way: an ERC-20 transfer is the payer's balance
//     slot (update) and the payee's (new if the payee held none of the token).
//
// Deliberately NOT in the floor (so even lean code shows a ratio above 1):
//   cold account access of other contracts (2,600 each), SLOADs for the checks, events
//   (LOG costs; the design needs them to rebuild the index, but their size is a choice),
//   hashing, memory, ABI decoding, reentrancy guards, approval clearing on ERC-721 burns.
// Assumptions, stated once:
//   - Slot counts are those of the structs as declared today (contracts/interfaces/*.sol, and
//     the registry's own Record), not of an ideal packing (see "tighter layouts" below).
//   - Fields whose value stays zero cost nothing (e.g. repaidAmount at registration,
//     parentId of a root certificate).
//   - Each row has a scenario (who holds what before the call). scripts/bench/gas.ts
//     asserts that scenario on-chain before it sends the transaction, and cross-checks
//     the storage part of every floor against the net storage diff of the real transaction.
//
// Storage layouts read from the sources (32-byte slots, declaration order, solc packing):
//   ReceivableRegistry.Record (3 slots; what the contracts read, the rest is in ReceivableRegistered):
//     0 debtor(20)+status(1)+dueDate(5)+gracePeriod(4)+earlyPaymentRateBps(2)
//     | 1 faceValue(12)+repaidAmount(12)+rootCertificateId(8)
//     | 2 seller(20)+registeredAt(5)+leafCount(4)+root state(1)+dilution noted(1) (a credit note's consent and the dilution
//     rule read the seller; the certificate tree is the token's, kept here so that registration writes no
//     slot for it: IReceivableRegistry.CertificateTree)
//     (before the lean layout: 8 slots, 7 written at registration: seller | debtor | registrar+status+dueDate
//     | registeredAt+gracePeriod+rate | faceValue | repaidAmount | documentHash | rootCertificateId.)
//   CertificateToken (lean layout; the views still return ICertificateToken.Certificate):
//     _rootReceivables[rootId] = receivableId (a root's face value, due date and state, and its tree's
//     leaf count, are the registry record's) | Child, one slot per child: faceValue(16)+parentId(6)
//     +rootId(6)+tier(1)+state(1) | Config, one slot: market(20)+paused(1)+nextCertificateId(6)+maxTier(1)
//     +maxSplitParts(2). (Before: 4 slots a certificate, a leaf count and a counter of their own; then a
//     tree slot per receivable, until round 12 moved it into the registry record.)
//   FinancingMarket.Request (4 packed slots):
//     0 holder(20)+kind(1)+status(1)+attestedUntil(8)+advanceRateBps(2) | 1 financier(20)+certificateId(6)+dueDate(5)
//     | 2 price(16)+remaining claim at opening(16) | 3 repayAmount(16)+outstanding(16)
//   ERC-721 (OpenZeppelin 5): _owners[id], _balances[account] (and _tokenApprovals[id],
//     written to zero on every transfer and burn: not in the floor). A root has no _owners slot
//     until its first transfer: its seller, in the registry record, holds it while it is live or
//     locked (IReceivableRegistry.liveRootSellerOf).
//   No locker slot: the only locker is the wired market, so the Locked state is the lock (trust model).
//   ReceivableRegistry: no nonce storage. The debtor's nonce is signed, not stored: the digest
//     binds the receivable id, which the registry never accepts twice.
//   FinancingMarket: requestCount, _activeRequests[certificateId].
//   IPartyRegistry.Party (2 slots): 0 legalIdHash | 1 active(1) and the party's other flags;
//     PartyRegistry: _addressCount[legalIdHash].
//   SettlementEscrow: one slot per receivable (distributed, finalized leaves, any leaf paid in part);
//     _paidOut[id] only while a leaf is paid in part (a settled leaf's state is its "final" flag).
//   ERC-20 (OpenZeppelin 5): _balances[account].
//
// Design floor: what any design must write, whatever its data model. Same prices and the same
// 21,000 + calldata (of the real transaction) as today's floor. Assumptions, stated once:
//   - The registry needs one duplicate-proof slot per receivable (the anchor measured in
//     issue 12: one registry slot 44,410 single, 23,394 per item in a 500-batch); status, dates
//     and amounts can share it or ride in the certificate. Terms, parties, registrar and documents
//     live in events and calldata. No nonce slot: the receivable id is already duplicate-proof,
//     so a replayed confirmation is refused without one.
//   - The debtor's consent costs one ecrecover per receivable.
//   - A certificate is one slot: its owner packed with its data (face value 96 bits, state,
//     tier, receivable index). Certificates stay ERC-721, so a holder's balance is a slot
//     (0→1 new, 1→0 cleared). No id counter and no leaf count: ids derive from the parent.
//   - A financing request is one slot (price/repay amounts, kind, status packed; the holder is the
//     certificate's owner); a lock is a bit in the certificate's slot.
//   - Settlement keeps one bitmap word per receivable for the leaves paid out (settled leaves
//     share it) and pays each payee's ERC-20 balance; the escrow's balance is one update.
//   - Token movements are priced as in today's floor (payer update, payee new if it held none).
//
// Tighter layouts that would lower today's floors themselves (not applied, interface changes):
//   - SettlementEscrow's _finalized flag packed with _paidOut (e.g. uint248 + bool):
//     -22,100 per settled leaf.
//   - Request price and repayAmount as two uint128 in one slot: -22,100 per pledge request.

/** EVM prices used by the floors (gas). */
export const GAS = {
  txBase: 21_000,
  zeroByte: 4,
  nonZeroByte: 16,
  /** EIP-7623: minimum gas per calldata token for the whole transaction. */
  floorPerToken: 10,
  /** zero -> non-zero, cold. */
  newSlot: 22_100,
  /** non-zero -> different non-zero, cold. */
  updatedSlot: 5_000,
  /** non-zero -> zero, cold, after the EIP-3529 refund of 4,800. */
  clearedSlot: 200,
  ecrecover: 3_000,
} as const;

export type ComponentKind = "new" | "updated" | "cleared" | "precompile";

/** One named part of a floor: `count` x the price of `kind`. */
export interface FloorComponent {
  kind: ComponentKind;
  count: number;
  what: string;
}

export interface OperationFloor {
  /** Stable key, also used in the JSON output. */
  key: string;
  /** Row label in the table. */
  label: string;
  /** Who holds what before the call: asserted on-chain by the benchmark. */
  scenario: string;
  components: FloorComponent[];
  /** What any design must write for the same scenario (see "Design floor" in the header). */
  design: FloorComponent[];
  /** Report the row also per unit: per leaf (settlement, splits) or per item (batches). */
  per?: { count: number; unit: string };
}

const unitGas: Record<ComponentKind, number> = {
  new: GAS.newSlot,
  updated: GAS.updatedSlot,
  cleared: GAS.clearedSlot,
  precompile: GAS.ecrecover,
};

const n = (count: number, what: string): FloorComponent => ({ kind: "new", count, what });
const u = (count: number, what: string): FloorComponent => ({ kind: "updated", count, what });
const c = (count: number, what: string): FloorComponent => ({ kind: "cleared", count, what });

/** Split into `parts` children, `freshRecipients` of them to parties holding no certificate. */
function splitFloor(parts: number, holderKeepsAPart: boolean, freshRecipients: number): FloorComponent[] {
  return [
    // Child record: one packed slot each. The parent split here is a root, whose state sits in
    // its receivable's record at the registry beside the leaf count: one update for both.
    n(parts, "child record slots"),
    n(parts, "ERC-721 owners"),
    n(freshRecipients, "recipient ERC-721 balances 0→1"),
    u(1, "receivable record's tree (root state→Retired, leaf count)"),
    u(1, "config slot (id counter)"),
    // The parent is a root its seller still holds: it has no ERC-721 owner slot to clear.
    // A holder that keeps a part ends with the balance it started with: no net change.
    ...(holderKeepsAPart ? [] : [c(1, "holder ERC-721 balance 1→0")]),
  ].filter((component) => component.count > 0);
}

/** Registering `items` receivables in one call, each sold by a party holding no certificate. */
function registerFloor(items: number): FloorComponent[] {
  return [
    // The debtor's consent is a signature check the design cannot skip.
    { kind: "precompile", count: items, what: "ecrecover" },
    // Receivable: 3 slots, all written (repaidAmount starts at 0 beside faceValue and the root id;
    // the certificate tree's leaf count and root state beside the seller).
    n(items * 3, "receivable record slots (with the certificate tree)"),
    // Root certificate: its receivable id. No ERC-721 owner: the seller in the record holds it.
    n(items, "root receivable id"),
    n(items, "seller ERC-721 balance 0→1"),
    u(1, "config slot (id counter)"),
  ];
}

/** What any design writes to register `items` receivables for sellers holding no certificate. */
function registerDesign(items: number): FloorComponent[] {
  return [
    { kind: "precompile", count: items, what: "ecrecover" },
    n(items, "receivable duplicate-proof slot"),
    n(items, "certificate owner+data"),
    n(items, "seller ERC-721 balance 0→1"),
  ];
}

/** What any design writes to split into `parts` children, `freshRecipients` of them new holders. */
function splitDesign(parts: number, holderKeepsAPart: boolean, freshRecipients: number): FloorComponent[] {
  return [
    n(parts, "child owner+data"),
    n(freshRecipients, "recipient ERC-721 balances 0→1"),
    c(1, "parent owner+data (burn)"),
    ...(holderKeepsAPart ? [] : [c(1, "holder ERC-721 balance 1→0")]),
  ].filter((component) => component.count > 0);
}

/** What any design writes to settle `leaves` unpledged leaves, `freshPayees` of them new tUSD holders. */
function settleDesign(leaves: number, freshPayees: number): FloorComponent[] {
  return [
    n(1, "receivable paid-out bitmap word"),
    n(freshPayees, "tUSD payee balance 0→x"),
    u(1, "tUSD escrow balance"),
    u(leaves - freshPayees, "tUSD payee balance"),
    c(leaves, "certificate owner+data (burn)"),
    c(leaves, "holder ERC-721 balance 1→0"),
  ].filter((component) => component.count > 0);
}

/** Settling `leaves` unpledged leaves of one fully repaid receivable, the first leaves settled. */
function settleFloor(leaves: number, freshPayees: number): FloorComponent[] {
  return [
    // A leaf paid in full needs no slot of its own: its Settled state is the record.
    n(1, "escrow receivable slot (distributed, finalized leaves)"),
    n(freshPayees, "tUSD payee balance 0→x"),
    u(leaves, "certificate state→Settled"),
    u(1, "tUSD escrow balance"),
    u(leaves - freshPayees, "tUSD payee balance"),
    c(leaves, "ERC-721 owner (burn)"),
    c(leaves, "holder ERC-721 balance 1→0"),
  ].filter((component) => component.count > 0);
}

/**
 * Batch registration sizes measured. Osaka caps a transaction at 2^24 gas (EIP-7825): 100 fits
 * since a root needs no owner slot (about 15.1 million; it needed about 17.4 million before, and
 * 24 million with the first certificate token). The benchmark prints the largest batch that
 * fits, from the marginal cost per item.
 */
export const BATCH_SIZES = [1, 10, 50, 100] as const;

/** EIP-7825 (Osaka): the most gas one transaction may use. */
export const TX_GAS_CAP = 16_777_216;

/** The measured operations, in the order the benchmark runs them. */
export const FLOORS: OperationFloor[] = [
  {
    key: "registerParty",
    label: "onboard a party (registerParty)",
    scenario: "party manager registers a new address under a legal id that has none yet",
    components: [n(1, "party legal id hash"), n(1, "party flags (active, …)"), n(1, "legal id address count")],
    // A party is its legal id and its flags; the address count tells a first address of a company.
    design: [n(1, "party legal id hash"), n(1, "party flags (active, …)"), n(1, "legal id address count")],
  },
  {
    key: "registerAndIssueRoot",
    label: "register + issue root",
    scenario: "registrar registers a debtor-signed receivable; the seller holds no certificate yet",
    components: registerFloor(1),
    design: registerDesign(1),
  },
  {
    key: "split2",
    label: "split into 2",
    scenario: "seller splits the root it still holds: one part to a party holding no certificate, one part kept",
    components: splitFloor(2, true, 1),
    design: splitDesign(2, true, 1),
    per: { count: 2, unit: "child" },
  },
  {
    key: "split10",
    label: "split into 10",
    scenario:
      "seller splits the root it still holds (its only certificate) into 10 parts for 10 parties holding no certificate",
    components: splitFloor(10, false, 10),
    design: splitDesign(10, false, 10),
    per: { count: 10, unit: "child" },
  },
  {
    key: "transfer",
    label: "transfer (ERC-721 transferFrom)",
    scenario: "holder of one certificate sends it to a party holding none",
    components: [n(1, "recipient ERC-721 balance 0→1"), u(1, "ERC-721 owner"), c(1, "sender ERC-721 balance 1→0")],
    design: [n(1, "recipient ERC-721 balance 0→1"), u(1, "certificate owner+data"), c(1, "sender ERC-721 balance 1→0")],
  },
  {
    key: "openDiscount",
    label: "open financing request (discount)",
    scenario: "holder offers its certificate for sale; requestCount is already non-zero",
    components: [
      // Request: 4 packed slots; repayAmount+outstanding stay 0 for a discount offer.
      n(3, "request record slots"),
      n(1, "active request"),
      u(1, "request counter"),
      u(1, "certificate state→Locked"),
    ],
    design: [n(1, "request slot"), u(1, "certificate owner+data (lock bit)")],
  },
  {
    key: "fundDiscount",
    label: "fund (discount)",
    scenario: "financier holding tUSD but no certificate buys from a seller holding no tUSD",
    components: [
      n(1, "financier ERC-721 balance 0→1"),
      n(1, "tUSD seller balance 0→price"),
      u(1, "request status→Sold"),
      u(1, "request financier (beside the certificate id)"),
      u(1, "certificate state→Live"),
      u(1, "ERC-721 owner"),
      u(1, "tUSD financier balance"),
      c(1, "active request"),
      c(1, "seller ERC-721 balance 1→0"),
    ],
    design: [
      n(1, "financier ERC-721 balance 0→1"),
      n(1, "tUSD seller balance 0→price"),
      u(1, "certificate owner+data (new owner, unlocked)"),
      u(1, "tUSD financier balance"),
      c(1, "request slot (closed)"),
      c(1, "seller ERC-721 balance 1→0"),
    ],
  },
  {
    key: "openPledge",
    label: "open financing request (pledge)",
    scenario: "holder asks for a loan against its certificate",
    components: [
      // Request: 4 packed slots; financier and outstanding stay 0 until funded, beside non-zero fields.
      n(4, "request record slots"),
      n(1, "active request"),
      u(1, "request counter"),
      u(1, "certificate state→Locked"),
    ],
    design: [n(1, "request slot"), u(1, "certificate owner+data (lock bit)")],
  },
  {
    key: "fundPledge",
    label: "fund (pledge)",
    scenario: "financier holding tUSD lends to a holder holding no tUSD",
    components: [
      n(1, "tUSD borrower balance 0→price"),
      u(1, "request status→Pledged"),
      u(1, "request financier (beside the certificate id)"),
      u(1, "request outstanding (beside repayAmount)"),
      u(1, "tUSD financier balance"),
    ],
    design: [n(1, "pledgee slot"), n(1, "tUSD borrower balance 0→price"), u(1, "tUSD financier balance")],
  },
  {
    key: "repayFull",
    label: "repay (full)",
    scenario: "debtor pays the whole face value; the escrow already holds other receivables' money",
    components: [
      u(1, "receivable repaidAmount (beside faceValue)"),
      u(1, "receivable status→Repaid"),
      u(1, "tUSD debtor balance"),
      u(1, "tUSD escrow balance"),
    ],
    design: [u(1, "receivable slot (repaid, status)"), u(1, "tUSD debtor balance"), u(1, "tUSD escrow balance")],
  },
  {
    key: "settle1",
    label: "settle batch of 1 leaf",
    scenario: "first leaf of a repaid receivable, unpledged, held by a party already holding tUSD",
    components: settleFloor(1, 0),
    design: settleDesign(1, 0),
  },
  {
    key: "settle1Pledged",
    label: "settle batch of 1 pledged leaf",
    scenario: "second leaf of the receivable, pledged: pledgee paid first, the rest to the holder",
    components: [
      u(1, "escrow receivable slot (distributed, finalized leaves)"),
      u(1, "request status→Released"),
      u(1, "request outstanding→0 (beside repayAmount)"),
      u(1, "certificate state→Settled"),
      u(1, "tUSD escrow balance"),
      u(1, "tUSD pledgee balance"),
      u(1, "tUSD holder balance"),
      c(1, "active request"),
      c(1, "ERC-721 owner (burn)"),
      c(1, "holder ERC-721 balance 1→0"),
    ],
    design: [
      u(1, "receivable paid-out bitmap word"),
      u(1, "tUSD escrow balance"),
      u(1, "tUSD pledgee balance"),
      u(1, "tUSD holder balance"),
      c(1, "request slot (released)"),
      c(1, "certificate owner+data (burn)"),
      c(1, "holder ERC-721 balance 1→0"),
    ],
  },
  {
    key: "settle10",
    label: "settle batch of 10 leaves",
    scenario: "all 10 leaves of a repaid receivable, each held by a party holding no tUSD yet",
    components: settleFloor(10, 10),
    design: settleDesign(10, 10),
    per: { count: 10, unit: "leaf" },
  },
  ...BATCH_SIZES.map((items): OperationFloor => ({
    key: `registerBatch${items}`,
    label: `registerBatch of ${items}`,
    scenario: `registrar registers ${items} receivables of one debtor in one call, each for a seller holding no certificate`,
    components: registerFloor(items),
    design: registerDesign(items),
    per: { count: items, unit: "item" },
  })),
];

export interface CalldataCost {
  bytes: number;
  zeroBytes: number;
  tokens: number;
  /** 4 x zero bytes + 16 x non-zero bytes. */
  standard: number;
}

/** Calldata cost of hex `data` (EIP-2028 prices, EIP-7623 tokens). */
export function calldataCost(data: string): CalldataCost {
  const hex = data.startsWith("0x") ? data.slice(2) : data;
  let zeroBytes = 0;
  for (let i = 0; i < hex.length; i += 2) if (hex.slice(i, i + 2) === "00") zeroBytes++;
  const bytes = hex.length / 2;
  const nonZero = bytes - zeroBytes;
  return {
    bytes,
    zeroBytes,
    tokens: zeroBytes + 4 * nonZero,
    standard: zeroBytes * GAS.zeroByte + nonZero * GAS.nonZeroByte,
  };
}

export function componentGas(component: FloorComponent): number {
  return component.count * unitGas[component.kind];
}

/** Gas of the storage components only (new, updated, cleared slots). */
export function storageFloor(floor: OperationFloor): number {
  return floor.components.filter((x) => x.kind !== "precompile").reduce((sum, x) => sum + componentGas(x), 0);
}

/** Slot counts of a floor by kind, for the storage cross-check. */
export function slotCounts(floor: OperationFloor): { new: number; updated: number; cleared: number } {
  const count = (kind: ComponentKind) =>
    floor.components.filter((x) => x.kind === kind).reduce((sum, x) => sum + x.count, 0);
  return { new: count("new"), updated: count("updated"), cleared: count("cleared") };
}

export interface FloorTotal {
  total: number;
  execution: number;
  calldata: CalldataCost;
  /** Which calldata rule set the floor: the standard price or EIP-7623's minimum. */
  rule: "standard" | "EIP-7623";
}

/** The floor made of `components` for a transaction with data `data`. */
export function floorFor(components: FloorComponent[], data: string): FloorTotal {
  const calldata = calldataCost(data);
  const execution = components.reduce((sum, x) => sum + componentGas(x), 0);
  const standard = GAS.txBase + calldata.standard + execution;
  const eip7623 = GAS.txBase + GAS.floorPerToken * calldata.tokens;
  return eip7623 > standard
    ? { total: eip7623, execution, calldata, rule: "EIP-7623" }
    : { total: standard, execution, calldata, rule: "standard" };
}

/** One table cell: "21,000 + calldata 4,424 + ecrecover 3,000 + 14 new × 22,100 [nonce 1, …] + …". */
export function describeFloor(components: FloorComponent[], total: FloorTotal): string {
  const fmt = (x: number) => x.toLocaleString("en-US");
  const group = (kind: ComponentKind, label: string) => {
    const parts = components.filter((x) => x.kind === kind);
    if (parts.length === 0) return [];
    const count = parts.reduce((sum, x) => sum + x.count, 0);
    return [
      `${count} ${label} × ${fmt(unitGas[kind])} [${parts.map((x) => (x.count > 1 ? `${x.what} ×${x.count}` : x.what)).join(", ")}]`,
    ];
  };
  const calldata =
    total.rule === "EIP-7623"
      ? `EIP-7623 floor 10 × ${fmt(total.calldata.tokens)} tokens`
      : `calldata ${fmt(total.calldata.standard)}`;
  return [
    "21,000",
    calldata,
    ...components
      .filter((x) => x.kind === "precompile")
      .map((x) => `${x.count > 1 ? `${x.what} ×${x.count}` : x.what} ${fmt(componentGas(x))}`),
    ...group("new", "new"),
    ...group("updated", "upd"),
    ...group("cleared", "clr"),
  ].join(" + ");
}
