// The contracts' enums, in one place: each Solidity enum as its names in declaration order
// (the index is the on-chain value), the names' type, and the on-chain value of each name.
// Projections, the keeper, repayments, the auditor's verify, the CLIs and the tests all read
// these instead of their own copies; a reordered enum is then one edit here.

/** IReceivableRegistry.ReceivableStatus */
export const RECEIVABLE_STATUSES = ["none", "active", "overdue", "defaulted", "repaid"] as const;
export type ReceivableStatus = (typeof RECEIVABLE_STATUSES)[number];

/** ICertificateToken.CertificateState */
export const CERTIFICATE_STATES = ["none", "live", "locked", "retired", "settled"] as const;
export type CertificateState = (typeof CERTIFICATE_STATES)[number];

/** IFinancingMarket.RequestStatus */
export const REQUEST_STATUSES = ["none", "open", "cancelled", "sold", "pledged", "released", "foreclosed"] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

/** IFinancingMarket.FinancingKind */
export const FINANCING_KINDS = ["discount", "pledge"] as const;
export type FinancingKind = (typeof FINANCING_KINDS)[number];

type EnumValues<Names extends readonly string[]> = { readonly [K in Names[number]]: bigint };

function valuesOf<const Names extends readonly string[]>(names: Names): EnumValues<Names> {
  return Object.fromEntries(names.map((name, index) => [name, BigInt(index)])) as EnumValues<Names>;
}

/** On-chain values by name, e.g. `ReceivableStatus.defaulted === 3n`. */
export const ReceivableStatus = valuesOf(RECEIVABLE_STATUSES);
export const CertificateState = valuesOf(CERTIFICATE_STATES);
export const RequestStatus = valuesOf(REQUEST_STATUSES);
export const FinancingKind = valuesOf(FINANCING_KINDS);

function nameOf<const Names extends readonly string[]>(names: Names, value: bigint | number): Names[number] {
  const name = names[Number(value)];
  if (name === undefined) throw new RangeError(`no enum value ${value} in [${names.join(", ")}]`);
  return name;
}

export const receivableStatusName = (value: bigint | number): ReceivableStatus => nameOf(RECEIVABLE_STATUSES, value);
export const certificateStateName = (value: bigint | number): CertificateState => nameOf(CERTIFICATE_STATES, value);
export const requestStatusName = (value: bigint | number): RequestStatus => nameOf(REQUEST_STATUSES, value);
export const financingKindName = (value: bigint | number): FinancingKind => nameOf(FINANCING_KINDS, value);

/** IDilutionLedger.CreditNoteStatus (issue 16) */
export const CREDIT_NOTE_STATUSES = ["none", "proposed", "applied", "rejected", "withdrawn", "applying"] as const;
export type CreditNoteStatus = (typeof CREDIT_NOTE_STATUSES)[number];
export const CreditNoteStatus = valuesOf(CREDIT_NOTE_STATUSES);

/** IRecourseLedger.RecourseKind and ClaimStatus (issue 16) */
export const RECOURSE_KINDS = ["dilution", "default"] as const;
export type RecourseKind = (typeof RECOURSE_KINDS)[number];
export const RecourseKind = valuesOf(RECOURSE_KINDS);
export const RECOURSE_CLAIM_STATUSES = ["none", "open", "paid"] as const;
export type RecourseClaimStatus = (typeof RECOURSE_CLAIM_STATUSES)[number];
export const RecourseClaimStatus = valuesOf(RECOURSE_CLAIM_STATUSES);
