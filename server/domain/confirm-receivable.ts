// Use case: the debtor confirms the payable, and the registrar writes the receivable to
// the shared registry, which issues the root certificate to the seller.
// Crash-safe: the confirmation nonce is derived from the receivable id, so a retry after
// a crash signs the same consent; if the first attempt reached the chain, the registry's
// answer ("already registered") is recognised and the index brought up to date.
import { enqueueWebhookEvent, newEventId } from "../store/webhook-outbox.js";
import { MaxUint256, recoverAddress, Signature, SigningKey } from "ethers";
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
  confirmationDigest,
} from "../chain/confirmation-typed-data.js";
import { getReceivableView, ReceivableViewSchema } from "./receivable-view.js";
import { hashText } from "../model/receivable-schema.js";
import { releaseRegistration, reserveRegistrationWithinLimits } from "../risk/limits.js";
import { registerAlone, type RegistrationOutcome, type RegistrationRequest } from "../chain/registration-batcher.js";
import { chainError } from "../chain/revert-errors.js";

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

/** A confirmation checked, reserved within the limits and its consent stored: ready for the chain. */
type Accepted = { done: ConfirmOutcome } | { request: RegistrationRequest };

/**
 * Everything before the chain: the debtor's right to confirm, the submission's status, the
 * consent (signed here for a custodial debtor), the reservation within the credit limits
 * (status confirming), and the consent stored with the receivable, so a restart can finish
 * the registration (boot.ts) without asking the debtor again.
 */
async function acceptConfirmation(
  ctx: ServiceContext,
  actor: Actor,
  receivableId: string,
  body: ConfirmReceivable,
): Promise<Accepted> {
  const row = await loadForDebtor(ctx, actor, receivableId);
  const registered = await alreadyRegistered(ctx, receivableId);
  if (registered) return { done: registered };
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
      if (done) return { done };
    }
    throw error;
  }

  let terms: Prepared["terms"];
  let confirmation: { nonce: bigint; deadline: number; signature: string };
  let prepared: Prepared;
  try {
    if (actor.custodial) {
      const nonce = nonceOf(receivableId);
      const deadline = await confirmationDeadline(ctx);
      prepared = await prepare(ctx, receivableId, deadline, nonce);
      const { domain, message } = prepared.typed;
      // Signed with the key alone: a Wallet first derives the key's address, a secp256k1
      // multiplication in JavaScript (~0.8 ms a confirmation in the bench profile) nothing reads.
      const signingKey = new SigningKey(ctx.vault.decrypt(actor.encryptedKey!));
      confirmation = {
        nonce,
        deadline,
        signature: signingKey.sign(confirmationDigest(domain, message)).serialized,
      };
    } else {
      confirmation = {
        nonce: BigInt(body.nonce!),
        deadline: body.deadline!,
        signature: Signature.from(body.signature!).serialized,
      };
      prepared = await prepare(ctx, receivableId, confirmation.deadline, confirmation.nonce);
    }
    terms = prepared.terms;
    if (!actor.custodial) await refuseForeignSignature(ctx, prepared, confirmation.signature);
    await ctx.db.transaction().execute(async (trx) => {
      await trx
        .updateTable("receivables")
        .set({
          owner: clusterOf(ctx.db).instanceId,
          confirmation: JSON.stringify({
            nonce: confirmation.nonce.toString(),
            deadline: confirmation.deadline,
            signature: confirmation.signature,
          } satisfies StoredConfirmation),
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
  return { request: { receivableId, terms, confirmation } };
}

export async function confirmReceivable(
  ctx: ServiceContext,
  actor: Actor,
  receivableId: string,
  body: ConfirmReceivable,
): Promise<ConfirmOutcome> {
  const accepted = await acceptConfirmation(ctx, actor, receivableId, body);
  if ("done" in accepted) return accepted.done;
  return registerConfirmed(ctx, accepted.request);
}

/**
 * `Prefer: respond-async`: the same checks and the same stored consent, then the answer at
 * once, while the registration goes on in its window (the batcher); its outcome is read at
 * GET /v1/receivables/:id/registration, and told by the receivable.registered webhook.
 */
export async function confirmReceivableAsync(
  ctx: ServiceContext,
  actor: Actor,
  receivableId: string,
  body: ConfirmReceivable,
): Promise<AcceptedConfirmation> {
  const accepted = await acceptConfirmation(ctx, actor, receivableId, body);
  if ("done" in accepted) {
    const { certificateId, transactions } = accepted.done;
    const registration = { receivableId, state: "registered" as const, certificateId, transactions, refusal: null };
    return { registration, transactions };
  }
  registerInBackground(ctx, accepted.request);
  // The debtor's own answer, known without reading anything again: on its way.
  return {
    registration: { receivableId, state: "pending", certificateId: null, transactions: [], refusal: null },
    transactions: [],
  };
}

/**
 * A batch is sent without a simulation, so a refusal there costs gas: a signature that is not
 * the debtor's (the likeliest mistake) is refused here, as the contract would refuse it, before
 * anything is sent. Only for a plain-key debtor: a smart wallet's ERC-1271 answer is the chain's.
 */
async function refuseForeignSignature(ctx: ServiceContext, prepared: Prepared, signature: string): Promise<void> {
  const { debtor } = prepared.terms;
  if (!(await isExternallyOwned(ctx, debtor))) return;
  const { domain, message } = prepared.typed;
  let signer: string | undefined;
  try {
    signer = recoverAddress(confirmationDigest(domain, message), signature);
  } catch {
    signer = undefined;
  }
  if (signer?.toLowerCase() !== debtor.toLowerCase())
    throw unprocessable("CONFIRMATION_INVALID_SIGNATURE", "the contract refused: ConfirmationInvalidSignature", {
      contractError: "ConfirmationInvalidSignature",
      debtor,
    });
}

const inBackground = new Set<Promise<unknown>>();
/** How often a registration accepted with 202 is tried again after the chain did not answer. */
const BACKGROUND_ATTEMPTS = 5;

/** Registers an accepted confirmation with nobody waiting: a 5xx (the chain away, an outcome
 * unknown) is tried again, as the chain refuses a second registration whatever happened. */
export function registerInBackground(ctx: ServiceContext, request: RegistrationRequest): void {
  const log = ctx.log.child({ receivableId: request.receivableId });
  const run = (async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        await sendRegistration(ctx, request);
        return;
      } catch (error) {
        const failure = error instanceof AppError ? error : undefined;
        if (failure && failure.status < 500) return; // refused, and recorded for the registration resource
        if (attempt >= BACKGROUND_ATTEMPTS) {
          log.error({ err: error }, "an accepted registration could not reach the chain; a restart resumes it");
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** attempt));
      }
    }
  })();
  inBackground.add(run);
  void run.finally(() => inBackground.delete(run));
}

/** Waits for the registrations accepted with 202 that are still going (at shutdown). */
export async function settleBackgroundRegistrations(): Promise<void> {
  await Promise.all(inBackground);
}

/** Whether the debtor signs with a plain key: a smart-wallet debtor's ERC-1271 check can cost
 * any amount of gas, which no per-item bound covers, so it registers alone (simulated first). */
const externallyOwned = new Map<string, boolean>();
async function isExternallyOwned(ctx: ServiceContext, address: string): Promise<boolean> {
  const key = address.toLowerCase();
  let known = externallyOwned.get(key);
  if (known === undefined) {
    known = (await ctx.chain.provider.getCode(address)) === "0x";
    externallyOwned.set(key, known);
  }
  return known;
}

/**
 * Sends an accepted confirmation to the registry, in a batch or alone, and answers as the
 * confirmation always has: the receivable registered, with its root certificate.
 */
async function registerConfirmed(ctx: ServiceContext, request: RegistrationRequest): Promise<ConfirmOutcome> {
  await sendRegistration(ctx, request);
  const done = await alreadyRegistered(ctx, request.receivableId);
  if (!done)
    throw new AppError(
      "INDEX_LAGGING",
      503,
      "registered on-chain, but the index has not caught up yet; read it again shortly",
      { receivableId: request.receivableId },
    );
  return done;
}

/**
 * The registration itself, until the index has it. A refusal gives the reservation back and
 * is kept for the registration resource; "already registered" with these very terms is this
 * registration (a retry, a restart), not an error.
 */
async function sendRegistration(ctx: ServiceContext, request: RegistrationRequest): Promise<void> {
  const { receivableId } = request;
  const log = ctx.log.child({ receivableId });
  const batcher = ctx.chain.registrations;
  let outcome: RegistrationOutcome;
  try {
    outcome =
      batcher && (await isExternallyOwned(ctx, request.terms.debtor))
        ? await batcher.register(request)
        : await registerAlone(ctx.chain.registrar, ctx.chain.contracts.registry, request);
  } catch (error) {
    outcome = { registered: false, error: chainError(error) };
  }
  if (outcome.registered) {
    log.info({ txHash: outcome.txHash, batchSize: outcome.batchSize }, "receivable registered on-chain");
    await ctx.indexer.sync(outcome.blockNumber);
    await markRegistered(ctx.db, receivableId);
    return;
  }
  const { error } = outcome;
  if (error.code === "RECEIVABLE_ALREADY_REGISTERED" && (await registeredWithTheseTerms(ctx, request))) {
    log.info({ receivableId }, "the registry already holds this registration with these terms: answering from it");
    await ctx.indexer.sync();
    await markRegistered(ctx.db, receivableId);
    return;
  }
  if (error.status < 500) {
    // The chain refused the consent: back to waiting (the reservation released), so the
    // debtor can try again. A 5xx leaves the outcome unknown: the reservation stays until
    // the retry or the restart's resume path (boot.ts) finds out what the chain has.
    // The refusal is written before the status goes back, so a client following
    // GET …/registration sees pending, then refused, never "not_confirmed" in between.
    await recordRefusal(ctx, receivableId, error);
    await releaseRegistration(ctx, receivableId);
  }
  throw error;
}

/** The registry has this receivable: ours if it holds exactly these terms (another platform
 * registering the same invoice with other terms is a real duplicate, and stays an error). */
async function registeredWithTheseTerms(
  ctx: ServiceContext,
  { receivableId, terms }: RegistrationRequest,
): Promise<boolean> {
  const onChain = await ctx.chain.contracts.registry.receivableOf(receivableId);
  if (
    Number(onChain.status) === 0 ||
    onChain.seller.toLowerCase() !== terms.seller.toLowerCase() ||
    onChain.debtor.toLowerCase() !== terms.debtor.toLowerCase() ||
    onChain.faceValue !== terms.faceValue ||
    onChain.dueDate !== terms.dueDate
  )
    return false;
  // The lean registry keeps the document hash in ReceivableRegistered only: compare the
  // index's copy of that event, brought up to the chain first.
  await ctx.indexer.sync();
  const indexed = await ctx.db
    .selectFrom("onchain_receivables")
    .select("document_hash")
    .where("id", "=", receivableId)
    .executeTakeFirst();
  return indexed?.document_hash.toLowerCase() === terms.documentHash.toLowerCase();
}

/** The consent as stored with the receivable; `refusal` is the chain's last answer, when it refused. */
interface StoredConfirmation {
  nonce: string;
  deadline: number;
  signature: string;
  refusal?: { code: string; message: string; details: Record<string, unknown> | undefined };
}

async function recordRefusal(ctx: ServiceContext, receivableId: string, error: AppError): Promise<void> {
  const row = await ctx.db
    .selectFrom("receivables")
    .select("confirmation")
    .where("id", "=", receivableId)
    .executeTakeFirst();
  if (!row?.confirmation) return;
  const stored = JSON.parse(row.confirmation) as StoredConfirmation;
  stored.refusal = { code: error.code, message: error.message, details: error.details };
  await ctx.db
    .updateTable("receivables")
    .set({ confirmation: JSON.stringify(stored), updated_at: nowIso() })
    .where("id", "=", receivableId)
    .execute();
}

/** The stored consent of a confirmation under way, for the restart that finishes it. */
export async function storedRegistrationRequest(
  ctx: ServiceContext,
  receivableId: string,
): Promise<RegistrationRequest | undefined> {
  const row = await ctx.db
    .selectFrom("receivables")
    .select("confirmation")
    .where("id", "=", receivableId)
    .executeTakeFirst();
  if (!row?.confirmation) return undefined;
  const stored = JSON.parse(row.confirmation) as StoredConfirmation;
  const { terms } = await prepare(ctx, receivableId, stored.deadline, BigInt(stored.nonce));
  return {
    receivableId,
    terms,
    confirmation: { nonce: BigInt(stored.nonce), deadline: stored.deadline, signature: stored.signature },
  };
}

export const RegistrationStateSchema = z
  .object({
    receivableId: z.string(),
    state: z.enum(["not_confirmed", "pending", "registered", "refused"]).meta({
      description:
        "not_confirmed: no confirmation yet (or the receivable was closed); pending: confirmed, on its way to the registry; registered: on-chain with its root certificate; refused: the registry refused the confirmation (see refusal), the debtor may confirm again",
    }),
    certificateId: z.string().nullable(),
    transactions: transactionsSchema,
    refusal: z
      .object({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()).optional() })
      .nullable()
      .meta({ description: "The same error a confirmation without Prefer: respond-async would have answered" }),
  })
  .meta({ id: "ReceivableRegistration" });
export type RegistrationState = z.infer<typeof RegistrationStateSchema>;

/** The 202 answer: the registration resource, in the write envelope (nothing sent yet, unless it was already registered). */
export const AcceptedConfirmationSchema = z
  .object({ registration: RegistrationStateSchema, transactions: transactionsSchema })
  .meta({ id: "AcceptedConfirmation" });
export type AcceptedConfirmation = z.infer<typeof AcceptedConfirmationSchema>;

/** GET /v1/receivables/:id/registration: where an accepted confirmation stands. */
export async function getRegistrationState(
  ctx: ServiceContext,
  actor: Actor,
  receivableId: string,
): Promise<RegistrationState> {
  const view = await getReceivableView(ctx, actor, receivableId); // its access rules apply
  if (view.rootCertificateId !== null)
    return {
      receivableId,
      state: "registered",
      certificateId: view.rootCertificateId,
      transactions: sentTransactions(["register", view.txHashes.register]),
      refusal: null,
    };
  const row = await ctx.db
    .selectFrom("receivables")
    .select(["status", "confirmation"])
    .where("id", "=", receivableId)
    .executeTakeFirstOrThrow();
  const refusal = row.confirmation ? (JSON.parse(row.confirmation) as StoredConfirmation).refusal : undefined;
  const state =
    row.status === "confirming" || row.status === "registered"
      ? "pending"
      : row.status === "awaiting_confirmation" && refusal
        ? "refused"
        : "not_confirmed";
  return {
    receivableId,
    state,
    certificateId: null,
    transactions: [],
    refusal: state === "refused" && refusal ? refusal : null,
  };
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
