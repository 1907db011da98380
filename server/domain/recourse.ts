// Recourse (issue 16): a holder endorses a piece with recourse before passing it on; a holder
// that bore a loss (a credit note's cut, or a default) opens a claim on the nearest guarantor
// the index knows of; the guarantor pays it (and, on a default claim, receives the leaf), and
// may pass it up the chain to the next endorser above, up to the original seller. The chain
// decides who guarantees what (RecourseLedger); the service only picks the nearest endorsement.
import { Wallet, type TransactionReceipt } from "ethers";
import { z } from "zod";
import type { ServiceContext } from "../context.js";
import type { RecourseLedger } from "../chain/contracts.js";
import type { TxSender } from "../chain/tx-sender.js";
import { conflict, forbidden, notFound, unprocessable } from "../model/errors.js";
import type { Actor } from "../model/actor.js";
import { requireAccess } from "../model/access-policy.js";
import { PageQuery, pageSchema, type Page } from "../model/page.js";
import { sentTransactions, transactionsSchema, type SentTransaction } from "../model/transactions.js";
import { keysetPage, mapPage } from "../store/paginate.js";
import { findPartyById } from "../store/parties-store.js";
import { relationsToParty, roleRelations } from "../store/access-relations.js";
import { payThroughExactAllowance } from "./token-payments.js";
import { withLock } from "../store/locks.js";
import { sentByInterruptedAttempt } from "./interrupted-attempt.js";
import { decodeLog } from "../chain/event-decoder.js";

export const RecourseClaimIdParams = z.object({ id: z.string().regex(/^[1-9][0-9]{0,30}$/, "a recourse claim id") });

export const OpenRecourseClaimSchema = z
  .object({
    kind: z
      .enum(["dilution", "default"])
      .describe("dilution: the cut a credit note made on the leaf; default: what the leaf is still owed"),
  })
  .strict();

export const ListRecourseClaimsQuery = PageQuery.extend({
  partyId: z.string().min(1).max(64).describe("the party, as creditor or guarantor"),
});

export const EndorsementSchema = z
  .object({ certificateId: z.string(), endorsementIndex: z.number().int(), endorser: z.string(), txHash: z.string() })
  .meta({ id: "RecourseEndorsementView" });

export const RecourseClaimViewSchema = z
  .object({
    id: z.string(),
    leafId: z.string(),
    receivableId: z.string().nullable(),
    kind: z.enum(["dilution", "default"]),
    status: z.enum(["open", "paid"]),
    creditor: z.string(),
    guarantor: z.string(),
    guarantorCertificateId: z.string(),
    endorsementIndex: z.number().int(),
    amount: z.string(),
    parentClaimId: z.string().nullable(),
    openedTxHash: z.string(),
    paidTxHash: z.string().nullable(),
  })
  .meta({ id: "RecourseClaimView" });

export const RecourseGrantOutcomeSchema = z
  .object({ certificateId: z.string(), endorsements: z.array(EndorsementSchema), transactions: transactionsSchema })
  .meta({ id: "RecourseGrantOutcome" });
export const RecourseClaimOutcomeSchema = z
  .object({ claim: RecourseClaimViewSchema, transactions: transactionsSchema })
  .meta({ id: "RecourseClaimOutcome" });
export const RecourseClaimListSchema = pageSchema(RecourseClaimViewSchema).meta({ id: "RecourseClaimList" });

export type RecourseClaimView = z.infer<typeof RecourseClaimViewSchema>;
type Endorsement = z.infer<typeof EndorsementSchema>;

function recourseLedger(ctx: ServiceContext): RecourseLedger {
  const ledger = ctx.chain.contracts.recourse;
  if (!ledger)
    throw conflict("RECOURSE_NOT_DEPLOYED", "this deployment has no recourse ledger (it predates issue 16)", {});
  return ledger;
}

/** The custodial wallet of `actor`, which must be `expected` on the chain (`what` says as what). */
function custodialWallet(ctx: ServiceContext, actor: Actor, expected: string, what: string): Wallet {
  if (actor.address !== expected) throw forbidden(`party ${actor.id} is not the ${what}`, {});
  if (!actor.custodial || !actor.encryptedKey)
    throw conflict("NON_CUSTODIAL_PARTY", "this party keeps its own key: call the recourse ledger from its wallet", {
      recourseLedger: ctx.chain.deployment.addresses.recourseLedger ?? null,
    });
  return new Wallet(ctx.vault.decrypt(actor.encryptedKey));
}

async function certificate(ctx: ServiceContext, id: string) {
  const row = await ctx.db
    .selectFrom("onchain_certificates")
    .select(["id", "holder", "parent_id", "state", "receivable_id"])
    .where("id", "=", id)
    .executeTakeFirst();
  if (!row) throw notFound("Certificate", id);
  return row;
}

async function endorsementsOf(ctx: ServiceContext, certificateId: string): Promise<Endorsement[]> {
  const rows = await ctx.db
    .selectFrom("onchain_recourse_endorsements")
    .selectAll()
    .where("certificate_id", "=", certificateId)
    .orderBy("endorsement_index")
    .execute();
  return rows.map((r) => ({
    certificateId: r.certificate_id,
    endorsementIndex: Number(r.endorsement_index),
    endorser: r.endorser,
    txHash: r.tx_hash,
  }));
}

/**
 * The nearest endorsement that guarantees the leaf to `creditor`, searching from `start`
 * (latest endorsement first, below `belowIndex` on the first certificate) up through its
 * ancestors — the chain's rule: on the leaf's lineage, and not the creditor's own.
 */
async function nearestGuarantor(
  ctx: ServiceContext,
  start: string | null,
  creditor: string,
  belowIndex = Number.MAX_SAFE_INTEGER,
): Promise<Endorsement | undefined> {
  let at = start;
  let below = belowIndex;
  while (at) {
    const found = (await endorsementsOf(ctx, at))
      .filter((e) => e.endorsementIndex < below && e.endorser !== creditor)
      .pop();
    if (found) return found;
    at = (await certificate(ctx, at)).parent_id;
    below = Number.MAX_SAFE_INTEGER;
  }
  return undefined;
}

function toClaim(row: {
  id: string;
  leaf_id: string;
  receivable_id: string | null;
  kind: string;
  status: string;
  creditor: string;
  guarantor: string;
  guarantor_certificate_id: string;
  endorsement_index: number;
  amount: string;
  parent_claim_id: string | null;
  opened_tx_hash: string;
  paid_tx_hash: string | null;
}): RecourseClaimView {
  return {
    id: row.id,
    leafId: row.leaf_id,
    receivableId: row.receivable_id,
    kind: row.kind as RecourseClaimView["kind"],
    status: row.status as RecourseClaimView["status"],
    creditor: row.creditor,
    guarantor: row.guarantor,
    guarantorCertificateId: row.guarantor_certificate_id,
    endorsementIndex: Number(row.endorsement_index),
    amount: row.amount,
    parentClaimId: row.parent_claim_id && row.parent_claim_id !== "0" ? row.parent_claim_id : null,
    openedTxHash: row.opened_tx_hash,
    paidTxHash: row.paid_tx_hash,
  };
}

async function claimById(ctx: ServiceContext, id: string): Promise<RecourseClaimView> {
  const row = await ctx.db.selectFrom("onchain_recourse_claims").selectAll().where("id", "=", id).executeTakeFirst();
  if (!row) throw notFound("Recourse claim", id);
  return toClaim(row);
}

function openedClaimId(ledger: RecourseLedger, receipt: TransactionReceipt): string {
  const opened = receipt.logs
    .map((log) => decodeLog(ledger.interface, log))
    .find((parsed) => parsed?.name === "RecourseClaimOpened");
  return String(opened?.args.claimId);
}

// --- writes ------------------------------------------------------------------------------------
//
// Each write is safe to retry after the service died in the middle of it (the retry with the
// same Idempotency-Key runs inside retryInterruptedAttempt): a transaction the interrupted
// attempt got mined is answered from, never sent again. The two-step writes (approve, then
// call) look for the call first, then for an approval that still stands on the chain.

/** The holder of `certificateId` endorses it with recourse, before passing it on. */
export async function grantRecourse(
  ctx: ServiceContext,
  actor: Actor,
  certificateId: string,
): Promise<{ certificateId: string; endorsements: Endorsement[]; transactions: SentTransaction[] }> {
  const ledger = recourseLedger(ctx);
  const [granted] = await sentByInterruptedAttempt(ctx, actor.address, "grantRecourse", certificateId);
  let receipt = granted;
  if (!receipt) {
    const cert = await certificate(ctx, certificateId);
    const wallet = custodialWallet(ctx, actor, cert.holder, `holder of certificate ${certificateId}`);
    receipt = await ctx.chain.senderFor(wallet).send(await ledger.grantRecourse.populateTransaction(certificateId), {
      kind: "grantRecourse",
      ref: certificateId,
    });
  }
  await ctx.indexer.sync(receipt.blockNumber);
  ctx.log.info({ certificateId, txHash: receipt.hash }, "recourse granted");
  return {
    certificateId,
    endorsements: await endorsementsOf(ctx, certificateId),
    transactions: sentTransactions(["grantRecourse", receipt.hash]),
  };
}

/**
 * Approves the recourse ledger for `leafId` (it moves the leaf to the guarantor that pays), or,
 * on the retry of an interrupted attempt whose approval was mined and still stands, answers
 * with that approval instead of sending another.
 */
async function approveLeafOnce(
  ctx: ServiceContext,
  sender: TxSender,
  ledger: RecourseLedger,
  leafId: string,
  ref: string,
): Promise<string> {
  const { certificates } = ctx.chain.contracts;
  const interrupted = (await sentByInterruptedAttempt(ctx, sender.address, "approveRecourseLeaf", ref)).at(-1);
  if (interrupted && String(await certificates.getApproved(leafId)) === String(ledger.target)) return interrupted.hash;
  const approval = await sender.send(await certificates.approve.populateTransaction(String(ledger.target), leafId), {
    kind: "approveRecourseLeaf",
    ref,
  });
  return approval.hash;
}

/** The hash of the interrupted attempt's leaf approval about `ref`, if it sent one. */
async function interruptedLeafApproval(ctx: ServiceContext, signer: string, ref: string): Promise<string | undefined> {
  return (await sentByInterruptedAttempt(ctx, signer, "approveRecourseLeaf", ref)).at(-1)?.hash;
}

/** The holder of leaf `certificateId` claims its loss on the nearest guarantor of the leaf. */
export async function openRecourseClaim(
  ctx: ServiceContext,
  actor: Actor,
  certificateId: string,
  input: z.infer<typeof OpenRecourseClaimSchema>,
): Promise<{ claim: RecourseClaimView; transactions: SentTransaction[] }> {
  const ledger = recourseLedger(ctx);
  const openKind = input.kind === "default" ? "openDefaultClaim" : "openDilutionClaim";
  // A retry of an opening the service died in the middle of: the claim it opened is the answer.
  const [opened] = await sentByInterruptedAttempt(ctx, actor.address, openKind, certificateId);
  if (opened) {
    const approvalHash =
      input.kind === "default" ? await interruptedLeafApproval(ctx, actor.address, certificateId) : undefined;
    await ctx.indexer.sync(opened.blockNumber);
    const sent: [string, string | undefined][] =
      input.kind === "default" ? [["approveRecourseLeaf", approvalHash]] : [];
    return {
      claim: await claimById(ctx, openedClaimId(ledger, opened)),
      transactions: sentTransactions(...sent, [openKind, opened.hash]),
    };
  }
  const cert = await certificate(ctx, certificateId);
  const wallet = custodialWallet(ctx, actor, cert.holder, `holder of certificate ${certificateId}`);
  const guarantor = await nearestGuarantor(ctx, certificateId, cert.holder);
  if (!guarantor)
    throw unprocessable(
      "RECOURSE_NO_GUARANTOR",
      `no endorsement with recourse guarantees certificate ${certificateId}`,
      {
        certificateId,
      },
    );
  const sender = ctx.chain.senderFor(wallet);
  const sent: [string, string][] = [];
  if (input.kind === "default") {
    // The leaf goes to the guarantor when the claim is paid: the ledger must be approved for it.
    sent.push(["approveRecourseLeaf", await approveLeafOnce(ctx, sender, ledger, certificateId, certificateId)]);
  }
  const receipt =
    input.kind === "default"
      ? await sender.send(
          await ledger.openDefaultClaim.populateTransaction(
            certificateId,
            guarantor.certificateId,
            guarantor.endorsementIndex,
          ),
          { kind: openKind, ref: certificateId },
        )
      : await sender.send(
          await ledger.openDilutionClaim.populateTransaction(
            certificateId,
            wallet.address,
            guarantor.certificateId,
            guarantor.endorsementIndex,
          ),
          { kind: openKind, ref: certificateId },
        );
  sent.push([openKind, receipt.hash]);
  await ctx.indexer.sync(receipt.blockNumber);
  const claimId = openedClaimId(ledger, receipt);
  ctx.log.info(
    { certificateId, claimId, kind: input.kind, guarantor: guarantor.endorser, txHash: receipt.hash },
    "recourse claim opened",
  );
  return { claim: await claimById(ctx, claimId), transactions: sentTransactions(...sent) };
}

/** The lock one guarantor's payments take, one at a time. */
export const recoursePaymentLock = (address: string): string => `recourse-payment:${address.toLowerCase()}`;

/** The guarantor pays an open claim: exactly the amount approved to the ledger, then paid. */
export async function payRecourseClaim(
  ctx: ServiceContext,
  actor: Actor,
  claimId: string,
): Promise<{ claim: RecourseClaimView; transactions: SentTransaction[] }> {
  const ledger = recourseLedger(ctx);
  // A retry of a payment the service died in the middle of: the payment it sent is the answer.
  const [paidBefore] = await sentByInterruptedAttempt(ctx, actor.address, "payRecourseClaim", claimId);
  if (paidBefore) {
    const approved = (await sentByInterruptedAttempt(ctx, actor.address, "approveRecourseClaim", claimId)).at(0);
    await ctx.indexer.sync(paidBefore.blockNumber);
    return {
      claim: await claimById(ctx, claimId),
      transactions: sentTransactions(["approveRecourseClaim", approved?.hash], ["payRecourseClaim", paidBefore.hash]),
    };
  }
  const wallet = custodialWallet(
    ctx,
    actor,
    (await claimById(ctx, claimId)).guarantor,
    `guarantor of recourse claim ${claimId}`,
  );
  // One payment at a time per guarantor: the ledger's allowance is one number per owner, so a
  // second payment's approval would overwrite the first's before it is spent (financing's
  // fundingLock, for the market's allowance).
  const { claim, approveHash, receipt } = await withLock(ctx.db, recoursePaymentLock(wallet.address), async () => {
    const claim = await claimById(ctx, claimId);
    if (claim.status !== "open")
      throw conflict("RECOURSE_CLAIM_WRONG_STATUS", `recourse claim ${claimId} is ${claim.status}`, {
        claimId,
        status: claim.status,
      });
    const paid = await payThroughExactAllowance(
      ctx,
      ctx.chain.senderFor(wallet),
      { spender: String(ledger.target), amount: await amountDue(ctx, claim), kind: "approveRecourseClaim" },
      { kind: "payRecourseClaim", ref: claimId, request: () => ledger.payClaim.populateTransaction(claimId) },
    );
    await ctx.indexer.sync(paid.receipt.blockNumber);
    return { claim, ...paid };
  });
  ctx.log.info({ claimId, leafId: claim.leafId, amount: claim.amount, txHash: receipt.hash }, "recourse claim paid");
  return {
    claim: await claimById(ctx, claimId),
    transactions: sentTransactions(["approveRecourseClaim", approveHash], ["payRecourseClaim", receipt.hash]),
  };
}

/**
 * What payClaim takes: a default claim no more than its leaf is still owed (a late payment made
 * part of the loss good; RecourseLedger), so the approval is exact and leaves no allowance behind.
 */
async function amountDue(ctx: ServiceContext, claim: RecourseClaimView): Promise<bigint> {
  const amount = BigInt(claim.amount);
  if (claim.kind !== "default") return amount;
  // A deployment with a recourse ledger has the dilution ledger it reads claims from.
  const { dilution, escrow } = ctx.chain.contracts;
  const unpaid =
    BigInt(await dilution!.getFunction("claimOf")(claim.leafId)) -
    BigInt(await escrow.getFunction("paidOutOf")(claim.leafId));
  return unpaid < amount ? unpaid : amount;
}

/** A guarantor that paid passes the claim to the nearest endorsement above its own. */
export async function escalateRecourseClaim(
  ctx: ServiceContext,
  actor: Actor,
  claimId: string,
): Promise<{ claim: RecourseClaimView; transactions: SentTransaction[] }> {
  const ledger = recourseLedger(ctx);
  const paid = await claimById(ctx, claimId);
  // A retry of an escalation the service died in the middle of: the claim it opened is the answer.
  const [escalated] = await sentByInterruptedAttempt(ctx, actor.address, "escalateRecourseClaim", claimId);
  if (escalated) {
    const approvalHash =
      paid.kind === "default" ? await interruptedLeafApproval(ctx, actor.address, claimId) : undefined;
    await ctx.indexer.sync(escalated.blockNumber);
    const sent: [string, string | undefined][] = paid.kind === "default" ? [["approveRecourseLeaf", approvalHash]] : [];
    return {
      claim: await claimById(ctx, openedClaimId(ledger, escalated)),
      transactions: sentTransactions(...sent, ["escalateRecourseClaim", escalated.hash]),
    };
  }
  const wallet = custodialWallet(ctx, actor, paid.guarantor, `guarantor of recourse claim ${claimId}`);
  // Strictly above: earlier on the same certificate, then up through its ancestors.
  const above = await nearestGuarantor(ctx, paid.guarantorCertificateId, paid.guarantor, paid.endorsementIndex);
  if (!above)
    throw unprocessable("RECOURSE_NO_GUARANTOR", `no endorsement above the one that paid recourse claim ${claimId}`, {
      claimId,
    });
  const sender = ctx.chain.senderFor(wallet);
  const sent: [string, string][] = [];
  if (paid.kind === "default") {
    // The guarantor that paid now holds the leaf; it goes on up when the next claim is paid.
    sent.push(["approveRecourseLeaf", await approveLeafOnce(ctx, sender, ledger, paid.leafId, claimId)]);
  }
  const receipt = await sender.send(
    await ledger.escalate.populateTransaction(claimId, above.certificateId, above.endorsementIndex),
    { kind: "escalateRecourseClaim", ref: claimId },
  );
  sent.push(["escalateRecourseClaim", receipt.hash]);
  await ctx.indexer.sync(receipt.blockNumber);
  const newClaimId = openedClaimId(ledger, receipt);
  ctx.log.info({ claimId, newClaimId, guarantor: above.endorser, txHash: receipt.hash }, "recourse claim escalated");
  return { claim: await claimById(ctx, newClaimId), transactions: sentTransactions(...sent) };
}

// --- reads -------------------------------------------------------------------------------------

const CLAIM_ORDER = {
  columns: ["opened_block", "id"],
  shape: ["n", "s"],
  direction: "desc",
  keyOf: (row: { opened_block: number; id: string }) => [Number(row.opened_block), row.id],
} as const;

/** The claims a party is owed (creditor) or owes (guarantor), newest first. */
export async function listRecourseClaims(
  ctx: ServiceContext,
  actor: Actor,
  query: z.infer<typeof ListRecourseClaimsQuery>,
): Promise<Page<RecourseClaimView>> {
  const party = await findPartyById(ctx.db, query.partyId);
  if (query.partyId !== actor.id) {
    // A party's claims are part of its book: the policy's exposure row says who may read them.
    const relations = party ? await relationsToParty(ctx.db, actor, party) : roleRelations(actor);
    requireAccess("exposure", relations, `party ${query.partyId}`);
  }
  if (!party) throw notFound("Party", query.partyId);
  const address = party.address;
  const page = await keysetPage(
    ctx.db
      .selectFrom("onchain_recourse_claims")
      .selectAll()
      .where((eb) => eb.or([eb("creditor", "=", address), eb("guarantor", "=", address)])),
    CLAIM_ORDER,
    query,
  );
  return mapPage(page, toClaim);
}
