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
      return; // journaled in chain_events only
  }
}
