// Use cases on repayment: the debtor pays a receivable (in full, in part, or early at its
// dynamic discount), anyone entitled reads the repayments, the operator sets a debtor's
// early-payment rate. The contracts decide; the service refuses early, with the contract's
// own error, what the contract would refuse anyway, so no approval is ever left behind
// for a payment that cannot happen.
import { withLock } from "../store/locks.js";
import { keysetPage } from "../store/paginate.js";
import { PageQuery } from "../model/page.js";
import { PartyRefSchema } from "../model/party-refs.js";
import { PartyRefs } from "../store/party-refs.js";
import { deprecatedFor, sentTransactions, transactionsSchema } from "../model/transactions.js";
import { Wallet, type BaseContract, type TransactionReceipt } from "ethers";
import { z } from "zod";
import type { ServiceContext } from "../context.js";
import { AppError, conflict, forbidden, notFound } from "../model/errors.js";
import { chainError, decodeRevert } from "../chain/revert-errors.js";
import type { TxSender } from "../chain/tx-sender.js";
import { sentByInterruptedAttempt } from "./interrupted-attempt.js";
import { findPartyById } from "../store/parties-store.js";
import { requireRole, type Actor } from "../model/actor.js";
import { requireAccess } from "../model/access-policy.js";
import { ReceivableRelations } from "../store/access-relations.js";
import { getReceivableView, partyIdOrAddress, ReceivableViewSchema, type ReceivableView } from "./receivable-view.js";
import { AmountString, PositiveAmountString } from "../model/money.js";
import { RECEIVABLE_STATUSES, type ReceivableStatus } from "../model/contract-enums.js";
import { decodeLog } from "../chain/event-decoder.js";

const YEAR = 365n * 24n * 60n * 60n;
const BPS = 10_000n;

/**
 * Seconds allowed between the quote and the block that mines an early repayment. The quote
 * rises as maturity nears (the discount shrinks every second), so the default limit is the
 * quote as it will be this many seconds after the latest block: the debtor pays the quote of
 * the mining block, never more than this limit.
 */
export const EARLY_QUOTE_ALLOWANCE_SECONDS = 60n;

export const RepaySchema = z
  .union([
    z.object({ amount: PositiveAmountString }).strict(),
    z
      .object({
        early: z.literal(true),
        maxAmount: PositiveAmountString.optional().meta({
          description: `The most the debtor will pay; defaults to the quote ${EARLY_QUOTE_ALLOWANCE_SECONDS} s after the latest block`,
        }),
      })
      .strict(),
  ])
  .meta({
    id: "Repayment",
    description:
      "{ amount } pays that much (full or partial); { early: true, maxAmount? } discharges the whole receivable now at the debtor's early-payment discount",
  });
export type Repay = z.infer<typeof RepaySchema>;

export const RepaidSchema = z
  .object({
    receivable: ReceivableViewSchema,
    transactions: transactionsSchema,
    txHash: z.string().meta(deprecatedFor("transactions")),
    paid: AmountString,
    discount: AmountString.meta({ description: "Given up by the holders for an early discharge; 0 otherwise" }),
    early: z.boolean(),
  })
  .meta({ id: "Repaid" });
export type Repaid = z.infer<typeof RepaidSchema>;

export const EarlyQuoteSchema = z
  .object({
    amount: AmountString,
    discount: AmountString,
    rateBps: z.number().int(),
    asOf: z.string().meta({ description: "Chain time of the block the quote was read at" }),
    blockNumber: z.number().int(),
  })
  .meta({ id: "EarlyRepaymentQuote" });

const RepaymentSchema = z.object({
  payerAddress: z.string(),
  payerPartyId: z.string().meta({
    ...deprecatedFor("payer"),
    description: "Deprecated: read payer instead (this field holds the address when no party here has it)",
  }),
  payer: PartyRefSchema,
  amount: AmountString,
  repaidAmount: AmountString.meta({
    description: "The receivable's cumulative repaid amount after this payment",
  }),
  txHash: z.string(),
  blockNumber: z.number().int(),
});

export const RepaymentListSchema = z
  .object({
    receivableId: z.string(),
    status: z.string(),
    faceValue: AmountString,
    repaidAmount: AmountString,
    outstanding: AmountString,
    distributed: AmountString.meta({ description: "Paid out to holders and pledgees so far (and dust swept back)" }),
    earlyPaymentRateBps: z.number().int(),
    earlyQuote: EarlyQuoteSchema.nullable(),
    items: z.array(RepaymentSchema).meta({ description: "One page of the repayments, in chain order" }),
    nextCursor: z
      .string()
      .nullable()
      .meta({ description: "Pass as ?cursor= for the next page; null when this is the last page" }),
    repayments: z.array(RepaymentSchema).meta({ description: "The same items (deprecated name)" }),
  })
  .meta({ id: "Repayments" });
export type RepaymentList = z.infer<typeof RepaymentListSchema>;

export const EarlyPaymentRateSchema = z
  .object({
    rateBps: z
      .number()
      .int()
      .min(0)
      .max(10_000)
      .meta({ description: "Annual discount in basis points; 0 switches early payment off" }),
  })
  .strict()
  .meta({ id: "EarlyPaymentRate" });

export const EarlyPaymentRateSetSchema = z
  .object({
    partyId: z.string(),
    address: z.string(),
    rateBps: z.number().int(),
    transactions: transactionsSchema,
    txHash: z.string().meta(deprecatedFor("transactions")),
  })
  .meta({ id: "EarlyPaymentRateSet" });

interface ChainReceivable {
  debtor: string;
  status: ReceivableStatus;
  dueDate: bigint;
  faceValue: bigint;
  repaidAmount: bigint;
  /** Credit notes applied (issue 16): the debtor owes face - credited. */
  credited: bigint;
  /** The early-payment rate frozen into the receivable at registration. */
  earlyPaymentRateBps: bigint;
}

async function readReceivable(ctx: ServiceContext, receivableId: string, blockTag?: number): Promise<ChainReceivable> {
  const overrides = blockTag === undefined ? {} : { blockTag };
  const r = await ctx.chain.contracts.registry.receivableOf(receivableId, overrides);
  const credited = BigInt(await ctx.chain.contracts.registry.creditedOf(receivableId, overrides));
  return {
    credited,
    debtor: r.debtor as string,
    status: RECEIVABLE_STATUSES[Number(r.status)] ?? "none",
    dueDate: BigInt(r.dueDate),
    faceValue: BigInt(r.faceValue),
    repaidAmount: BigInt(r.repaidAmount),
    earlyPaymentRateBps: BigInt(r.earlyPaymentRateBps),
  };
}

/** The early-repayment amount at chain time `at`: the contract's formula, rounded the same way. */
export function earlyAmountAt(outstanding: bigint, rateBps: bigint, dueDate: bigint, at: bigint): bigint {
  if (at >= dueDate) return outstanding;
  return outstanding - (outstanding * rateBps * (dueDate - at)) / (BPS * YEAR);
}

// One repayment at a time per debtor: an approval and the payment it is for are two
// transactions, and a second payment's approval must not replace the first one's in between
// (in any replica: the lock is shared through the database).
const repaymentLock = (address: string): string => `repayment:${address.toLowerCase()}`;

async function debtorWallet(
  ctx: ServiceContext,
  actor: Actor,
  receivableId: string,
  chain: ChainReceivable,
): Promise<Wallet> {
  if (chain.debtor !== actor.address) {
    throw forbidden(`party ${actor.id} is not the debtor of receivable ${receivableId}`, { receivableId });
  }
  if (!actor.custodial || !actor.encryptedKey) {
    throw conflict(
      "NON_CUSTODIAL_PARTY",
      "this party keeps its own key: approve the settlement token and call the escrow from its wallet",
      {
        settlementEscrow: ctx.chain.deployment.addresses.settlementEscrow,
        settlementToken: ctx.chain.deployment.addresses.settlementToken,
      },
    );
  }
  return new Wallet(ctx.vault.decrypt(actor.encryptedKey));
}

async function loadOnChain(ctx: ServiceContext, actor: Actor, receivableId: string): Promise<ChainReceivable> {
  const chain = await readReceivable(ctx, receivableId);
  if (chain.status === "none") {
    const offChain = await ctx.db
      .selectFrom("receivables")
      .select(["status", "debtor_id"])
      .where("id", "=", receivableId)
      .executeTakeFirst();
    if (!offChain) throw notFound("Receivable", receivableId);
    if (offChain.debtor_id !== actor.id)
      throw forbidden(`party ${actor.id} is not the debtor of receivable ${receivableId}`, { receivableId });
    throw conflict(
      "RECEIVABLE_NOT_REGISTERED",
      `receivable ${receivableId} is not on the chain yet (${offChain.status}): there is nothing to repay`,
      {
        receivableId,
        status: offChain.status,
      },
    );
  }
  return chain;
}

async function requireBalance(ctx: ServiceContext, address: string, needed: bigint): Promise<void> {
  const balance = BigInt(await ctx.chain.contracts.token.balanceOf(address));
  if (balance < needed) {
    throw conflict("INSUFFICIENT_BALANCE", `the debtor holds ${balance} of the settlement token; ${needed} is needed`, {
      balance: balance.toString(),
      needed: needed.toString(),
    });
  }
}

/**
 * Simulates the payment from the debtor before anything is approved. The escrow asks the
 * registry first (status, outstanding amount) and pulls the tokens last, so a simulation
 * that only lacks the allowance means the contract would take the payment.
 */
async function simulate(payment: () => Promise<unknown>): Promise<void> {
  try {
    await payment();
  } catch (error) {
    const refusal = decodeRevert(error);
    // Only the token's refusals are left: the allowance comes next, the balance is checked apart.
    if (refusal?.code === "ERC20_INSUFFICIENT_ALLOWANCE" || refusal?.code === "ERC20_INSUFFICIENT_BALANCE") return;
    throw chainError(error);
  }
}

function eventArgs(
  receipt: TransactionReceipt,
  contract: BaseContract,
  name: string,
): Record<string, unknown> | undefined {
  const address = String(contract.target).toLowerCase();
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== address) continue;
    const parsed = decodeLog(contract.interface, log);
    if (parsed?.name === name) return parsed.args.toObject();
  }
  return undefined;
}

export async function repayReceivable(
  ctx: ServiceContext,
  actor: Actor,
  receivableId: string,
  input: Repay,
): Promise<Repaid> {
  const chain = await loadOnChain(ctx, actor, receivableId);
  const wallet = await debtorWallet(ctx, actor, receivableId, chain);
  const log = ctx.log.child({ receivableId, debtorId: actor.id });
  return withLock(ctx.db, repaymentLock(actor.address), async () => {
    const { escrow, token } = ctx.chain.contracts;
    const sender = ctx.chain.senderFor(wallet);
    const escrowAddress = ctx.chain.deployment.addresses.settlementEscrow;

    // A retry of a repayment the service died in the middle of: the payment it sent stands
    // and is the answer. Sending it again would make the debtor pay twice.
    const repayKind = "amount" in input ? "repay" : "repayEarly";
    const [interrupted] = await sentByInterruptedAttempt(ctx, actor.address, repayKind, receivableId);
    let approvalHash: string | undefined;
    // `approved`: what the escrow may pull. A payment: exactly its amount. Early: the limit,
    // but never more than the outstanding amount, which no quote can exceed.
    let approved: bigint;
    let send: () => Promise<TransactionReceipt>;
    if (interrupted) {
      approved = 0n;
      send = async () => interrupted;
    } else if ("amount" in input) {
      const amount = BigInt(input.amount);
      await simulate(() => escrow.repay.staticCall(receivableId, amount, { from: actor.address }));
      approved = amount;
      send = async () =>
        sender.send(await escrow.repay.populateTransaction(receivableId, amount), {
          kind: "repay",
          ref: receivableId,
        });
    } else {
      const limit =
        input.maxAmount === undefined ? await defaultEarlyLimit(ctx, receivableId) : BigInt(input.maxAmount);
      await simulate(() => escrow.repayEarly.staticCall(receivableId, limit, { from: actor.address }));
      const outstanding = chain.faceValue - chain.credited - chain.repaidAmount;
      approved = limit < outstanding ? limit : outstanding;
      send = async () =>
        sender.send(await escrow.repayEarly.populateTransaction(receivableId, limit), {
          kind: "repayEarly",
          ref: receivableId,
        });
    }
    if (!interrupted) {
      await requireBalance(ctx, actor.address, approved);
      const approval = await sender.send(await token.approve.populateTransaction(escrowAddress, approved), {
        kind: "approve",
        ref: receivableId,
      });
      approvalHash = approval.hash;
      log.info({ txHash: approval.hash, amount: approved.toString() }, "settlement token approved for the escrow");
    }
    let receipt: TransactionReceipt;
    try {
      receipt = await send();
    } catch (error) {
      // Refused after all (the chain moved between the simulation and now): no approval stays behind.
      await revokeLeftover(ctx, sender, escrowAddress, receivableId);
      throw error;
    }
    await ctx.indexer.sync(receipt.blockNumber);

    const received = eventArgs(receipt, escrow, "RepaymentReceived");
    const discharged = eventArgs(receipt, ctx.chain.contracts.registry, "ReceivableDischargedEarly");
    const paid = BigInt((received?.amount as bigint | undefined) ?? approved);
    const discount = BigInt((discharged?.discount as bigint | undefined) ?? 0n);
    const revokeHash = paid < approved ? await revokeLeftover(ctx, sender, escrowAddress, receivableId) : undefined;
    log.info(
      { txHash: receipt.hash, paid: paid.toString(), discount: discount.toString(), early: !("amount" in input) },
      "repayment received",
    );
    const receivable: ReceivableView = await getReceivableView(ctx, actor, receivableId);
    return {
      receivable,
      transactions: sentTransactions(
        ["approve", approvalHash],
        [repayKind, receipt.hash],
        ["revokeApproval", revokeHash],
      ),
      txHash: receipt.hash,
      paid: paid.toString(),
      discount: discount.toString(),
      early: !("amount" in input),
    };
  });
}

/**
 * An early repayment pays the quote of its block, at most the approved limit; a payment the
 * chain refused after its approval pays nothing: what is left of the approval is withdrawn,
 * so no allowance outlives the payment it was for. Best effort: only the debtor's own call
 * to the escrow could ever use the rest.
 */
async function revokeLeftover(
  ctx: ServiceContext,
  sender: TxSender,
  escrowAddress: string,
  receivableId: string,
): Promise<string | undefined> {
  try {
    const receipt = await sender.send(await ctx.chain.contracts.token.approve.populateTransaction(escrowAddress, 0n), {
      kind: "approve",
      ref: receivableId,
    });
    ctx.log.info({ receivableId, txHash: receipt.hash }, "unused settlement-token approval withdrawn");
    return receipt.hash;
  } catch (error) {
    ctx.log.warn({ receivableId, err: error }, "could not withdraw the unused approval; the repayment stands");
    return undefined;
  }
}

/**
 * The default limit of an early repayment: the contract's own quote (which refuses with the
 * contract's error when early payment is not available), projected
 * EARLY_QUOTE_ALLOWANCE_SECONDS past the latest block with the contract's formula.
 */
async function defaultEarlyLimit(ctx: ServiceContext, receivableId: string): Promise<bigint> {
  const block = await ctx.chain.provider.getBlock("latest");
  if (!block) throw new AppError("CHAIN_UNAVAILABLE", 503, "the chain has no latest block");
  const blockTag = block.number;
  let quoted: bigint;
  try {
    [quoted] = (await ctx.chain.contracts.escrow.earlyRepaymentQuote(receivableId, { blockTag })) as [bigint, bigint];
  } catch (error) {
    throw chainError(error);
  }
  const chain = await readReceivable(ctx, receivableId, blockTag);
  const rateBps = chain.earlyPaymentRateBps; // frozen at registration, not the debtor's current rate
  const outstanding = chain.faceValue - chain.credited - chain.repaidAmount;
  const limit = earlyAmountAt(
    outstanding,
    rateBps,
    chain.dueDate,
    BigInt(block.timestamp) + EARLY_QUOTE_ALLOWANCE_SECONDS,
  );
  return limit > quoted ? limit : quoted;
}

/** A receivable's repayment events: a keyset read of chain_events_by_receivable. */
export function repaymentEventsQuery(ctx: ServiceContext, receivableId: string) {
  return ctx.db
    .selectFrom("chain_events")
    .select(["block_number", "log_index", "tx_hash", "args"])
    .where("receivable_id", "=", receivableId)
    .where("contract", "=", "escrow")
    .where("name", "=", "RepaymentReceived");
}

export const REPAYMENT_ORDER = {
  columns: ["block_number", "log_index"],
  shape: ["n", "n"],
  direction: "asc",
  keyOf: (row: { block_number: number; log_index: number }) => [row.block_number, row.log_index],
} as const;

export const ListRepaymentsQuery = PageQuery;

export async function listRepayments(
  ctx: ServiceContext,
  actor: Actor,
  receivableId: string,
  query: PageQuery,
): Promise<RepaymentList> {
  const exists = await ctx.db.selectFrom("receivables").select("id").where("id", "=", receivableId).executeTakeFirst();
  if (!exists) throw notFound("Receivable", receivableId);
  const relations = (await ReceivableRelations.load(ctx.db, actor, receivableId)).toReceivable();
  requireAccess("repayment", relations, `receivable ${receivableId}`);
  const indexed = await ctx.db
    .selectFrom("onchain_receivables")
    .selectAll()
    .where("id", "=", receivableId)
    .executeTakeFirst();
  if (!indexed) {
    throw conflict(
      "RECEIVABLE_NOT_REGISTERED",
      `receivable ${receivableId} is not on the chain yet: there are no repayments`,
      { receivableId },
    );
  }
  // One page of this receivable's RepaymentReceived events, in chain order (chain_events_by_receivable).
  const page = await keysetPage(repaymentEventsQuery(ctx, receivableId), REPAYMENT_ORDER, query);
  const repayments = [];
  const refs = new PartyRefs(ctx.db);
  for (const event of page.items) {
    const args = JSON.parse(event.args) as Record<string, string>;
    repayments.push({
      payerAddress: args.payer!,
      payerPartyId: await partyIdOrAddress(ctx, args.payer!),
      payer: await refs.of(args.payer!),
      amount: args.amount!,
      repaidAmount: args.repaidAmount!,
      txHash: event.tx_hash,
      blockNumber: event.block_number,
    });
  }
  // The rate this receivable was registered with (later rate changes apply to later receivables).
  const rateBps = Number((await readReceivable(ctx, receivableId)).earlyPaymentRateBps);
  return {
    receivableId,
    status: indexed.status,
    faceValue: indexed.face_value,
    repaidAmount: indexed.repaid_amount,
    outstanding: (BigInt(indexed.face_value) - BigInt(indexed.credited) - BigInt(indexed.repaid_amount)).toString(),
    distributed: indexed.distributed,
    earlyPaymentRateBps: rateBps,
    earlyQuote: rateBps > 0 ? await currentEarlyQuote(ctx, receivableId, rateBps) : null,
    items: repayments,
    nextCursor: page.nextCursor,
    repayments,
  };
}

/** The quote at the latest block, or null when the contract would refuse early payment now. */
async function currentEarlyQuote(
  ctx: ServiceContext,
  receivableId: string,
  rateBps: number,
): Promise<z.infer<typeof EarlyQuoteSchema> | null> {
  const block = await ctx.chain.provider.getBlock("latest");
  if (!block) return null;
  try {
    const [amount, discount] = (await ctx.chain.contracts.escrow.earlyRepaymentQuote(receivableId, {
      blockTag: block.number,
    })) as [bigint, bigint];
    return {
      amount: amount.toString(),
      discount: discount.toString(),
      rateBps,
      asOf: new Date(block.timestamp * 1000).toISOString(),
      blockNumber: block.number,
    };
  } catch (error) {
    if (decodeRevert(error)) return null; // not active, or already due
    throw chainError(error);
  }
}

export async function setEarlyPaymentRate(
  ctx: ServiceContext,
  actor: Actor,
  partyId: string,
  input: z.infer<typeof EarlyPaymentRateSchema>,
): Promise<z.infer<typeof EarlyPaymentRateSetSchema>> {
  requireRole(actor, "operator");
  const party = await findPartyById(ctx.db, partyId);
  if (!party) throw notFound("Party", partyId);
  const request = await ctx.chain.contracts.registry.setEarlyPaymentRate.populateTransaction(
    party.address,
    input.rateBps,
  );
  const receipt = await ctx.chain.registrar.send(request, { kind: "setEarlyPaymentRate", ref: partyId });
  await ctx.indexer.sync(receipt.blockNumber);
  ctx.log.info({ partyId, txHash: receipt.hash, rateBps: input.rateBps }, "early-payment rate set");
  return {
    partyId,
    address: party.address,
    rateBps: input.rateBps,
    transactions: sentTransactions(["setEarlyPaymentRate", receipt.hash]),
    txHash: receipt.hash,
  };
}
