// Use cases an operator and a party need that are not part of one receivable's story:
// suspend and reactivate a party (off-chain and in the on-chain party registry), fund a
// party with the local chain's test token, and withdraw payments the escrow kept for a
// party because its token refused the push. Each answers the transaction envelope.
import { Wallet, getAddress } from "ethers";
import { z } from "zod";
import type { ServiceContext } from "../context.js";
import { requireAccess } from "../model/access-policy.js";
import type { Actor } from "../model/actor.js";
import { conflict, notFound } from "../model/errors.js";
import { AmountString, PositiveAmountString } from "../model/money.js";
import { PartySchema } from "../model/parties-schema.js";
import { transactionsSchema, type SentTransaction } from "../model/transactions.js";
import { withLock } from "../store/locks.js";
import { findPartyById, publicParty } from "../store/parties-store.js";
import { sentByInterruptedAttempt } from "./interrupted-attempt.js";
import { decodeLog } from "../chain/event-decoder.js";

export const PartyStatusOutcomeSchema = z
  .object({ party: PartySchema, transactions: transactionsSchema })
  .meta({ id: "PartyStatusOutcome" });

export const TestFundsSchema = z.object({ amount: PositiveAmountString }).strict().meta({ id: "TestFunds" });
export const TestFundsOutcomeSchema = z
  .object({
    partyId: z.string(),
    address: z.string(),
    amount: AmountString,
    balance: AmountString.describe("the party's settlement-token balance afterwards"),
    transactions: transactionsSchema,
  })
  .meta({ id: "TestFundsOutcome" });

export const HeldPaymentsSchema = z
  .object({
    address: z.string(),
    claimable: AmountString.describe("payments the escrow kept because the token refused to push them"),
  })
  .meta({ id: "HeldPayments" });
export const WithdrawHeldSchema = z
  .object({
    to: z
      .string()
      .regex(/^0x[0-9a-fA-F]{40}$/)
      .optional()
      .describe("where to send them; default: the party's own address"),
  })
  .strict()
  .meta({ id: "WithdrawHeldPayments" });
export const WithdrawnSchema = z
  .object({ amount: AmountString, to: z.string(), transactions: transactionsSchema })
  .meta({ id: "HeldPaymentsWithdrawn" });

/* ------------------------------------------------------------------ */
/*                          Suspend / reactivate                      */
/* ------------------------------------------------------------------ */

/** One status change per party at a time, across replicas: the check of the registry and the send are one step. */
export function setPartyActive(
  ctx: ServiceContext,
  partyId: string,
  active: boolean,
): Promise<z.input<typeof PartyStatusOutcomeSchema>> {
  return withLock(ctx.db, `party-status:${partyId}`, () => changePartyStatus(ctx, partyId, active));
}

async function changePartyStatus(
  ctx: ServiceContext,
  partyId: string,
  active: boolean,
): Promise<z.input<typeof PartyStatusOutcomeSchema>> {
  const party = await findPartyById(ctx.db, partyId);
  if (!party) throw notFound("Party", partyId);
  if (party.id === ctx.operatorId) throw conflict("PARTY_IS_OPERATOR", "the operator cannot suspend itself");
  if (party.status === "registering")
    throw conflict("PARTY_REGISTERING", `party ${partyId} is still being registered; try again shortly`);
  const kind = active ? "reactivateParty" : "suspendParty";
  const transactions: SentTransaction[] = [];
  const [interrupted] = await sentByInterruptedAttempt(ctx, ctx.chain.partyManager.address, kind, partyId);
  if (interrupted) transactions.push({ kind, hash: interrupted.hash });
  else if ((await ctx.chain.contracts.parties.isActive(party.address)) !== active) {
    const request = await ctx.chain.contracts.parties.setPartyActive.populateTransaction(party.address, active);
    const receipt = await ctx.chain.partyManager.send(request, { kind, ref: partyId });
    await ctx.indexer.sync(receipt.blockNumber);
    transactions.push({ kind, hash: receipt.hash });
  }
  const status = active ? "active" : "suspended";
  await ctx.db.updateTable("parties").set({ status }).where("id", "=", partyId).execute();
  ctx.log.info({ partyId, status, txHash: transactions[0]?.hash }, active ? "party reactivated" : "party suspended");
  return { party: publicParty({ ...party, status }), transactions };
}

/* ------------------------------------------------------------------ */
/*                      Test funds on the local chain                 */
/* ------------------------------------------------------------------ */

export async function fundWithTestTokens(
  ctx: ServiceContext,
  partyId: string,
  amount: bigint,
): Promise<z.input<typeof TestFundsOutcomeSchema>> {
  if (!ctx.chain.deployment.localToken)
    throw conflict(
      "NOT_A_TEST_TOKEN",
      "the settlement token is a real ERC-20 here: only the local chain's test token can be minted",
      { settlementToken: ctx.chain.deployment.addresses.settlementToken },
    );
  const party = await findPartyById(ctx.db, partyId);
  if (!party) throw notFound("Party", partyId);
  const { token } = ctx.chain.contracts;
  const [interrupted] = await sentByInterruptedAttempt(ctx, ctx.chain.registrar.address, "mintTestFunds", partyId);
  let hash: string;
  if (interrupted) hash = interrupted.hash;
  else {
    const request = await token.mint.populateTransaction(party.address, amount);
    hash = (await ctx.chain.registrar.send(request, { kind: "mintTestFunds", ref: partyId })).hash;
  }
  const balance = await token.balanceOf(party.address);
  ctx.log.info({ partyId, amount: amount.toString(), txHash: hash }, "party funded with test tokens");
  return {
    partyId,
    address: party.address,
    amount: amount.toString(),
    balance: balance.toString(),
    transactions: [{ kind: "mintTestFunds", hash }],
  };
}

/* ------------------------------------------------------------------ */
/*                             Held payments                          */
/* ------------------------------------------------------------------ */

export async function heldPayments(ctx: ServiceContext, actor: Actor): Promise<z.input<typeof HeldPaymentsSchema>> {
  // The caller asks about itself: the policy's "self" cell.
  requireAccess("heldPayments", ["self"], actor.id);
  const claimable = await ctx.chain.contracts.escrow.claimableOf(actor.address);
  return { address: actor.address, claimable: claimable.toString() };
}

/** One withdrawal per party at a time, across replicas: a second one waits and finds nothing left. */
export function withdrawHeldPayments(
  ctx: ServiceContext,
  actor: Actor,
  to: string | undefined,
): Promise<z.input<typeof WithdrawnSchema>> {
  return withLock(ctx.db, `withdraw-held:${actor.address.toLowerCase()}`, () => withdrawHeld(ctx, actor, to));
}

async function withdrawHeld(
  ctx: ServiceContext,
  actor: Actor,
  to: string | undefined,
): Promise<z.input<typeof WithdrawnSchema>> {
  const recipient = getAddress((to ?? actor.address).toLowerCase());
  const { escrow } = ctx.chain.contracts;
  const [interrupted] = await sentByInterruptedAttempt(ctx, actor.address, "withdrawHeld", actor.id);
  if (interrupted) {
    const withdrawn = interrupted.logs
      .map((log) =>
        log.address.toLowerCase() === String(escrow.target).toLowerCase() ? decodeLog(escrow.interface, log) : null,
      )
      .find((parsed) => parsed?.name === "Withdrawn");
    return {
      amount: withdrawn ? (withdrawn.args.amount as bigint).toString() : "0",
      to: recipient,
      transactions: [{ kind: "withdrawHeld", hash: interrupted.hash }],
    };
  }
  const claimable = await escrow.claimableOf(actor.address);
  if (claimable === 0n)
    throw conflict("NOTHING_TO_WITHDRAW", `the escrow holds no payments for ${actor.address}`, {
      address: actor.address,
    });
  if (!actor.custodial || !actor.encryptedKey)
    throw conflict(
      "NON_CUSTODIAL_PARTY",
      "this party keeps its own key: call SettlementEscrow.withdraw from its wallet",
      {
        settlementEscrow: ctx.chain.deployment.addresses.settlementEscrow,
        claimable: claimable.toString(),
      },
    );
  const wallet = new Wallet(ctx.vault.decrypt(actor.encryptedKey));
  const request = await escrow.withdraw.populateTransaction(recipient);
  const receipt = await ctx.chain.senderFor(wallet).send(request, { kind: "withdrawHeld", ref: actor.id });
  await ctx.indexer.sync(receipt.blockNumber);
  ctx.log.info({ partyId: actor.id, amount: claimable.toString(), txHash: receipt.hash }, "held payments withdrawn");
  return { amount: claimable.toString(), to: recipient, transactions: [{ kind: "withdrawHeld", hash: receipt.hash }] };
}
