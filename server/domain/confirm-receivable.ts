// Use case: the debtor confirms the payable, and the registrar writes the receivable to
// the shared registry, which issues the root certificate to the seller.
// Crash-safe: the confirmation nonce is derived from the receivable id, so a retry after
// a crash signs the same consent; if the first attempt reached the chain, the registry's
// answer ("already registered") is recognised and the index brought up to date.
import { enqueueWebhookEvent, newEventId } from "../store/webhook-outbox.js";
import { MaxUint256, Signature, Wallet } from "ethers";
import { z } from "zod";
import type { ServiceContext } from "../context.js";
import { AppError, conflict, forbidden, notFound, unprocessable } from "../model/errors.js";
import { deprecatedFor, sentTransactions, transactionsSchema } from "../model/transactions.js";
import { nowIso, type Db } from "../store/database.js";
import { clusterOf } from "../store/cluster.js";
import { findPartyById } from "../store/parties-store.js";
import type { Actor } from "../model/actor.js";
import {
  CONFIRMATION_DOMAIN_NAME,
  CONFIRMATION_DOMAIN_VERSION,
  CONFIRMATION_TYPES,
} from "../chain/confirmation-typed-data.js";
import { getReceivableView, ReceivableViewSchema } from "./receivable-view.js";
import { hashText } from "../model/receivable-schema.js";
import { releaseRegistration, reserveRegistrationWithinLimits } from "../risk/limits.js";

/** Whether ethers can read it as a signature: a malformed one must be a 400, not a crash later. */
function isSignature(hex: string): boolean {
  try {
    Signature.from(hex);
    return true;
  } catch {
    return false;
  }
}

export const ConfirmReceivableSchema = z
  .object({
    nonce: z
      .string()
      .regex(/^[0-9]{1,78}$/)
      // zod runs a refinement even after the regex failed: BigInt must only see digits.
      .refine((v) => !/^[0-9]{1,78}$/.test(v) || BigInt(v) <= MaxUint256, "at most 2^256 - 1")
      .optional()
      .meta({ description: "Non-custodial debtors: the nonce they signed" }),
    deadline: z
      .number()
      .int()
      .positive()
      .optional()
      .meta({ description: "Non-custodial debtors: unix time the signature expires" }),
    signature: z
      .string()
      .regex(/^0x[0-9a-fA-F]+$/)
      .refine(
        (v) => !/^0x[0-9a-fA-F]+$/.test(v) || isSignature(v),
        "a 65-byte (r, s, v) or 64-byte (EIP-2098) signature",
      )
      .optional()
      .meta({ description: "Non-custodial debtors: EIP-712 signature" }),
  })
  .strict()
  .meta({ id: "ConfirmReceivable" });

export type ConfirmReceivable = z.infer<typeof ConfirmReceivableSchema>;

const CONFIRMATION_VALIDITY_SECONDS = 3_600;

/** The contract checks the deadline against block time, which a local chain may run ahead of. */
async function confirmationDeadline(ctx: ServiceContext): Promise<number> {
  const wallNow = Math.floor(ctx.now().getTime() / 1000);
  const chainNow = Number((await ctx.chain.provider.getBlock("latest"))?.timestamp ?? 0);
  return Math.max(wallNow, chainNow) + CONFIRMATION_VALIDITY_SECONDS;
}

/** GET /v1/receivables/:id/confirmation: the EIP-712 typed data a non-custodial debtor signs. */
export const ConfirmationRequestSchema = z
  .object({
    domain: z.object({
      name: z.string(),
      version: z.string(),
      chainId: z.string(),
      verifyingContract: z.string(),
    }),
    types: z.object({
      ReceivableConfirmation: z.array(z.object({ name: z.string(), type: z.string() })),
    }),
    primaryType: z.literal("ReceivableConfirmation"),
    message: z.record(z.string(), z.string()),
  })
  .meta({ id: "ConfirmationRequest" });

export type ConfirmationRequest = z.infer<typeof ConfirmationRequestSchema>;

interface Prepared {
  terms: {
    seller: string;
    debtor: string;
    invoiceNumberHash: string;
    documentHash: string;
    faceValue: bigint;
    dueDate: bigint;
  };
  typed: ConfirmationRequest;
}

async function prepare(ctx: ServiceContext, receivableId: string, deadline: number, nonce: bigint): Promise<Prepared> {
  const row = await ctx.db
    .selectFrom("receivables")
    .selectAll()
    .where("id", "=", receivableId)
    .executeTakeFirstOrThrow();
  const seller = (await findPartyById(ctx.db, row.seller_id))!;
  const debtor = (await findPartyById(ctx.db, row.debtor_id))!;
  const terms = {
    seller: seller.address,
    debtor: debtor.address,
    invoiceNumberHash: hashText(row.invoice_number_normalized),
    documentHash: row.document_hash,
    faceValue: BigInt(row.face_value),
    dueDate: BigInt(row.due_date),
  };
  const message = {
    receivableId,
    documentHash: terms.documentHash,
    seller: terms.seller,
    debtor: terms.debtor,
    faceValue: terms.faceValue.toString(),
    settlementToken: ctx.chain.deployment.addresses.settlementToken,
    dueDate: terms.dueDate.toString(),
    nonce: nonce.toString(),
    deadline: String(deadline),
  };
  return {
    terms,
    typed: {
      domain: {
        name: CONFIRMATION_DOMAIN_NAME,
        version: CONFIRMATION_DOMAIN_VERSION,
        chainId: ctx.chain.deployment.chainId,
        verifyingContract: ctx.chain.deployment.addresses.receivableRegistry,
      },
      types: CONFIRMATION_TYPES,
      primaryType: "ReceivableConfirmation",
      message,
    },
  };
}

/** The nonce a receivable's confirmation uses: its id, so every retry signs the same consent. */
const nonceOf = (receivableId: string): bigint => BigInt(receivableId);

async function loadForDebtor(ctx: ServiceContext, actor: Actor, receivableId: string) {
  const row = await ctx.db.selectFrom("receivables").selectAll().where("id", "=", receivableId).executeTakeFirst();
  if (!row) throw notFound("Receivable", receivableId);
  if (row.debtor_id !== actor.id)
    throw forbidden(`only the debtor of receivable ${receivableId} may confirm it`, { debtorId: row.debtor_id });
  return row;
}

/** What a non-custodial debtor signs (EIP-712 typed data). */
export async function confirmationRequest(
  ctx: ServiceContext,
  actor: Actor,
  receivableId: string,
): Promise<ConfirmationRequest> {
  await loadForDebtor(ctx, actor, receivableId);
  const deadline = await confirmationDeadline(ctx);
  return (await prepare(ctx, receivableId, deadline, nonceOf(receivableId))).typed;
}

export const ConfirmOutcomeSchema = z
  .object({
    receivable: ReceivableViewSchema,
    certificateId: z.string(),
    transactions: transactionsSchema,
    txHash: z.string().meta(deprecatedFor("transactions")),
  })
  .meta({ id: "ConfirmedReceivable" });
export type ConfirmOutcome = z.infer<typeof ConfirmOutcomeSchema>;

export async function confirmReceivable(
  ctx: ServiceContext,
  actor: Actor,
  receivableId: string,
  body: ConfirmReceivable,
): Promise<ConfirmOutcome> {
  const row = await loadForDebtor(ctx, actor, receivableId);
  const log = ctx.log.child({ receivableId, debtorId: actor.id });
  const registered = await alreadyRegistered(ctx, receivableId);
  if (registered) return registered;
  if (row.status === "held_for_review")
    throw conflict("RECEIVABLE_HELD_FOR_REVIEW", `receivable ${receivableId} is held for manual review`, {
      receivableId,
    });
  if (row.status === "rejected")
    throw conflict("RECEIVABLE_REJECTED", `receivable ${receivableId} was rejected in review`, { receivableId });
  if (row.status === "declined" || row.status === "withdrawn")
    throw conflict("RECEIVABLE_CLOSED", `receivable ${receivableId} was ${row.status} and will not be registered`, {
      receivableId,
      status: row.status,
    });
  if (!actor.custodial && (body.signature === undefined || body.nonce === undefined || body.deadline === undefined)) {
    const typed = await confirmationRequest(ctx, actor, receivableId);
    throw unprocessable(
      "CONFIRMATION_SIGNATURE_REQUIRED",
      "a non-custodial debtor sends its EIP-712 signature with nonce and deadline",
      { typedData: typed },
    );
  }
  // Check and reserve the debtor's and the seller's headroom in one step: status confirming.
  try {
    await reserveRegistrationWithinLimits(ctx, row);
  } catch (error) {
    // A concurrent confirmation (on this replica or another) registered it between the check
    // above and the reservation: answer as that one did, not 409.
    if (error instanceof AppError && error.code === "RECEIVABLE_NOT_CONFIRMABLE") {
      const done = await alreadyRegistered(ctx, receivableId);
      if (done) return done;
    }
    throw error;
  }

  let terms: Prepared["terms"];
  let confirmation: { nonce: bigint; deadline: number; signature: string };
  try {
    if (actor.custodial) {
      const nonce = nonceOf(receivableId);
      const deadline = await confirmationDeadline(ctx);
      const { typed } = await prepare(ctx, receivableId, deadline, nonce);
      const wallet = new Wallet(ctx.vault.decrypt(actor.encryptedKey!));
      confirmation = {
        nonce,
        deadline,
        signature: await wallet.signTypedData(typed.domain, typed.types, typed.message),
      };
    } else {
      confirmation = {
        nonce: BigInt(body.nonce!),
        deadline: body.deadline!,
        signature: Signature.from(body.signature!).serialized,
      };
    }
    terms = (await prepare(ctx, receivableId, confirmation.deadline, confirmation.nonce)).terms;
    await ctx.db.transaction().execute(async (trx) => {
      await trx
        .updateTable("receivables")
        .set({
          owner: clusterOf(ctx.db).instanceId,
          confirmation: JSON.stringify({
            nonce: confirmation.nonce.toString(),
            deadline: confirmation.deadline,
            signature: confirmation.signature,
          }),
          updated_at: nowIso(),
        })
        .where("id", "=", receivableId)
        .execute();
      // The debtor's consent, before registration (receivable.registered follows from the chain).
      await enqueueWebhookEvent(trx, {
        id: newEventId(),
        type: "receivable.confirmed",
        data: { receivableId, debtorId: actor.id, deadline: confirmation.deadline },
        partyIds: [row.seller_id, row.debtor_id],
        occurredAt: nowIso(),
      });
    });
  } catch (error) {
    await releaseRegistration(ctx, receivableId); // nothing was sent: give the headroom back
    throw error;
  }
  const { nonce, deadline, signature } = confirmation;

  const registry = ctx.chain.contracts.registry;
  const request = await registry.register.populateTransaction(terms, { nonce, deadline, signature });
  try {
    const receipt = await ctx.chain.registrar.send(request, { kind: "register", ref: receivableId });
    log.info({ txHash: receipt.hash }, "receivable registered on-chain");
    await ctx.indexer.sync(receipt.blockNumber);
  } catch (error) {
    if (error instanceof AppError && error.code === "RECEIVABLE_ALREADY_REGISTERED") {
      const done = await alreadyRegistered(ctx, receivableId);
      if (done) return done;
    }
    if (error instanceof AppError && error.status < 500) {
      // The chain refused the consent: back to waiting (the reservation released), so the
      // debtor can try again. A 5xx leaves the outcome unknown: the reservation stays until
      // the retry or the restart's resume path (boot.ts) finds out what the chain has.
      await releaseRegistration(ctx, receivableId);
    }
    throw error;
  }
  const done = await alreadyRegistered(ctx, receivableId);
  if (!done)
    throw new AppError(
      "INDEX_LAGGING",
      503,
      "registered on-chain, but the index has not caught up yet; read it again shortly",
      { receivableId },
    );
  return done;
}

/** The submission reached the registry: it leaves "confirming" for good, so start-up (which
 * looks only at interrupted confirmations) never reads the registered history again. */
export async function markRegistered(db: Db, receivableId: string): Promise<void> {
  await db
    .updateTable("receivables")
    .set({ status: "registered", updated_at: nowIso() })
    .where("id", "=", receivableId)
    .where("status", "=", "confirming")
    .execute();
}

/** If the chain has it, bring the index up to date and answer from it. */
async function alreadyRegistered(ctx: ServiceContext, receivableId: string): Promise<ConfirmOutcome | undefined> {
  const status = Number(await ctx.chain.contracts.registry.statusOf(receivableId));
  if (status === 0) return undefined;
  let row = await ctx.db
    .selectFrom("onchain_receivables")
    .selectAll()
    .where("id", "=", receivableId)
    .executeTakeFirst();
  if (!row) {
    await ctx.indexer.sync();
    row = await ctx.db.selectFrom("onchain_receivables").selectAll().where("id", "=", receivableId).executeTakeFirst();
  }
  if (!row) return undefined;
  await markRegistered(ctx.db, receivableId);
  const actorless = await ctx.db
    .selectFrom("parties")
    .selectAll()
    .where("id", "=", ctx.operatorId)
    .executeTakeFirstOrThrow();
  const { toParty } = await import("../store/parties-store.js");
  return {
    receivable: await getReceivableView(ctx, toParty(actorless), receivableId),
    certificateId: row.root_certificate_id,
    transactions: sentTransactions(["register", row.register_tx_hash]),
    txHash: row.register_tx_hash,
  };
}
