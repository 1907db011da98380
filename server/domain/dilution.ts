// Disputes and credit notes (issue 16): the debtor opens or withdraws a dispute and proposes a
// credit note for goods returned, short or damaged; the seller consents (the service signs the
// EIP-712 consent with its custodial key) and the note is applied over the receivable's complete
// ascending leaf list, read from the index. The chain decides who bears the cut (the flow-down
// rule in DilutionLedger); the service checks the note against the invoice it holds first.
import { encodeBytes32String, Wallet, type TransactionReceipt } from "ethers";
import { sql } from "kysely";
import { z } from "zod";
import type { ServiceContext } from "../context.js";
import type { DilutionLedger } from "../chain/contracts.js";
import {
  CREDIT_NOTE_CONSENT_TYPES,
  CREDIT_NOTE_DOMAIN_NAME,
  CREDIT_NOTE_DOMAIN_VERSION,
} from "../chain/credit-note-typed-data.js";
import { chainNowSeconds } from "../chain/chain-time.js";
import { conflict, forbidden, notFound, unprocessable } from "../model/errors.js";
import type { Actor } from "../model/actor.js";
import { requireAccess } from "../model/access-policy.js";
import { PositiveAmountString } from "../model/money.js";
import { sentTransactions, transactionsSchema } from "../model/transactions.js";
import { ReceivableRelations } from "../store/access-relations.js";
import { sentByInterruptedAttempt } from "./interrupted-attempt.js";
import { decodeLog } from "../chain/event-decoder.js";

/** How long the seller's signed consent stays valid: it is submitted at once. */
const CONSENT_VALIDITY_SECONDS = 3_600;

const Bytes32Hex = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "0x and 64 hex digits");
/** A short reason code (RETURN, SHORT_DELIVERY, DAMAGED, REBATE, PRICE…), stored on-chain as bytes32. */
const ReasonCode = z
  .string()
  .regex(/^[A-Z0-9_]{1,31}$/, "1 to 31 characters of A-Z, 0-9 and _")
  .meta({ example: "RETURN" });

export const OpenDisputeSchema = z
  .object({ reasonCode: ReasonCode, documentHash: Bytes32Hex.describe("hash of the dispute's documents") })
  .strict();

export const CreditNoteLineSchema = z
  .object({ sku: z.string().min(1).max(64), quantity: z.number().int().positive() })
  .strict();

export const ProposeCreditNoteSchema = z
  .object({
    amount: PositiveAmountString.describe("what the debtor no longer owes, in the token's smallest unit"),
    reasonCode: ReasonCode,
    documentHash: Bytes32Hex.describe("hash of the credit note document"),
    lines: z
      .array(CreditNoteLineSchema)
      .min(1)
      .max(1_000)
      .describe("the invoice lines returned, short or damaged: each must be on the invoice"),
  })
  .strict();

export const DisputeViewSchema = z
  .object({
    id: z.string(),
    receivableId: z.string(),
    number: z
      .number()
      .int()
      .describe("the ledger's number of this dispute on its receivable (1, 2, 3, … in the order opened)"),
    reasonCode: z.string(),
    documentHash: z.string(),
    status: z.enum(["open", "resolved", "withdrawn", "dismissed"]),
    creditNoteId: z.string().nullable(),
    openedTxHash: z.string(),
    closedTxHash: z.string().nullable(),
  })
  .meta({ id: "Dispute" });

export const LeafReductionSchema = z
  .object({
    certificateId: z.string(),
    holder: z.string(),
    reduction: z.string(),
    claim: z.string().describe("the leaf's claim after this note"),
    retained: z.boolean().describe("the original seller's retained piece (cut first)"),
  })
  .meta({ id: "LeafReduction" });

export const CreditNoteViewSchema = z
  .object({
    id: z.string(),
    receivableId: z.string(),
    amount: z.string(),
    reasonCode: z.string(),
    documentHash: z.string(),
    status: z
      .enum(["proposed", "applying", "applied", "rejected", "withdrawn"])
      .describe("applying: approved over a tree wider than MAX_DILUTION_LEAVES, the cuts still being made"),
    sellerRespondBy: z.string().describe("after this the arbiter (the timelock) may decide instead of the seller"),
    approvedBy: z.enum(["seller", "arbiter"]).nullable(),
    retainedReduction: z.string().nullable(),
    sharedReduction: z.string().nullable(),
    leaves: z.array(LeafReductionSchema).describe("each leaf's cut, in ascending certificate id"),
    proposedTxHash: z.string(),
    closedTxHash: z.string().nullable(),
  })
  .meta({ id: "CreditNote" });

export const DilutionViewSchema = z
  .object({
    receivableId: z.string(),
    faceValue: z.string(),
    creditedAmount: z.string(),
    owedAmount: z.string().describe("face value less credited"),
    disputed: z.boolean(),
    disputes: z.array(DisputeViewSchema),
    creditNotes: z.array(CreditNoteViewSchema),
  })
  .meta({ id: "ReceivableDilution" });

export const DisputeOutcomeSchema = z
  .object({ dispute: DisputeViewSchema, transactions: transactionsSchema })
  .meta({ id: "DisputeOutcome" });
export const CreditNoteOutcomeSchema = z
  .object({ creditNote: CreditNoteViewSchema, transactions: transactionsSchema })
  .meta({ id: "CreditNoteOutcome" });
export const CreditNoteIdParams = z.object({ id: z.string().regex(/^[1-9][0-9]{0,30}$/, "a credit note id") });

export type DisputeView = z.infer<typeof DisputeViewSchema>;
export type CreditNoteView = z.infer<typeof CreditNoteViewSchema>;
export type DilutionView = z.infer<typeof DilutionViewSchema>;

type OnChainReceivable = { id: string; seller: string; debtor: string; face_value: string; credited: string };

function dilutionLedger(ctx: ServiceContext): DilutionLedger {
  const ledger = ctx.chain.contracts.dilution;
  if (!ledger)
    throw conflict("DILUTION_NOT_DEPLOYED", "this deployment has no dilution ledger (it predates issue 16)", {});
  return ledger;
}

export async function loadOnChain(ctx: ServiceContext, receivableId: string): Promise<OnChainReceivable> {
  const row = await ctx.db
    .selectFrom("onchain_receivables")
    .select(["id", "seller", "debtor", "face_value", "credited"])
    .where("id", "=", receivableId)
    .executeTakeFirst();
  if (row) return row;
  const offChain = await ctx.db
    .selectFrom("receivables")
    .select("status")
    .where("id", "=", receivableId)
    .executeTakeFirst();
  if (!offChain) throw notFound("Receivable", receivableId);
  throw conflict(
    "RECEIVABLE_NOT_REGISTERED",
    `receivable ${receivableId} is not on the chain yet (${offChain.status})`,
    {
      receivableId,
      status: offChain.status,
    },
  );
}

/** The custodial wallet of `party`, which must be `expected` on the chain. */
function custodialWallet(ctx: ServiceContext, actor: Actor, expected: string, role: string, receivableId: string) {
  if (actor.address !== expected)
    throw forbidden(`party ${actor.id} is not the ${role} of receivable ${receivableId}`, { receivableId });
  if (!actor.custodial || !actor.encryptedKey)
    throw conflict("NON_CUSTODIAL_PARTY", "this party keeps its own key: call the dilution ledger from its wallet", {
      dilutionLedger: ctx.chain.deployment.addresses.dilutionLedger ?? null,
    });
  return new Wallet(ctx.vault.decrypt(actor.encryptedKey));
}

/** Sends one ledger call from `wallet`, or returns what an interrupted attempt already sent. */
async function sendOnce(
  ctx: ServiceContext,
  wallet: Wallet,
  kind: string,
  ref: string,
  populate: () => Promise<{ to?: string | null; data?: string }>,
): Promise<TransactionReceipt> {
  const [interrupted] = await sentByInterruptedAttempt(ctx, wallet.address, kind, ref);
  const receipt = interrupted ?? (await ctx.chain.senderFor(wallet).send(await populate(), { kind, ref }));
  await ctx.indexer.sync(receipt.blockNumber);
  return receipt;
}

// --- reads -------------------------------------------------------------------------------------

export function toDispute(row: {
  id: string;
  receivable_id: string;
  dispute_number: number;
  reason_code: string;
  document_hash: string;
  status: string;
  credit_note_id: string | null;
  opened_tx_hash: string;
  closed_tx_hash: string | null;
}): DisputeView {
  return {
    id: row.id,
    receivableId: row.receivable_id,
    number: Number(row.dispute_number),
    reasonCode: decodeReason(row.reason_code),
    documentHash: row.document_hash,
    status: row.status as DisputeView["status"],
    creditNoteId: row.credit_note_id,
    openedTxHash: row.opened_tx_hash,
    closedTxHash: row.closed_tx_hash,
  };
}

/** bytes32 reason codes the service wrote are short strings; anything else is shown as hex. */
function decodeReason(hex: string): string {
  const bytes = Buffer.from(hex.slice(2), "hex");
  const end = bytes.indexOf(0);
  const text = bytes.subarray(0, end < 0 ? bytes.length : end).toString("utf8");
  return /^[A-Z0-9_]{1,31}$/.test(text) && bytes.subarray(text.length).every((b) => b === 0) ? text : hex;
}

/** Credit notes of some receivables (or the ones named), each with its leaves' cuts. */
export async function creditNotesOf(
  ctx: ServiceContext,
  filter: { receivableId?: string; creditNoteId?: string },
): Promise<CreditNoteView[]> {
  let query = ctx.db.selectFrom("onchain_credit_notes").selectAll();
  if (filter.receivableId) query = query.where("receivable_id", "=", filter.receivableId);
  if (filter.creditNoteId) query = query.where("id", "=", filter.creditNoteId);
  const notes = await query
    .orderBy(sql`length(id)`)
    .orderBy("id")
    .execute();
  if (notes.length === 0) return [];
  const cuts = await ctx.db
    .selectFrom("onchain_leaf_reductions")
    .selectAll()
    .where(
      "credit_note_id",
      "in",
      notes.map((n) => n.id),
    )
    .orderBy(sql`length(certificate_id)`)
    .orderBy("certificate_id")
    .execute();
  return notes.map((n) => ({
    id: n.id,
    receivableId: n.receivable_id,
    amount: n.amount,
    reasonCode: decodeReason(n.reason_code),
    documentHash: n.document_hash,
    status: n.status as CreditNoteView["status"],
    sellerRespondBy: new Date(n.seller_respond_by * 1000).toISOString(),
    approvedBy: n.approved_by as CreditNoteView["approvedBy"],
    retainedReduction: n.retained_reduction,
    sharedReduction: n.shared_reduction,
    leaves: cuts
      .filter((c) => c.credit_note_id === n.id)
      .map((c) => ({
        certificateId: c.certificate_id,
        holder: c.holder,
        reduction: c.reduction,
        claim: c.claim,
        retained: c.retained === 1,
      })),
    proposedTxHash: n.proposed_tx_hash,
    closedTxHash: n.closed_tx_hash,
  }));
}

export async function getReceivableDilution(
  ctx: ServiceContext,
  actor: Actor,
  receivableId: string,
): Promise<DilutionView> {
  const relations = (await ReceivableRelations.load(ctx.db, actor, receivableId)).toReceivable();
  requireAccess("dilution", relations, `receivable ${receivableId}`);
  const chain = await loadOnChain(ctx, receivableId);
  const disputes = await ctx.db
    .selectFrom("onchain_disputes")
    .selectAll()
    .where("receivable_id", "=", receivableId)
    .orderBy("opened_block")
    .orderBy("id")
    .execute();
  return {
    receivableId,
    faceValue: chain.face_value,
    creditedAmount: chain.credited,
    owedAmount: (BigInt(chain.face_value) - BigInt(chain.credited)).toString(),
    disputed: disputes.some((d) => d.status === "open"),
    disputes: disputes.map(toDispute),
    creditNotes: await creditNotesOf(ctx, { receivableId }),
  };
}

/** The receivable's latest dispute row (the open one, if any: at most one is open at a time). */
export async function latestDispute(ctx: Pick<ServiceContext, "db">, receivableId: string) {
  return ctx.db
    .selectFrom("onchain_disputes")
    .selectAll()
    .where("receivable_id", "=", receivableId)
    .orderBy("opened_block", "desc")
    .orderBy("id", "desc")
    .executeTakeFirst();
}

async function openDisputeView(ctx: ServiceContext, receivableId: string): Promise<DisputeView> {
  const row = await latestDispute(ctx, receivableId);
  if (!row) throw notFound("Dispute of receivable", receivableId);
  return toDispute(row);
}

// --- the debtor: disputes and proposals ----------------------------------------------------------

export async function openDispute(
  ctx: ServiceContext,
  actor: Actor,
  receivableId: string,
  input: z.infer<typeof OpenDisputeSchema>,
): Promise<{ dispute: DisputeView; transactions: ReturnType<typeof sentTransactions> }> {
  const ledger = dilutionLedger(ctx);
  const chain = await loadOnChain(ctx, receivableId);
  const wallet = custodialWallet(ctx, actor, chain.debtor, "debtor", receivableId);
  const receipt = await sendOnce(ctx, wallet, "openDispute", receivableId, () =>
    ledger.openDispute.populateTransaction(receivableId, encodeBytes32String(input.reasonCode), input.documentHash),
  );
  ctx.log.info({ receivableId, txHash: receipt.hash, reasonCode: input.reasonCode }, "dispute opened");
  return {
    dispute: await openDisputeView(ctx, receivableId),
    transactions: sentTransactions(["openDispute", receipt.hash]),
  };
}

export async function withdrawDispute(
  ctx: ServiceContext,
  actor: Actor,
  receivableId: string,
): Promise<{ dispute: DisputeView; transactions: ReturnType<typeof sentTransactions> }> {
  const ledger = dilutionLedger(ctx);
  const chain = await loadOnChain(ctx, receivableId);
  const wallet = custodialWallet(ctx, actor, chain.debtor, "debtor", receivableId);
  const receipt = await sendOnce(ctx, wallet, "withdrawDispute", receivableId, () =>
    ledger.withdrawDispute.populateTransaction(receivableId),
  );
  ctx.log.info({ receivableId, txHash: receipt.hash }, "dispute withdrawn");
  return {
    dispute: await openDisputeView(ctx, receivableId),
    transactions: sentTransactions(["withdrawDispute", receipt.hash]),
  };
}

/**
 * The note against the invoice the service holds: every line it names is on the invoice and
 * not for more than was invoiced of it, the amount is not above those lines' value, and all
 * credit notes together never above the invoice's total.
 */
export async function checkCreditNoteAgainstInvoice(
  ctx: ServiceContext,
  receivableId: string,
  credited: bigint,
  input: z.infer<typeof ProposeCreditNoteSchema>,
): Promise<void> {
  const row = await ctx.db
    .selectFrom("receivables")
    .select(["documents", "face_value"])
    .where("id", "=", receivableId)
    .executeTakeFirst();
  if (!row) throw notFound("Receivable", receivableId);
  const { invoice } = JSON.parse(row.documents) as {
    invoice: { lines: Array<{ sku: string; quantity: number; unitPrice: string }> };
  };
  const invoiced = new Map<string, { quantity: number; unitPrice: bigint }>();
  for (const line of invoice.lines) {
    const seen = invoiced.get(line.sku);
    invoiced.set(line.sku, {
      quantity: (seen?.quantity ?? 0) + line.quantity,
      unitPrice: seen?.unitPrice ?? BigInt(line.unitPrice),
    });
  }
  const named = new Map<string, number>();
  for (const line of input.lines) named.set(line.sku, (named.get(line.sku) ?? 0) + line.quantity);
  let linesValue = 0n;
  for (const [i, line] of input.lines.entries()) {
    const onInvoice = invoiced.get(line.sku);
    if (!onInvoice)
      throw unprocessable("CREDIT_NOTE_LINE_NOT_INVOICED", `the invoice has no line for ${line.sku}`, {
        fields: [`lines[${i}].sku`],
        sku: line.sku,
      });
    if (named.get(line.sku)! > onInvoice.quantity)
      throw unprocessable(
        "CREDIT_NOTE_LINE_ABOVE_INVOICED",
        `the note credits ${named.get(line.sku)} of ${line.sku}; ${onInvoice.quantity} were invoiced`,
        {
          fields: [`lines[${i}].quantity`],
          sku: line.sku,
          invoiced: onInvoice.quantity,
          credited: named.get(line.sku),
        },
      );
    linesValue += BigInt(line.quantity) * onInvoice.unitPrice;
  }
  const amount = BigInt(input.amount);
  if (amount > linesValue)
    throw unprocessable(
      "CREDIT_NOTE_ABOVE_LINES",
      `the note credits ${amount}; the lines it names were invoiced for ${linesValue}`,
      { fields: ["amount"], amount: input.amount, linesValue: linesValue.toString() },
    );
  if (credited + amount > BigInt(row.face_value))
    throw unprocessable(
      "CREDIT_NOTE_ABOVE_INVOICED",
      `credit notes would come to ${credited + amount}; the invoice was for ${row.face_value}`,
      { fields: ["amount"], amount: input.amount, credited: credited.toString(), invoiced: row.face_value },
    );
}

export async function proposeCreditNote(
  ctx: ServiceContext,
  actor: Actor,
  receivableId: string,
  input: z.infer<typeof ProposeCreditNoteSchema>,
): Promise<{ creditNote: CreditNoteView; transactions: ReturnType<typeof sentTransactions> }> {
  const ledger = dilutionLedger(ctx);
  const chain = await loadOnChain(ctx, receivableId);
  const wallet = custodialWallet(ctx, actor, chain.debtor, "debtor", receivableId);
  const [interrupted] = await sentByInterruptedAttempt(ctx, wallet.address, "proposeCreditNote", receivableId);
  if (!interrupted) await checkCreditNoteAgainstInvoice(ctx, receivableId, BigInt(chain.credited), input);
  const receipt = await sendOnce(ctx, wallet, "proposeCreditNote", receivableId, () =>
    ledger.proposeCreditNote.populateTransaction(
      receivableId,
      BigInt(input.amount),
      encodeBytes32String(input.reasonCode),
      input.documentHash,
    ),
  );
  const proposed = receipt.logs
    .map((log) => decodeLog(ledger.interface, log))
    .find((parsed) => parsed?.name === "CreditNoteProposed");
  const creditNoteId = String(proposed?.args.creditNoteId);
  ctx.log.info({ receivableId, creditNoteId, txHash: receipt.hash, amount: input.amount }, "credit note proposed");
  const [creditNote] = await creditNotesOf(ctx, { creditNoteId });
  return { creditNote: creditNote!, transactions: sentTransactions(["proposeCreditNote", receipt.hash]) };
}

export async function withdrawCreditNote(
  ctx: ServiceContext,
  actor: Actor,
  creditNoteId: string,
): Promise<{ creditNote: CreditNoteView; transactions: ReturnType<typeof sentTransactions> }> {
  const ledger = dilutionLedger(ctx);
  const [note] = await creditNotesOf(ctx, { creditNoteId });
  if (!note) throw notFound("Credit note", creditNoteId);
  const chain = await loadOnChain(ctx, note.receivableId);
  const wallet = custodialWallet(ctx, actor, chain.debtor, "debtor", note.receivableId);
  const receipt = await sendOnce(ctx, wallet, "withdrawCreditNote", creditNoteId, () =>
    ledger.withdrawCreditNote.populateTransaction(creditNoteId),
  );
  ctx.log.info({ receivableId: note.receivableId, creditNoteId, txHash: receipt.hash }, "credit note withdrawn");
  const [after] = await creditNotesOf(ctx, { creditNoteId });
  return { creditNote: after!, transactions: sentTransactions(["withdrawCreditNote", receipt.hash]) };
}

// --- the seller: consent, and the note applied --------------------------------------------------

/** The receivable's live and pledged leaves, ascending by id as numbers: exactly what the ledger wants. */
export async function leavesOf(ctx: ServiceContext, receivableId: string): Promise<string[]> {
  const rows = await ctx.db
    .selectFrom("onchain_certificates")
    .select("id")
    .where("receivable_id", "=", receivableId)
    .where("state", "in", ["live", "locked"])
    .orderBy(sql`length(id)`)
    .orderBy("id")
    .execute();
  return rows.map((r) => r.id);
}

/**
 * The leaf list an approval carries: the complete ascending list for a tree of at most
 * MAX_DILUTION_LEAVES leaves (applied at once), empty for a wider one (the note goes Applying and
 * the keeper makes the cuts in passes). The tree is frozen while the note is pending, and the
 * count is the chain's own.
 */
export async function approvalLeavesOf(ctx: ServiceContext, receivableId: string): Promise<string[]> {
  const ledger = dilutionLedger(ctx);
  const [leafCount, max] = await Promise.all([
    ctx.chain.contracts.certificates.leafCountOf(receivableId),
    ledger.MAX_DILUTION_LEAVES(),
  ]);
  return BigInt(leafCount) > BigInt(max) ? [] : leavesOf(ctx, receivableId);
}

export async function consentToCreditNote(
  ctx: ServiceContext,
  actor: Actor,
  creditNoteId: string,
): Promise<{ creditNote: CreditNoteView; transactions: ReturnType<typeof sentTransactions> }> {
  const ledger = dilutionLedger(ctx);
  const [note] = await creditNotesOf(ctx, { creditNoteId });
  if (!note) throw notFound("Credit note", creditNoteId);
  const chain = await loadOnChain(ctx, note.receivableId);
  const wallet = custodialWallet(ctx, actor, chain.seller, "seller", note.receivableId);
  const [interrupted] = await sentByInterruptedAttempt(ctx, wallet.address, "applyCreditNote", creditNoteId);
  if (!interrupted && note.status !== "proposed")
    throw conflict("CREDIT_NOTE_NOT_PROPOSED", `credit note ${creditNoteId} is ${note.status}`, {
      creditNoteId,
      status: note.status,
    });
  const receipt = await sendOnce(ctx, wallet, "applyCreditNote", creditNoteId, async () => {
    // The note as the chain holds it is what the seller signs; the leaves are the index's.
    const onChain = await ledger.creditNoteOf(creditNoteId);
    const deadline = BigInt((await chainNowSeconds(ctx)) + CONSENT_VALIDITY_SECONDS);
    const signature = await wallet.signTypedData(
      {
        name: CREDIT_NOTE_DOMAIN_NAME,
        version: CREDIT_NOTE_DOMAIN_VERSION,
        chainId: BigInt(ctx.chain.deployment.chainId),
        verifyingContract: String(ledger.target),
      },
      CREDIT_NOTE_CONSENT_TYPES,
      {
        creditNoteId: BigInt(creditNoteId),
        receivableId: onChain.receivableId,
        amount: onChain.amount,
        reasonCode: onChain.reasonCode,
        documentHash: onChain.documentHash,
        deadline,
      },
    );
    const leaves = await approvalLeavesOf(ctx, note.receivableId);
    return ledger.applyWithSellerConsent.populateTransaction(creditNoteId, { deadline, signature }, leaves);
  });
  ctx.log.info(
    { receivableId: note.receivableId, creditNoteId, txHash: receipt.hash },
    "credit note consented by the seller and applied",
  );
  const [after] = await creditNotesOf(ctx, { creditNoteId });
  return { creditNote: after!, transactions: sentTransactions(["applyCreditNote", receipt.hash]) };
}
