// How each contract event changes the index tables. Pure functions of (tables, event):
// replaying the same events in order always gives the same index.
import { getAddress } from "ethers";
import type { Transaction } from "kysely";
import type { Database } from "../store/schema.js";
import { RECEIVABLE_STATUSES } from "../model/contract-enums.js";

export interface IndexedEvent {
  blockNumber: number;
  logIndex: number;
  blockHash: string;
  txHash: string;
  contract: string;
  name: string;
  args: Record<string, unknown>;
}

const ZERO = "0x0000000000000000000000000000000000000000";
const FINANCING_KIND = ["discount", "pledge"] as const;
/** IDilutionLedger.CreditNoteApproval */
const APPROVED_BY = ["seller", "arbiter"] as const;
/** IRecourseLedger.RecourseKind */
const RECOURSE_KIND = ["dilution", "default"] as const;

async function addDistributed(trx: Transaction<Database>, receivableId: string, amount: bigint): Promise<void> {
  const row = await trx
    .selectFrom("onchain_receivables")
    .select("distributed")
    .where("id", "=", receivableId)
    .executeTakeFirst();
  if (!row) return;
  await trx
    .updateTable("onchain_receivables")
    .set({ distributed: (BigInt(row.distributed) + amount).toString() })
    .where("id", "=", receivableId)
    .execute();
}

export async function applyEvent(trx: Transaction<Database>, event: IndexedEvent): Promise<void> {
  const a = event.args as Record<string, string>;
  switch (`${event.contract}.${event.name}`) {
    case "parties.PartyRegistered":
      await trx
        .insertInto("onchain_parties")
        .values({ address: getAddress(a.account!), legal_id_hash: a.legalIdHash!, active: 1 })
        .onConflict((oc) => oc.column("address").doUpdateSet({ legal_id_hash: a.legalIdHash! }))
        .execute();
      return;
    case "parties.PartyAliasAdded":
      // Emitted after PartyRegistered in the same transaction: the row is there.
      await trx
        .updateTable("onchain_parties")
        .set({ alias_approved_by: getAddress(a.approvedBy!) })
        .where("address", "=", getAddress(a.account!))
        .execute();
      return;
    case "parties.PartyStatusChanged":
      await trx
        .updateTable("onchain_parties")
        .set({ active: String(a.active) === "true" ? 1 : 0 })
        .where("address", "=", getAddress(a.account!))
        .execute();
      return;
    case "parties.PartyHoldingChanged":
      // Emitted at every registration (after PartyRegistered) and at every setPartyMayHold.
      await trx
        .updateTable("onchain_parties")
        .set({ may_hold: String(a.mayHold) === "true" ? 1 : 0 })
        .where("address", "=", getAddress(a.account!))
        .execute();
      return;
    case "registry.ReceivableRegistered":
      await trx
        .insertInto("onchain_receivables")
        .values({
          id: a.receivableId!,
          seller: getAddress(a.seller!),
          debtor: getAddress(a.debtor!),
          registrar: getAddress(a.registrar!),
          face_value: a.faceValue!,
          repaid_amount: "0",
          due_date: Number(a.dueDate),
          document_hash: a.documentHash!,
          root_certificate_id: a.rootCertificateId!,
          status: "active",
          register_tx_hash: event.txHash,
          registered_block: event.blockNumber,
        })
        .onConflict((oc) => oc.doNothing())
        .execute();
      return;
    case "registry.RepaymentRecorded":
      await trx
        .updateTable("onchain_receivables")
        .set({ repaid_amount: a.repaidAmount! })
        .where("id", "=", a.receivableId!)
        .execute();
      return;
    case "registry.ReceivableStatusChanged":
      await trx
        .updateTable("onchain_receivables")
        .set({ status: RECEIVABLE_STATUSES[Number(a.status)] ?? "unknown" })
        .where("id", "=", a.receivableId!)
        .execute();
      return;
    case "certificates.CertificateIssued":
      await trx
        .insertInto("onchain_certificates")
        .values({
          id: a.certificateId!,
          receivable_id: a.receivableId!,
          parent_id: a.parentId === "0" ? null : a.parentId!,
          holder: getAddress(a.holder!),
          face_value: a.faceValue!,
          tier: Number(a.tier),
          state: "live",
          issued_tx_hash: event.txHash,
          issued_block: event.blockNumber,
        })
        .onConflict((oc) => oc.doNothing())
        .execute();
      return;
    case "certificates.Transfer":
      if (a.from !== ZERO && a.to !== ZERO) {
        await trx
          .updateTable("onchain_certificates")
          .set({ holder: getAddress(a.to!) })
          .where("id", "=", a.tokenId!)
          .execute();
      }
      return;
    case "certificates.CertificateSplit":
      await trx.updateTable("onchain_certificates").set({ state: "retired" }).where("id", "=", a.parentId!).execute();
      return;
    case "certificates.CertificateLockPlaced":
      await trx
        .updateTable("onchain_certificates")
        .set({ state: "locked" })
        .where("id", "=", a.certificateId!)
        .execute();
      return;
    case "certificates.CertificateLockLifted":
      await trx
        .updateTable("onchain_certificates")
        .set({ state: "live" })
        .where("id", "=", a.certificateId!)
        .where("state", "=", "locked")
        .execute();
      return;
    case "certificates.CertificateSettled":
      await trx
        .updateTable("onchain_certificates")
        .set({ state: "settled" })
        .where("id", "=", a.certificateId!)
        .execute();
      return;
    case "registry.ReceivableDischargedEarly":
      await trx
        .updateTable("onchain_receivables")
        .set({ early_discount: a.discount! })
        .where("id", "=", a.receivableId!)
        .execute();
      return;
    case "financing.FinancingRequested":
      await trx
        .insertInto("onchain_financing_requests")
        .values({
          id: a.requestId!,
          certificate_id: a.certificateId!,
          holder: getAddress(a.holder!),
          kind: FINANCING_KIND[Number(a.kind)] ?? "unknown",
          price: a.price!,
          repay_amount: a.repayAmount!,
          outstanding: "0",
          status: "open",
          financier: null,
          shortfall: null,
          opened_tx_hash: event.txHash,
          opened_block: event.blockNumber,
          funded_tx_hash: null,
          attested_until: null,
          advance_rate_bps: null,
        })
        .onConflict((oc) => oc.doNothing())
        .execute();
      return;
    case "financing.FinancingAttested":
      await trx
        .updateTable("onchain_financing_requests")
        .set({ attested_until: Number(a.expiry!), advance_rate_bps: Number(a.advanceRateBps!) })
        .where("id", "=", a.requestId!)
        .execute();
      return;
    case "financing.FinancingCancelled":
      await trx
        .updateTable("onchain_financing_requests")
        .set({ status: "cancelled" })
        .where("id", "=", a.requestId!)
        .execute();
      return;
    case "financing.FinancingFunded": {
      const pledge = Number(a.kind) === 1;
      const request = await trx
        .selectFrom("onchain_financing_requests")
        .select("repay_amount")
        .where("id", "=", a.requestId!)
        .executeTakeFirst();
      await trx
        .updateTable("onchain_financing_requests")
        .set({
          status: pledge ? "pledged" : "sold",
          financier: getAddress(a.financier!),
          funded_tx_hash: event.txHash,
          outstanding: pledge ? (request?.repay_amount ?? "0") : "0",
        })
        .where("id", "=", a.requestId!)
        .execute();
      return;
    }
    case "financing.PledgeRepaid":
      await trx
        .updateTable("onchain_financing_requests")
        .set({ outstanding: a.outstanding! })
        .where("id", "=", a.requestId!)
        .execute();
      return;
    case "financing.PledgeReleased":
      await trx
        .updateTable("onchain_financing_requests")
        .set({ status: "released", outstanding: "0", shortfall: a.shortfall! })
        .where("id", "=", a.requestId!)
        .execute();
      return;
    case "financing.PledgeForeclosed":
      await trx
        .updateTable("onchain_financing_requests")
        .set({ status: "foreclosed" })
        .where("id", "=", a.requestId!)
        .execute();
      return;
    case "escrow.LeafSettled": {
      await trx
        .updateTable("onchain_certificates")
        .set({ paid_out: a.paidOut! })
        .where("id", "=", a.certificateId!)
        .execute();
      await addDistributed(trx, a.receivableId!, BigInt(a.toHolder!) + BigInt(a.toPledgee!));
      return;
    }
    case "escrow.DustSwept":
      await addDistributed(trx, a.receivableId!, BigInt(a.amount!));
      return;
    default:
      await applyDilutionOrRecourse(trx, event);
      return;
  }
}

/** Closes the open dispute on a receivable (at most one is open at a time, on-chain). */
async function closeDispute(
  trx: Transaction<Database>,
  receivableId: string,
  status: "resolved" | "withdrawn" | "dismissed",
  txHash: string,
  creditNoteId: string | null = null,
): Promise<void> {
  await trx
    .updateTable("onchain_disputes")
    .set({ status, closed_tx_hash: txHash, credit_note_id: creditNoteId })
    .where("receivable_id", "=", receivableId)
    .where("status", "=", "open")
    .execute();
}

/** Issue 16: disputes, credit notes, each leaf's cut, the registry's credit, recourse. */
async function applyDilutionOrRecourse(trx: Transaction<Database>, event: IndexedEvent): Promise<void> {
  const a = event.args as Record<string, string>;
  switch (`${event.contract}.${event.name}`) {
    case "registry.CreditRecorded":
      // `credited` is the running total after this note: owed = face - credited.
      await trx
        .updateTable("onchain_receivables")
        .set({ credited: a.credited! })
        .where("id", "=", a.receivableId!)
        .execute();
      return;
    case "dilution.DisputeOpened":
      await trx
        .insertInto("onchain_disputes")
        .values({
          id: `${event.blockNumber}:${event.logIndex}`,
          receivable_id: a.receivableId!,
          dispute_number: Number(a.disputeNumber),
          debtor: getAddress(a.debtor!),
          reason_code: a.reasonCode!,
          document_hash: a.documentHash!,
          status: "open",
          credit_note_id: null,
          opened_tx_hash: event.txHash,
          opened_block: event.blockNumber,
          closed_tx_hash: null,
        })
        .onConflict((oc) => oc.doNothing())
        .execute();
      return;
    case "dilution.DisputeResolved":
      await closeDispute(trx, a.receivableId!, "resolved", event.txHash, a.creditNoteId!);
      return;
    case "dilution.DisputeWithdrawn":
      await closeDispute(trx, a.receivableId!, "withdrawn", event.txHash);
      return;
    case "dilution.DisputeDismissed":
      await closeDispute(trx, a.receivableId!, "dismissed", event.txHash);
      return;
    case "dilution.CreditNoteProposed":
      await trx
        .insertInto("onchain_credit_notes")
        .values({
          id: a.creditNoteId!,
          receivable_id: a.receivableId!,
          amount: a.amount!,
          reason_code: a.reasonCode!,
          document_hash: a.documentHash!,
          seller_respond_by: Number(a.sellerRespondBy),
          status: "proposed",
          approved_by: null,
          retained_reduction: null,
          shared_reduction: null,
          proposed_tx_hash: event.txHash,
          proposed_block: event.blockNumber,
          closed_tx_hash: null,
        })
        .onConflict((oc) => oc.doNothing())
        .execute();
      return;
    case "dilution.CreditNoteWithdrawn":
    case "dilution.CreditNoteRejected":
      await trx
        .updateTable("onchain_credit_notes")
        .set({ status: event.name === "CreditNoteWithdrawn" ? "withdrawn" : "rejected", closed_tx_hash: event.txHash })
        .where("id", "=", a.creditNoteId!)
        .execute();
      return;
    case "dilution.CreditNoteApplying":
      // A note over a tree wider than MAX_DILUTION_LEAVES: approved, the credit recorded, the cuts
      // to follow in passes (the keeper drives them); CreditNoteApplied ends it as usual.
      await trx
        .updateTable("onchain_credit_notes")
        .set({ status: "applying", approved_by: APPROVED_BY[Number(a.approvedBy)] ?? "unknown" })
        .where("id", "=", a.creditNoteId!)
        .execute();
      return;
    case "dilution.CreditNoteApplied":
      await trx
        .updateTable("onchain_credit_notes")
        .set({
          status: "applied",
          approved_by: APPROVED_BY[Number(a.approvedBy)] ?? "unknown",
          retained_reduction: a.retainedReduction!,
          shared_reduction: a.sharedReduction!,
          closed_tx_hash: event.txHash,
        })
        .where("id", "=", a.creditNoteId!)
        .execute();
      return;
    case "dilution.LeafDiluted": {
      await trx
        .insertInto("onchain_leaf_reductions")
        .values({
          credit_note_id: a.creditNoteId!,
          certificate_id: a.certificateId!,
          receivable_id: a.receivableId!,
          holder: getAddress(a.holder!),
          reduction: a.reduction!,
          claim: a.claim!,
          retained: String(a.retained) === "true" ? 1 : 0,
          tx_hash: event.txHash,
        })
        .onConflict((oc) => oc.doNothing())
        .execute();
      const leaf = await trx
        .selectFrom("onchain_certificates")
        .select(["face_value"])
        .where("id", "=", a.certificateId!)
        .executeTakeFirst();
      // The event carries the leaf's claim after the cut: its total reduction is face - claim.
      if (leaf)
        await trx
          .updateTable("onchain_certificates")
          .set({ reduction: (BigInt(leaf.face_value) - BigInt(a.claim!)).toString() })
          .where("id", "=", a.certificateId!)
          .execute();
      return;
    }
    case "dilution.PledgeCollateralShortfall":
      await trx
        .insertInto("onchain_pledge_shortfalls")
        .values({
          block_number: event.blockNumber,
          log_index: event.logIndex,
          certificate_id: a.certificateId!,
          request_id: a.requestId!,
          pledgee: getAddress(a.pledgee!),
          outstanding: a.outstanding!,
          claim: a.claim!,
          tx_hash: event.txHash,
        })
        .onConflict((oc) => oc.doNothing())
        .execute();
      return;
    case "recourse.RecourseGranted":
      await trx
        .insertInto("onchain_recourse_endorsements")
        .values({
          certificate_id: a.certificateId!,
          endorsement_index: Number(a.endorsementIndex),
          endorser: getAddress(a.endorser!),
          tx_hash: event.txHash,
          block_number: event.blockNumber,
        })
        .onConflict((oc) => oc.doNothing())
        .execute();
      return;
    case "recourse.RecourseClaimOpened": {
      const leaf = await trx
        .selectFrom("onchain_certificates")
        .select("receivable_id")
        .where("id", "=", a.leafId!)
        .executeTakeFirst();
      await trx
        .insertInto("onchain_recourse_claims")
        .values({
          id: a.claimId!,
          leaf_id: a.leafId!,
          receivable_id: leaf?.receivable_id ?? null,
          kind: RECOURSE_KIND[Number(a.kind)] ?? "unknown",
          status: "open",
          creditor: getAddress(a.creditor!),
          guarantor: getAddress(a.guarantor!),
          guarantor_certificate_id: a.guarantorCertificateId!,
          endorsement_index: Number(a.endorsementIndex),
          amount: a.amount!,
          parent_claim_id: a.parentClaimId === "0" ? null : a.parentClaimId!,
          opened_tx_hash: event.txHash,
          opened_block: event.blockNumber,
          paid_tx_hash: null,
          paid_by: null,
        })
        .onConflict((oc) => oc.doNothing())
        .execute();
      return;
    }
    case "recourse.RecourseClaimPaid":
      await trx
        .updateTable("onchain_recourse_claims")
        // A default claim pays at most what its leaf is still owed: the amount paid, not opened.
        .set({ status: "paid", amount: a.amount!, paid_tx_hash: event.txHash, paid_by: getAddress(a.payer!) })
        .where("id", "=", a.claimId!)
        .execute();
      return;
    default:
      return; // journaled in chain_events only
  }
}
