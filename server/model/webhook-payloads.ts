// The `data` of the issue-16 webhook events (disputes, credit notes, recourse), one zod schema
// per event type: the OpenAPI document's `webhooks` section is generated from them, and the
// tests parse every delivery of these types with them. Ids and amounts are decimal strings
// (amounts in the settlement token's smallest unit), addresses checksummed; every chain event
// also carries the transaction and block it was mined in.
import { z } from "zod";
import type { WebhookEventType } from "./webhook-events.js";

const Id = z.string().regex(/^[0-9]+$/, "a decimal id");
const Amount = z.string().regex(/^[0-9]+$/, "a decimal amount in minor units");
const Address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "an address");
const Bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "32 bytes, hex");
const ReceivableId = Bytes32.describe("the receivable's registry id");

const mined = {
  txHash: z.string().describe("the transaction that emitted the chain event"),
  blockNumber: z.number().int(),
};

const ClaimOpened = {
  claimId: Id,
  leafId: Id.describe("the certificate whose loss is claimed"),
  receivableId: ReceivableId.nullable(),
  kind: z.enum(["dilution", "default"]),
  creditor: Address,
  guarantor: Address,
  guarantorCertificateId: Id,
  endorsementIndex: z.number().int(),
  amount: Amount,
};

/** `data` of each issue-16 event type. */
export const ISSUE16_WEBHOOK_PAYLOADS = {
  "dispute.opened": z
    .object({
      receivableId: ReceivableId,
      disputeNumber: Id.describe("the dispute's number on the receivable (1, 2, 3, … in the order opened)"),
      debtor: Address,
      reasonCode: z.string(),
      documentHash: Bytes32,
      ...mined,
    })
    .meta({ id: "DisputeOpenedEvent" }),
  "dispute.withdrawn": z.object({ receivableId: ReceivableId, ...mined }).meta({ id: "DisputeWithdrawnEvent" }),
  "dispute.dismissed": z
    .object({
      receivableId: ReceivableId,
      arbiter: Address,
      disputeNumber: Id.describe("the dispute dismissed: the number the dismissal named"),
      ...mined,
    })
    .meta({ id: "DisputeDismissedEvent" }),
  "dispute.resolved": z
    .object({ receivableId: ReceivableId, creditNoteId: Id, ...mined })
    .meta({ id: "DisputeResolvedEvent" }),
  "credit_note.proposed": z
    .object({
      creditNoteId: Id,
      receivableId: ReceivableId,
      amount: Amount,
      reasonCode: z.string(),
      documentHash: Bytes32,
      sellerRespondBy: z.string().describe("ISO 8601: after it the arbiter may decide"),
      ...mined,
    })
    .meta({ id: "CreditNoteProposedEvent" }),
  "credit_note.withdrawn": z
    .object({ creditNoteId: Id, receivableId: ReceivableId, ...mined })
    .meta({ id: "CreditNoteWithdrawnEvent" }),
  "credit_note.rejected": z
    .object({ creditNoteId: Id, receivableId: ReceivableId, arbiter: Address, ...mined })
    .meta({ id: "CreditNoteRejectedEvent" }),
  "credit_note.applying": z
    .object({
      creditNoteId: Id,
      receivableId: ReceivableId,
      approvedBy: z.enum(["seller", "arbiter"]),
      leafCount: z.number().int().describe("the tree's leaves, cut in passes before credit_note.applied"),
      ...mined,
    })
    .meta({ id: "CreditNoteApplyingEvent" }),
  "credit_note.applied": z
    .object({
      creditNoteId: Id,
      receivableId: ReceivableId,
      approvedBy: z.enum(["seller", "arbiter"]),
      amount: Amount,
      retainedReduction: Amount.describe("what came off the seller's retained pieces"),
      sharedReduction: Amount.describe("what came off the other leaves"),
      credited: Amount.describe("all credit notes applied to the receivable so far"),
      ...mined,
    })
    .meta({ id: "CreditNoteAppliedEvent" }),
  "recourse.granted": z
    .object({ certificateId: Id, endorser: Address, endorsementIndex: z.number().int(), ...mined })
    .meta({ id: "RecourseGrantedEvent" }),
  "recourse_claim.opened": z.object({ ...ClaimOpened, ...mined }).meta({ id: "RecourseClaimOpenedEvent" }),
  "recourse_claim.escalated": z
    .object({ ...ClaimOpened, parentClaimId: Id.describe("the paid claim passed up"), ...mined })
    .meta({ id: "RecourseClaimEscalatedEvent" }),
  "recourse_claim.paid": z
    .object({ claimId: Id, payer: Address, creditor: Address, amount: Amount, ...mined })
    .meta({ id: "RecourseClaimPaidEvent" }),
} satisfies Partial<Record<WebhookEventType, z.ZodType>>;

export type Issue16WebhookEventType = keyof typeof ISSUE16_WEBHOOK_PAYLOADS;
