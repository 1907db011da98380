// The database's tables as Kysely types. Money is TEXT holding a decimal integer
// string (smallest units), never REAL. Tables named onchain_* and chain_events are the
// index of chain events: `reindex` empties and rebuilds them from the chain alone.
import type { Generated } from "kysely";
import type { IdempotencyState, PartyStatus, SubmissionStatus, TxJournalState } from "../model/row-statuses.js";

export interface MetaTable {
  key: string;
  value: string;
}

export interface PartyTable {
  id: string;
  name: string;
  registry_id: string;
  legal_id_hash: string;
  industry: string;
  industry_key?: string | null; // industryKey(industry), set when the party is created (migration 0028)
  roles: string; // JSON array of roles
  address: string; // checksummed
  custodial: number; // 1: the service holds the key (encrypted); 0: the party signs itself
  encrypted_key: string | null;
  api_key_hash: string;
  related_party_ids: string; // JSON array
  status: PartyStatus;
  created_at: string;
}

export interface ReceivableTable {
  id: string; // bytes32 receivable id (hash of legal ids and normalised invoice number)
  seller_id: string;
  debtor_id: string;
  invoice_number: string;
  invoice_number_normalized: string; // what the registry id hashes (canonical for rows since 0005)
  invoice_number_canonical: Generated<string>; // docs/document-identity.md
  po_number: string;
  po_number_canonical: Generated<string>;
  delivery_key: Generated<string>; // canonical carrier | canonical waybill
  currency: string;
  face_value: string;
  net_value: string; // invoiced value before tax: what counts against the purchase order
  due_date: number; // unix seconds
  document_hash: string;
  documents: string; // JSON of the submitted documents
  verification: string; // JSON verification report
  status: SubmissionStatus;
  confirmation: string | null; // JSON { nonce, deadline, signature } once signed
  closed: string | null; // JSON { by, at, reason } once declined or withdrawn
  created_at: string;
  updated_at: string;
  /** The instance id of the process confirming it (status "confirming"); null before 0005. */
  owner: Generated<string | null>;
}

export interface IdempotencyTable {
  party_id: string;
  key: string;
  method: string;
  path: string;
  request_hash: string;
  state: IdempotencyState;
  status_code: number | null;
  response: string | null;
  created_at: string;
  /** The instance id of the process running the attempt (store/cluster.ts); null before 0005. */
  owner: Generated<string | null>;
  /** When the key's first attempt began; created_at moves to each retry that takes the key over. */
  first_started_at: string | null;
}

export interface TxJournalTable {
  id: Generated<number>;
  kind: string; // register | split | transfer | registerParty | ...
  ref: string; // the receivable, certificate or party it is for
  signer: string;
  nonce: number;
  tx_hash: string | null;
  state: TxJournalState;
  error: string | null;
  created_at: string;
  updated_at: string;
}

export interface ChainEventTable {
  block_number: number;
  log_index: number;
  block_hash: string;
  tx_hash: string;
  contract: string;
  name: string;
  args: string; // JSON, bigints as decimal strings
  receivable_id: string | null; // args.receivableId, when the event names one
}

export interface OnchainReceivableTable {
  id: string;
  seller: string;
  debtor: string;
  registrar: string;
  face_value: string;
  repaid_amount: string;
  due_date: number;
  document_hash: string;
  root_certificate_id: string;
  status: string; // active | overdue | defaulted | repaid
  register_tx_hash: string;
  registered_block: number;
  distributed: Generated<string>; // paid out to holders and pledgees so far
  early_discount: Generated<string>; // given up by holders for an early discharge
  credited: Generated<string>; // credit notes applied (registry CreditRecorded): owed = face - credited
}

export interface OnchainCertificateTable {
  id: string; // decimal certificate id
  receivable_id: string;
  parent_id: string | null;
  holder: string;
  face_value: string;
  tier: number;
  state: string; // live | locked | retired | settled
  issued_tx_hash: string;
  issued_block: number;
  paid_out: Generated<string>; // cumulative settlement payout to this leaf
  reduction: Generated<string>; // credit notes' cut on this leaf (LeafDiluted): claim = face - reduction
}

export interface OnchainDisputeTable {
  id: string; // "<block>:<log index>" of DisputeOpened: the same after a reindex
  receivable_id: string;
  dispute_number: number; // the ledger's number of the dispute on its receivable (1, 2, 3, …): a dismissal names it
  debtor: string;
  reason_code: string;
  document_hash: string;
  status: string; // open | resolved | withdrawn | dismissed
  credit_note_id: string | null; // the note that resolved it
  opened_tx_hash: string;
  opened_block: number;
  closed_tx_hash: string | null;
}

export interface OnchainCreditNoteTable {
  id: string; // decimal credit note id
  receivable_id: string;
  amount: string;
  reason_code: string;
  document_hash: string;
  seller_respond_by: number;
  status: string; // proposed | applying | applied | rejected | withdrawn
  approved_by: string | null; // seller | arbiter
  retained_reduction: string | null;
  shared_reduction: string | null;
  proposed_tx_hash: string;
  proposed_block: number;
  closed_tx_hash: string | null;
}

/** The operator's recommendation on a credit note the seller did not answer, and its timelock proposal. */
/** The operator's recommendation to the arbiter and the timelock operation it answered. */
export interface TimelockRecommendationColumns {
  receivable_id: string;
  reason: string;
  recommended_by: string; // the operator party's id
  recommended_at: string;
  timelock: string; // the TierlineTimelock the governor schedules on
  target: string;
  value: string;
  data: string;
  predecessor: string;
  salt: string;
  delay: string; // seconds
  operation_id: string;
}

export interface CreditNoteArbitrationTable extends TimelockRecommendationColumns {
  credit_note_id: string;
  decision: string; // approve | reject
}

/** The operator's recommendation that the arbiter dismiss a dispute (issue 16). */
export interface DisputeDismissalTable extends TimelockRecommendationColumns {
  dispute_id: string; // onchain_disputes.id: "<block>:<log index>" of its DisputeOpened
}

export interface OnchainLeafReductionTable {
  credit_note_id: string;
  certificate_id: string;
  receivable_id: string;
  holder: string; // who bore the cut
  reduction: string;
  claim: string; // the leaf's claim after this note
  retained: number; // 1 when it was the seller's retained piece
  tx_hash: string;
}

export interface OnchainRecourseEndorsementTable {
  certificate_id: string;
  endorsement_index: number;
  endorser: string;
  tx_hash: string;
  block_number: number;
}

/** One `PledgeCollateralShortfall` event (issue 16): a pledged leaf's claim fell below the pledge. */
export interface OnchainPledgeShortfallTable {
  block_number: number;
  log_index: number;
  certificate_id: string;
  request_id: string;
  pledgee: string;
  outstanding: string; // what the pledgee was owed then
  claim: string; // the leaf's claim after the cut
  tx_hash: string;
}

export interface OnchainRecourseClaimTable {
  id: string; // decimal claim id
  leaf_id: string;
  receivable_id: string | null;
  kind: string; // dilution | default
  status: string; // open | paid
  creditor: string;
  guarantor: string;
  guarantor_certificate_id: string;
  endorsement_index: number;
  amount: string;
  parent_claim_id: string | null;
  opened_tx_hash: string;
  opened_block: number;
  paid_tx_hash: string | null;
  paid_by: string | null;
}

export interface OnchainFinancingRequestTable {
  id: string;
  certificate_id: string;
  holder: string;
  kind: string; // discount | pledge
  price: string;
  repay_amount: string;
  outstanding: string;
  status: string; // open | cancelled | sold | pledged | released | foreclosed
  financier: string | null;
  shortfall: string | null;
  opened_tx_hash: string;
  opened_block: number;
  funded_tx_hash: string | null;
  /** Unix time until which the service's risk attestation holds (null: unattested). */
  attested_until: number | null;
  /** The advance rate the attestation allowed, bps of face (null: unattested). */
  advance_rate_bps: number | null;
}

export interface OnchainPartyTable {
  address: string;
  legal_id_hash: string;
  active: number;
  /** The address (or the timelock) that let this alias join its legal id; null for a first address. */
  alias_approved_by: string | null;
  /** 1 if the party may receive certificates (PartyHoldingChanged), 0 if not (an auditor). */
  may_hold: number | null;
}

export interface RiskScoreTable {
  party_id: string;
  score: number; // 0..1000
  band: string; // A..F
  factors: string; // JSON: every factor with its inputs, formula and contribution
  overdue_share_bps: number;
  computed_at: string;
  reason: string; // what triggered the computation: event | read | limit-check | periodic | ...
}

export interface RiskScoreHistoryTable {
  id: Generated<number>;
  party_id: string;
  score: number;
  band: string;
  overdue_share_bps: number;
  computed_at: string;
  reason: string;
}

export interface RiskAlertTable {
  id: Generated<number>;
  party_id: string;
  kind: string; // SCORE_BELOW_THRESHOLD | OVERDUE_SHARE_ROSE
  message: string;
  details: string; // JSON
  created_at: string;
}

export interface IndustryRiskTable {
  industry: string; // lower-case, trimmed
  index_value: number; // 0..1000, set by the operator
  threshold: number; // 0..1000: above it, limits, tenors and advance rates are cut
  updated_by: string;
  updated_at: string;
}

export interface CreditLimitTable {
  party_id: string;
  kind: string; // debtor | supplier
  limit_amount: string; // base limit, minor units
  source: string; // operator
  updated_by: string;
  updated_at: string;
}

export interface RiskRepaymentTimeTable {
  receivable_id: string;
  repaid_at: number; // chain time (unix seconds) of the block that marked it Repaid
  block_number: number;
  block_hash: string;
}

/** Which of a party's receivables changed what its risk history reads (SQLite triggers; migration 0019). */
export interface PartyHistoryChangesTable {
  seq: Generated<number>;
  party_id: string;
  receivable_id: string;
  /** PostgreSQL: the id of the transaction that made the change (migration 0023); SQLite: absent. */
  xid?: Generated<string | null>;
}

/** What a party still owes as debtor, or has sold that is still owed, kept by triggers (store/party-owed-triggers.ts). */
export interface PartyOwedTable {
  address: string;
  side: "debtor" | "seller";
  owed: string | number | bigint; // SQLite integer (or a real once past 64 bits), PostgreSQL numeric: read it cast to text
  wide: number; // SQLite: rows with an amount past 18 digits, not in `owed`
}

/** Sums that count against a party's limits, per kind, kept by triggers (store/party-financed-triggers.ts, party-tiers-triggers.ts, party-shortfall-triggers.ts). */
export type PartySumKind =
  "financing_open" | "financing_pledged" | "financing_sold" | "through_tiers" | "pledge_shortfall";
export interface PartySumTable {
  address: string;
  kind: PartySumKind;
  amount: string | number | bigint; // as party_owed.owed: read it cast to text
  wide: number; // SQLite: requests with an amount past 18 digits, not in `amount`
}

/** What a debtor still owes per due date (kept by triggers: store/party-owes-by-due-triggers.ts). */
export interface PartyOwesByDueTable {
  address: string;
  due_date: number;
  amount: string | number | bigint; // as party_owed.owed: read it cast to text
  count: number; // receivables owing something, wide ones aside
  wide: number; // SQLite: receivables with an amount past 18 digits, not in `amount` or `count`
}

/** Transactions in the journal per kind and state (kept by triggers: store/tx-journal-count-triggers.ts). */
export interface TxJournalCountTable {
  kind: string;
  state: string;
  count: number;
}

/** Per receivable with live or locked leaves: how many, and whether it is repaid (kept by triggers: store/open-leaves-triggers.ts). */
export interface ReceivableOpenLeavesTable {
  receivable_id: string;
  open_leaves: number;
  repaid: number; // 1 when the receivable is repaid: its leaves are the keeper's to close
}

/** One party naming another as related (parties.related_party_ids as rows, kept by triggers: store/party-relations-triggers.ts). */
export interface PartyRelationTable {
  party_id: string;
  related_id: string;
}

export interface RiskStateTable {
  key: string;
  value: string;
}

export interface ReceivableAttemptTable {
  attempt_id: Generated<number>;
  receivable_id: string;
  status: SubmissionStatus; // rejected | declined | withdrawn
  row: string; // JSON of the receivables row as it was closed
  archived_at: string;
}

export interface LimitReservationTable {
  id: Generated<number>;
  party_id: string;
  kind: string; // financing
  ref: string; // the certificate being financed
  amount: string;
  expires_at: string;
}

export interface RateLimitTable {
  key: string; // the client (express-rate-limit's key)
  hits: number; // requests in the current window
  reset_at: number; // unix milliseconds the window ends
}

export interface WebhookEndpointTable {
  id: string;
  party_id: string;
  url: string;
  description: string;
  event_types: string | null; // JSON array; null: every type
  secret: string; // encrypted by the key vault
  status: string; // active | deleted
  created_at: string;
  deleted_at: string | null;
}

export interface WebhookOutboxTable {
  seq: Generated<number>;
  id: string; // the webhook-id
  type: string;
  payload: string; // JSON { type, timestamp, data }
  party_ids: string; // JSON array of the parties it concerns
  fanned_out: number; // 0 until a delivery row exists for every endpoint that wants it
  created_at: string;
}

export interface WebhookDeliveryTable {
  id: Generated<number>;
  event_id: string;
  endpoint_id: string;
  state: string; // pending | delivered | failed
  attempts: number;
  next_attempt_at: number; // unix ms
  last_status: number | null;
  last_error: string | null;
  delivered_at: string | null;
  created_at: string;
}

export interface WebhookAttemptTable {
  id: Generated<number>;
  delivery_id: number;
  attempt: number;
  at: string;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}

export interface Database {
  meta: MetaTable;
  parties: PartyTable;
  receivables: ReceivableTable;
  idempotency: IdempotencyTable;
  tx_journal: TxJournalTable;
  chain_events: ChainEventTable;
  onchain_receivables: OnchainReceivableTable;
  onchain_certificates: OnchainCertificateTable;
  onchain_parties: OnchainPartyTable;
  onchain_financing_requests: OnchainFinancingRequestTable;
  onchain_disputes: OnchainDisputeTable;
  onchain_credit_notes: OnchainCreditNoteTable;
  onchain_leaf_reductions: OnchainLeafReductionTable;
  credit_note_arbitrations: CreditNoteArbitrationTable;
  dispute_dismissals: DisputeDismissalTable;
  onchain_recourse_endorsements: OnchainRecourseEndorsementTable;
  onchain_recourse_claims: OnchainRecourseClaimTable;
  onchain_pledge_shortfalls: OnchainPledgeShortfallTable;
  risk_scores: RiskScoreTable;
  risk_score_history: RiskScoreHistoryTable;
  risk_alerts: RiskAlertTable;
  industry_risk: IndustryRiskTable;
  credit_limits: CreditLimitTable;
  risk_repayment_times: RiskRepaymentTimeTable;
  party_history_changes: PartyHistoryChangesTable;
  party_owed: PartyOwedTable;
  party_sums: PartySumTable;
  party_owes_by_due: PartyOwesByDueTable;
  party_relations: PartyRelationTable;
  tx_journal_counts: TxJournalCountTable;
  receivable_open_leaves: ReceivableOpenLeavesTable;
  risk_state: RiskStateTable;
  receivable_attempts: ReceivableAttemptTable;
  limit_reservations: LimitReservationTable;
  rate_limits: RateLimitTable;
  webhook_endpoints: WebhookEndpointTable;
  webhook_outbox: WebhookOutboxTable;
  webhook_deliveries: WebhookDeliveryTable;
  webhook_attempts: WebhookAttemptTable;
}

/** The index tables, emptied and rebuilt by a reindex. */
export const INDEX_TABLES = [
  "chain_events",
  "onchain_receivables",
  "onchain_certificates",
  "onchain_parties",
  "onchain_financing_requests",
  "onchain_disputes",
  "onchain_credit_notes",
  "onchain_leaf_reductions",
  "onchain_recourse_endorsements",
  "onchain_recourse_claims",
  "onchain_pledge_shortfalls",
] as const;
