// Which webhook event a chain event is, and whom it concerns. Called by the indexer inside
// its projection transaction, after the event was applied, so the outbox row commits (or
// not) with the index it describes. The id derives from the log's position and block hash:
// a chain event replayed (restart, reindex) maps to the same id and is written once.
import { createHash } from "node:crypto";
import { decodeBytes32String, getAddress } from "ethers";
import type { Transaction } from "kysely";
import type { Database } from "../store/schema.js";
import { enqueueWebhookEvent, partyIdsOfAddresses } from "../store/webhook-outbox.js";
import type { WebhookEventType } from "../model/webhook-events.js";
import { RECEIVABLE_STATUSES } from "../model/contract-enums.js";
import type { IndexedEvent } from "./projections.js";

const ZERO = "0x0000000000000000000000000000000000000000";

export const chainEventId = (event: IndexedEvent): string =>
  `evt_${createHash("sha256").update(`${event.blockHash}:${event.logIndex}`).digest("hex").slice(0, 32)}`;

async function receivableParties(trx: Transaction<Database>, receivableId: string): Promise<string[]> {
  const receivable = await trx
    .selectFrom("onchain_receivables")
    .select(["seller", "debtor"])
    .where("id", "=", receivableId)
    .executeTakeFirst();
  const holders = await trx
    .selectFrom("onchain_certificates")
    .select("holder")
    .where("receivable_id", "=", receivableId)
    .where("state", "in", ["live", "locked"])
    .execute();
  return partyIdsOfAddresses(trx, [receivable?.seller, receivable?.debtor, ...holders.map((h) => h.holder)]);
}

async function certificateHolder(trx: Transaction<Database>, certificateId: string): Promise<string | undefined> {
  const row = await trx
    .selectFrom("onchain_certificates")
    .select("holder")
    .where("id", "=", certificateId)
    .executeTakeFirst();
  return row?.holder;
}

async function financingParties(trx: Transaction<Database>, requestId: string): Promise<string[]> {
  const row = await trx
    .selectFrom("onchain_financing_requests")
    .select(["holder", "financier"])
    .where("id", "=", requestId)
    .executeTakeFirst();
  return partyIdsOfAddresses(trx, [row?.holder, row?.financier]);
}

/** The webhook event of one applied chain event, if it is one integrators are told about. */
async function describe(
  trx: Transaction<Database>,
  event: IndexedEvent,
): Promise<{ type: WebhookEventType; data: Record<string, unknown>; partyIds: string[] } | undefined> {
  const a = event.args as Record<string, string>;
  switch (`${event.contract}.${event.name}`) {
    case "registry.ReceivableRegistered":
      return {
        type: "receivable.registered",
        data: {
          receivableId: a.receivableId,
          faceValue: a.faceValue,
          dueDate: new Date(Number(a.dueDate) * 1000).toISOString(),
          rootCertificateId: a.rootCertificateId,
        },
        partyIds: await partyIdsOfAddresses(trx, [a.seller, a.debtor]),
      };
    case "registry.ReceivableStatusChanged": {
      const status = RECEIVABLE_STATUSES[Number(a.status)];
      if (status !== "overdue" && status !== "defaulted" && status !== "repaid") return undefined;
      return {
        type: `receivable.${status}`,
        data: { receivableId: a.receivableId, status },
        partyIds: await receivableParties(trx, a.receivableId!),
      };
    }
    case "escrow.RepaymentReceived":
      return {
        type: "repayment.received",
        data: { receivableId: a.receivableId, payer: a.payer, amount: a.amount, repaidAmount: a.repaidAmount },
        partyIds: await receivableParties(trx, a.receivableId!),
      };
    case "escrow.LeafSettled":
      return {
        type: "payout.made",
        data: {
          receivableId: a.receivableId,
          certificateId: a.certificateId,
          holder: a.holder,
          toHolder: a.toHolder,
          pledgee: a.pledgee,
          toPledgee: a.toPledgee,
          paidOut: a.paidOut,
        },
        partyIds: await partyIdsOfAddresses(trx, [a.holder, a.pledgee === ZERO ? undefined : a.pledgee]),
      };
    case "certificates.CertificateSplit": {
      const childIds = (event.args.childIds as string[]) ?? [];
      const holders = await Promise.all([a.parentId!, ...childIds].map((id) => certificateHolder(trx, id)));
      return {
        type: "certificate.split",
        data: { parentId: a.parentId, childIds },
        partyIds: await partyIdsOfAddresses(trx, holders),
      };
    }
    case "certificates.Transfer":
      if (a.from === ZERO || a.to === ZERO) return undefined; // issue and burn are told as split / settlement
      return {
        type: "certificate.transferred",
        data: { certificateId: a.tokenId, from: getAddress(a.from!), to: getAddress(a.to!) },
        partyIds: await partyIdsOfAddresses(trx, [getAddress(a.from!), getAddress(a.to!)]),
      };
    case "certificates.CertificateLockPlaced":
    case "certificates.CertificateLockLifted":
      return {
        type: event.name === "CertificateLockPlaced" ? "certificate.locked" : "certificate.unlocked",
        data: { certificateId: a.certificateId },
        partyIds: await partyIdsOfAddresses(trx, [await certificateHolder(trx, a.certificateId!)]),
      };
    case "financing.FinancingRequested": {
      // Every financier hears of a new request: that is how the market finds it.
      const financiers = await trx
        .selectFrom("parties")
        .select(["id", "roles"])
        .where("status", "=", "active")
        .execute();
      return {
        type: "financing.opened",
        data: {
          requestId: a.requestId,
          certificateId: a.certificateId,
          kind: Number(a.kind) === 1 ? "pledge" : "discount",
          price: a.price,
          repayAmount: a.repayAmount,
        },
        partyIds: [
          ...(await partyIdsOfAddresses(trx, [a.holder])),
          ...financiers.filter((p) => (JSON.parse(p.roles) as string[]).includes("financier")).map((p) => p.id),
        ],
      };
    }
    case "financing.FinancingFunded":
      return {
        type: "financing.funded",
        data: { requestId: a.requestId, certificateId: a.certificateId, financier: a.financier },
        partyIds: await financingParties(trx, a.requestId!),
      };
    case "financing.FinancingCancelled":
      return {
        type: "financing.cancelled",
        data: { requestId: a.requestId, certificateId: a.certificateId },
        partyIds: await financingParties(trx, a.requestId!),
      };
    default:
      return describeDilutionOrRecourse(trx, event);
  }
}

/** bytes32 reason codes the service writes are short strings; anything else is passed on as hex. */
function reasonText(hex: string): string {
  try {
    const text = decodeBytes32String(hex);
    return /^[A-Z0-9_]{1,31}$/.test(text) ? text : hex;
  } catch {
    return hex;
  }
}

/** Issue 16: disputes and credit notes (told to the receivable's parties), recourse (to endorser, creditor, guarantor). */
async function describeDilutionOrRecourse(
  trx: Transaction<Database>,
  event: IndexedEvent,
): Promise<{ type: WebhookEventType; data: Record<string, unknown>; partyIds: string[] } | undefined> {
  const a = event.args as Record<string, string>;
  switch (`${event.contract}.${event.name}`) {
    case "dilution.DisputeOpened":
      return {
        type: "dispute.opened",
        data: {
          receivableId: a.receivableId,
          disputeNumber: String(a.disputeNumber),
          debtor: getAddress(a.debtor!),
          reasonCode: reasonText(a.reasonCode!),
          documentHash: a.documentHash,
        },
        partyIds: await receivableParties(trx, a.receivableId!),
      };
    case "dilution.DisputeWithdrawn":
      return {
        type: "dispute.withdrawn",
        data: { receivableId: a.receivableId },
        partyIds: await receivableParties(trx, a.receivableId!),
      };
    case "dilution.DisputeDismissed":
      return {
        type: "dispute.dismissed",
        data: { receivableId: a.receivableId, arbiter: getAddress(a.arbiter!), disputeNumber: String(a.disputeNumber) },
        partyIds: await receivableParties(trx, a.receivableId!),
      };
    case "dilution.DisputeResolved":
      return {
        type: "dispute.resolved",
        data: { receivableId: a.receivableId, creditNoteId: String(a.creditNoteId) },
        partyIds: await receivableParties(trx, a.receivableId!),
      };
    case "dilution.CreditNoteProposed":
      return {
        type: "credit_note.proposed",
        data: {
          creditNoteId: String(a.creditNoteId),
          receivableId: a.receivableId,
          amount: String(a.amount),
          reasonCode: reasonText(a.reasonCode!),
          documentHash: a.documentHash,
          sellerRespondBy: new Date(Number(a.sellerRespondBy) * 1000).toISOString(),
        },
        partyIds: await receivableParties(trx, a.receivableId!),
      };
    case "dilution.CreditNoteWithdrawn":
      return {
        type: "credit_note.withdrawn",
        data: { creditNoteId: String(a.creditNoteId), receivableId: a.receivableId },
        partyIds: await receivableParties(trx, a.receivableId!),
      };
    case "dilution.CreditNoteRejected":
      return {
        type: "credit_note.rejected",
        data: { creditNoteId: String(a.creditNoteId), receivableId: a.receivableId, arbiter: getAddress(a.arbiter!) },
        partyIds: await receivableParties(trx, a.receivableId!),
      };
    case "dilution.CreditNoteApplying":
      // Approved over a tree wider than MAX_DILUTION_LEAVES: the credit is recorded, cuts follow.
      return {
        type: "credit_note.applying",
        data: {
          creditNoteId: String(a.creditNoteId),
          receivableId: a.receivableId,
          approvedBy: Number(a.approvedBy) === 1 ? "arbiter" : "seller",
          leafCount: Number(a.leafCount),
        },
        partyIds: await receivableParties(trx, a.receivableId!),
      };
    case "dilution.CreditNoteApplied": {
      // The holders the note cut are told too, though a retained piece may have left them since.
      const cut = await trx
        .selectFrom("onchain_leaf_reductions")
        .select("holder")
        .where("credit_note_id", "=", String(a.creditNoteId))
        .execute();
      return {
        type: "credit_note.applied",
        data: {
          creditNoteId: String(a.creditNoteId),
          receivableId: a.receivableId,
          approvedBy: Number(a.approvedBy) === 1 ? "arbiter" : "seller",
          amount: String(a.amount),
          retainedReduction: String(a.retainedReduction),
          sharedReduction: String(a.sharedReduction),
          credited: String(a.credited),
        },
        partyIds: [
          ...(await receivableParties(trx, a.receivableId!)),
          ...(await partyIdsOfAddresses(
            trx,
            cut.map((c) => c.holder),
          )),
        ],
      };
    }
    case "recourse.RecourseGranted":
      return {
        type: "recourse.granted",
        data: {
          certificateId: String(a.certificateId),
          endorser: getAddress(a.endorser!),
          endorsementIndex: Number(a.endorsementIndex),
        },
        partyIds: await partyIdsOfAddresses(trx, [getAddress(a.endorser!)]),
      };
    case "recourse.RecourseClaimOpened": {
      const escalated = String(a.parentClaimId) !== "0";
      const claim = await trx
        .selectFrom("onchain_recourse_claims")
        .select("receivable_id")
        .where("id", "=", String(a.claimId))
        .executeTakeFirst();
      return {
        type: escalated ? "recourse_claim.escalated" : "recourse_claim.opened",
        data: {
          claimId: String(a.claimId),
          leafId: String(a.leafId),
          receivableId: claim?.receivable_id ?? null,
          kind: Number(a.kind) === 1 ? "default" : "dilution",
          creditor: getAddress(a.creditor!),
          guarantor: getAddress(a.guarantor!),
          guarantorCertificateId: String(a.guarantorCertificateId),
          endorsementIndex: Number(a.endorsementIndex),
          amount: String(a.amount),
          ...(escalated ? { parentClaimId: String(a.parentClaimId) } : {}),
        },
        partyIds: await partyIdsOfAddresses(trx, [getAddress(a.creditor!), getAddress(a.guarantor!)]),
      };
    }
    case "recourse.RecourseClaimPaid":
      return {
        type: "recourse_claim.paid",
        data: {
          claimId: String(a.claimId),
          payer: getAddress(a.payer!),
          creditor: getAddress(a.creditor!),
          amount: String(a.amount),
        },
        partyIds: await partyIdsOfAddresses(trx, [getAddress(a.payer!), getAddress(a.creditor!)]),
      };
    default:
      return undefined;
  }
}

/** Writes the webhook event of `event` to the outbox, in the indexer's transaction. */
export async function enqueueChainWebhook(trx: Transaction<Database>, event: IndexedEvent): Promise<void> {
  const described = await describe(trx, event);
  if (!described) return;
  await enqueueWebhookEvent(trx, {
    id: chainEventId(event),
    ...described,
    data: { ...described.data, txHash: event.txHash, blockNumber: event.blockNumber },
    occurredAt: new Date().toISOString(),
  });
}
