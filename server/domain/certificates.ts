// Use cases on certificates: read one, list a party's holdings, split, transfer.
// The holder's custodial key signs; a non-custodial holder calls the contract itself.
import { Wallet, type TransactionReceipt } from "ethers";
import { z } from "zod";
import type { ServiceContext } from "../context.js";
import { conflict, forbidden, notFound, unprocessable } from "../model/errors.js";
import { requireAccess } from "../model/access-policy.js";
import { ReceivableRelations, relationsToParty, roleRelations } from "../store/access-relations.js";
import { findPartyById, type PartyRecord } from "../store/parties-store.js";
import { sql, type Selectable } from "kysely";
import type { OnchainCertificateTable } from "../store/schema.js";
import type { Db } from "../store/database.js";

type CertificateRow = Selectable<OnchainCertificateTable>;
import type { Actor } from "../model/actor.js";
import { PositiveAmountString } from "../model/money.js";
import { deprecatedFor, sentTransactions, transactionsSchema } from "../model/transactions.js";
import { PartyRefSchema } from "../model/party-refs.js";
import { mayHoldCertificates } from "../model/parties-schema.js";
import { PartyRefs } from "../store/party-refs.js";
import { CertificateRecourseSchema, certificateRecourse } from "./certificate-recourse.js";
import { sentByInterruptedAttempt } from "./interrupted-attempt.js";
import { PageQuery, pageSchema, type Page } from "../model/page.js";
import { keysetPage } from "../store/paginate.js";

export const CertificateViewSchema = z
  .object({
    id: z.string(),
    receivableId: z.string(),
    parentId: z.string().nullable(),
    holderAddress: z.string(),
    holderPartyId: z.string().nullable().meta(deprecatedFor("holder.partyId")),
    holder: PartyRefSchema,
    faceValue: z.string(),
    tier: z.number(),
    state: z.enum(["live", "locked", "retired", "settled"]),
    dueDate: z.string().nullable(),
    issuedTxHash: z.string(),
    issuedBlock: z.number(),
    paidOut: z.string().meta({ description: "Settlement paid to this certificate so far (holder and pledgee)" }),
    reduction: z.string().meta({ description: "What credit notes cut from this leaf (issue 16)" }),
    claim: z.string().meta({ description: "What the leaf is owed at settlement: face value less its reduction" }),
    recourse: CertificateRecourseSchema,
  })
  .meta({ id: "Certificate" });

export type CertificateView = z.infer<typeof CertificateViewSchema>;

export const SplitOutcomeSchema = z
  .object({
    parentId: z.string(),
    children: z.array(CertificateViewSchema),
    transactions: transactionsSchema,
    txHash: z.string().meta(deprecatedFor("transactions")),
  })
  .meta({ id: "SplitCertificateResult" });
export type SplitOutcome = z.infer<typeof SplitOutcomeSchema>;

export const TransferOutcomeSchema = z
  .object({
    certificate: CertificateViewSchema,
    transactions: transactionsSchema,
    txHash: z.string().meta(deprecatedFor("transactions")),
  })
  .meta({ id: "TransferCertificateResult" });
export type TransferOutcome = z.infer<typeof TransferOutcomeSchema>;

export const SplitCertificateSchema = z
  .object({
    parts: z
      .array(z.object({ toPartyId: z.string().min(1).max(64), amount: PositiveAmountString }).strict())
      .min(1)
      .max(32),
  })
  .strict()
  .meta({ id: "SplitCertificate" });

export const TransferCertificateSchema = z
  .object({ toPartyId: z.string().min(1).max(64) })
  .strict()
  .meta({ id: "TransferCertificate" });

export const CertificateIdParam = z.string().regex(/^[1-9][0-9]{0,20}$/, "a certificate id is a positive integer");

async function toView(ctx: ServiceContext, row: CertificateRow): Promise<CertificateView> {
  const receivable = await ctx.db
    .selectFrom("onchain_receivables")
    .select("due_date")
    .where("id", "=", row.receivable_id)
    .executeTakeFirst();
  const holder = await new PartyRefs(ctx.db).of(row.holder);
  return {
    id: row.id,
    receivableId: row.receivable_id,
    parentId: row.parent_id,
    holderAddress: row.holder,
    holderPartyId: holder.partyId,
    holder,
    faceValue: row.face_value,
    tier: row.tier,
    state: row.state as CertificateView["state"],
    dueDate: receivable ? new Date(receivable.due_date * 1000).toISOString() : null,
    issuedTxHash: row.issued_tx_hash,
    issuedBlock: row.issued_block,
    paidOut: row.paid_out,
    reduction: row.reduction,
    claim: (BigInt(row.face_value) - BigInt(row.reduction)).toString(),
    recourse: await certificateRecourse(ctx, row.id, row.holder),
  };
}

async function loadCertificate(ctx: ServiceContext, certificateId: string): Promise<CertificateRow> {
  const row = await ctx.db
    .selectFrom("onchain_certificates")
    .selectAll()
    .where("id", "=", certificateId)
    .executeTakeFirst();
  if (!row) throw notFound("Certificate", certificateId);
  return row;
}

export async function getCertificate(
  ctx: ServiceContext,
  actor: Actor,
  certificateId: string,
): Promise<CertificateView> {
  const row = await loadCertificate(ctx, certificateId);
  const relations = (await ReceivableRelations.load(ctx.db, actor, row.receivable_id)).toCertificate(certificateId);
  requireAccess("certificate", relations, `certificate ${certificateId}`);
  return toView(ctx, row);
}

/** One page of a holder's live and locked certificates: a keyset read of certificates_by_holder_issued. */
export function holdingsListQuery(ctx: ServiceContext, address: string) {
  return ctx.db
    .selectFrom("onchain_certificates")
    .selectAll()
    .where("holder", "=", address)
    .where("state", "in", ["live", "locked"]);
}

/** Holdings in the order they were issued: the block, then the id. */
export const HOLDINGS_ORDER = {
  columns: ["issued_block", "id"],
  shape: ["n", "s"],
  direction: "asc",
  keyOf: (row: { issued_block: number; id: string }) => [row.issued_block, row.id],
} as const;

export const ListHoldingsQuery = PageQuery;
export const HoldingsPageSchema = pageSchema(CertificateViewSchema)
  .extend({ certificates: z.array(CertificateViewSchema).meta({ description: "The same items (deprecated name)" }) })
  .meta({ id: "HoldingsPage" });

export async function listHoldings(
  ctx: ServiceContext,
  actor: Actor,
  partyId: string,
  query: PageQuery,
): Promise<Page<CertificateView>> {
  const party = await findPartyById(ctx.db, partyId);
  // What a party holds is part of its exposure: the policy's exposure row decides.
  requireAccess(
    "exposure",
    party ? await relationsToParty(ctx.db, actor, party) : roleRelations(actor),
    `party ${partyId}`,
  );
  if (!party) throw notFound("Party", partyId);
  const page = await keysetPage(holdingsListQuery(ctx, party.address), HOLDINGS_ORDER, query);
  return { items: await Promise.all(page.items.map((row) => toView(ctx, row))), nextCursor: page.nextCursor };
}

/** Refuses early, with the index's word, what the contract would refuse anyway. */
function requireMovable(row: CertificateRow): void {
  if (row.state === "retired")
    throw conflict("CERTIFICATE_RETIRED", `certificate ${row.id} was split; its children hold the claim`, {
      certificateId: row.id,
    });
  if (row.state === "settled")
    throw conflict("CERTIFICATE_SETTLED", `certificate ${row.id} is paid out and closed`, { certificateId: row.id });
  if (row.state === "locked")
    throw conflict("CERTIFICATE_LOCKED", `certificate ${row.id} is locked in a financing request or pledge`, {
      certificateId: row.id,
    });
}

async function holderWallet(ctx: ServiceContext, actor: Actor, row: CertificateRow): Promise<Wallet> {
  // Ownership first, and the refusal names no one: a party that may not read the certificate
  // must learn neither who holds it nor its state (retired, settled, locked) by asking to move it.
  // A retired, settled or locked certificate keeps its holder, so the holder's answers are unchanged.
  if (row.holder !== actor.address) throw forbidden(`party ${actor.id} does not hold certificate ${row.id}`);
  requireMovable(row);
  if (!actor.custodial || !actor.encryptedKey) {
    throw conflict(
      "NON_CUSTODIAL_PARTY",
      "this party keeps its own key: call the certificate contract from its wallet",
      {
        certificateToken: ctx.chain.deployment.addresses.certificateToken,
      },
    );
  }
  return new Wallet(ctx.vault.decrypt(actor.encryptedKey));
}

/**
 * Who may hold a piece of this receivable: an active supplier or financier, never an auditor
 * (it reads, it does not hold) and never the receivable's own debtor (a claim on oneself).
 */
async function resolveRecipient(
  ctx: ServiceContext,
  partyId: string,
  field: string,
  row: CertificateRow,
): Promise<PartyRecord> {
  const party = await findPartyById(ctx.db, partyId);
  if (!party) throw unprocessable("UNKNOWN_PARTY", `party ${partyId} does not exist`, { fields: [field] });
  if (party.status !== "active")
    throw unprocessable("PARTY_NOT_ACTIVE", `party ${partyId} is not active`, { fields: [field] });
  if (!mayHoldCertificates(party.roles))
    throw unprocessable(
      "RECIPIENT_NOT_ALLOWED",
      `party ${partyId} (${party.roles.join(", ")}) may not hold certificates: only suppliers and financiers do`,
      { fields: [field], partyId, roles: party.roles, rule: "HOLDER_ROLE" },
    );
  const receivable = await ctx.db
    .selectFrom("onchain_receivables")
    .select("debtor")
    .where("id", "=", row.receivable_id)
    .executeTakeFirst();
  if (receivable?.debtor === party.address)
    throw unprocessable(
      "RECIPIENT_NOT_ALLOWED",
      `party ${partyId} owes receivable ${row.receivable_id}: a debtor may not hold a claim on itself`,
      { fields: [field], partyId, rule: "NOT_THE_DEBTOR" },
    );
  return party;
}

export async function splitCertificate(
  ctx: ServiceContext,
  actor: Actor,
  certificateId: string,
  input: z.infer<typeof SplitCertificateSchema>,
): Promise<SplitOutcome> {
  const row = await loadCertificate(ctx, certificateId);
  // A retry of a split the service died in the middle of: the split it sent is the answer.
  const [interrupted] = await sentByInterruptedAttempt(ctx, actor.address, "split", certificateId);
  const receipt = interrupted ?? (await sendSplit(ctx, actor, row, input));
  await ctx.indexer.sync(receipt.blockNumber);
  const children = await childrenOf(ctx.db, certificateId);
  return {
    parentId: certificateId,
    children: await Promise.all(children.map((c) => toView(ctx, c))),
    transactions: sentTransactions(["split", receipt.hash]),
    txHash: receipt.hash,
  };
}

async function sendSplit(
  ctx: ServiceContext,
  actor: Actor,
  row: CertificateRow,
  input: z.infer<typeof SplitCertificateSchema>,
): Promise<TransactionReceipt> {
  const certificateId = row.id;
  const wallet = await holderWallet(ctx, actor, row);
  // A split must change something: two pieces or more, or one piece to another party.
  if (input.parts.length === 1 && input.parts[0]!.toPartyId === actor.id)
    throw unprocessable(
      "SPLIT_CHANGES_NOTHING",
      "a split makes at least two pieces, or one piece for another party; a single piece for oneself only adds a leaf",
      { fields: ["parts"] },
    );
  const minPieceSize = BigInt(ctx.config.TIERLINE_MIN_PIECE_SIZE);
  const parts = [];
  for (const [i, part] of input.parts.entries()) {
    const to = await resolveRecipient(ctx, part.toPartyId, `parts[${i}].toPartyId`, row);
    const amount = BigInt(part.amount);
    if (amount < minPieceSize)
      throw unprocessable(
        "SPLIT_PIECE_TOO_SMALL",
        `a piece of ${amount} is below the service's minimum piece size ${minPieceSize} (TIERLINE_MIN_PIECE_SIZE)`,
        { fields: [`parts[${i}].amount`], amount: amount.toString(), minPieceSize: minPieceSize.toString() },
      );
    parts.push({ to: to.address, amount });
  }
  const sum = parts.reduce((s, p) => s + p.amount, 0n);
  if (sum !== BigInt(row.face_value)) {
    throw unprocessable(
      "SPLIT_AMOUNT_MISMATCH",
      `the parts add up to ${sum}, the certificate's face value is ${row.face_value}`,
      {
        faceValue: row.face_value,
        sum: sum.toString(),
        fields: ["parts"],
      },
    );
  }
  const certificates = ctx.chain.contracts.certificates;
  const request = await certificates.split.populateTransaction(certificateId, parts);
  const receipt = await ctx.chain.senderFor(wallet).send(request, { kind: "split", ref: certificateId });
  ctx.log.info({ certificateId, txHash: receipt.hash, parts: parts.length }, "certificate split");
  return receipt;
}

export async function transferCertificate(
  ctx: ServiceContext,
  actor: Actor,
  certificateId: string,
  input: z.infer<typeof TransferCertificateSchema>,
): Promise<TransferOutcome> {
  const row = await loadCertificate(ctx, certificateId);
  // A retry of a transfer the service died in the middle of: the transfer it sent is the answer.
  const [interrupted] = await sentByInterruptedAttempt(ctx, actor.address, "transfer", certificateId);
  if (interrupted) {
    await ctx.indexer.sync(interrupted.blockNumber);
    return transferOutcome(ctx, certificateId, interrupted.hash);
  }
  const wallet = await holderWallet(ctx, actor, row);
  const to = await resolveRecipient(ctx, input.toPartyId, "toPartyId", row);
  if (to.address === actor.address)
    throw unprocessable("TRANSFER_TO_SELF", "the certificate already belongs to this party", { fields: ["toPartyId"] });
  const certificates = ctx.chain.contracts.certificates;
  const request = await certificates.transferFrom.populateTransaction(actor.address, to.address, certificateId);
  const receipt = await ctx.chain.senderFor(wallet).send(request, { kind: "transfer", ref: certificateId });
  await ctx.indexer.sync(receipt.blockNumber);
  ctx.log.info({ certificateId, txHash: receipt.hash, to: to.id }, "certificate transferred");
  return transferOutcome(ctx, certificateId, receipt.hash);
}

async function transferOutcome(ctx: ServiceContext, certificateId: string, txHash: string): Promise<TransferOutcome> {
  const certificate = await toView(ctx, await loadCertificate(ctx, certificateId));
  return { certificate, transactions: sentTransactions(["transfer", txHash]), txHash };
}

/**
 * The pieces a split made of `certificateId`, from certificates_by_parent (migration 0028).
 * Ids are decimal text: ordered as numbers, so #10 comes after #9 as the split listed them
 * (shorter first, then by digits: exact for ids of any size, on SQLite and PostgreSQL alike).
 */
export function childrenOf(db: Db, certificateId: string): Promise<CertificateRow[]> {
  return db
    .selectFrom("onchain_certificates")
    .selectAll()
    .where("parent_id", "=", certificateId)
    .orderBy(sql`length(id)`)
    .orderBy("id")
    .execute();
}
