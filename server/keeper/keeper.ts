// The keeper: every interval, one pass that marks receivables overdue and defaulted on
// chain time, pays every leaf of every repaid (or partly repaid) receivable what is due
// to it, in batches the escrow accepts, and sweeps the rounding dust of closed
// receivables back to their debtors. It keeps no state: each pass derives its work from
// the chain and the index, so a restart neither loses nor repeats anything (the escrow's
// paidOut accounting makes a second payment impossible; the keeper never even tries one).
// Transactions go through the keeper key's own queue (a key with no role: upkeep is
// permissionless), which simulates each one first.
import PQueue from "p-queue";
import type { BaseContract, ContractTransaction, TransactionReceipt } from "ethers";
import type { ServiceContext } from "../context.js";
import { AppError } from "../model/errors.js";
import { crashPoint } from "../faults.js";
import { findDueMarks, findSettlementCandidates, planSettlement } from "./work.js";
import { decodeLog } from "../chain/event-decoder.js";

export interface KeeperPass {
  /** Leaf payments made (LeafSettled events emitted by the keeper's settle transactions). */
  settled: number;
  /** Settle transactions sent (one per batch of at most MAX_SETTLE_BATCH leaves). */
  settleTransactions: number;
  markedOverdue: number;
  markedDefaulted: number;
  dustSwept: number;
  /** Actions the chain refused for a reason other than a benign race (logged as errors). */
  failed: number;
}

// Refusals that only mean someone else (a debtor, another keeper, anyone calling the escrow)
// got there between the keeper's read and its transaction: nothing to do, no error.
const RACE_CODES = new Set([
  "SETTLEMENT_NOTHING_DUE",
  "RECEIVABLE_WRONG_STATUS",
  "RECEIVABLE_NOT_YET_DUE",
  "SETTLEMENT_INCOMPLETE",
]);

export class Keeper {
  readonly #queue = new PQueue({ concurrency: 1 });
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #lastError: string | undefined;
  #maxBatch: number | undefined;

  constructor(private readonly ctx: ServiceContext) {}

  /** One pass over the work there is; returns what it did. Passes never overlap: a call
   * made during a pass runs after it. */
  async runOnce(): Promise<KeeperPass> {
    return this.#queue.add(() => this.#pass());
  }

  start(intervalMs: number): void {
    if (this.#running) return;
    this.#running = true;
    const tick = async () => {
      try {
        const pass = await this.runOnce();
        this.ctx.telemetry.recordKeeperPass("ok");
        if (this.#lastError) this.ctx.log.info("keeper works again");
        this.#lastError = undefined;
        if (pass.failed > 0) this.ctx.log.warn({ ...pass }, "keeper pass finished with refusals");
      } catch (error) {
        const message = (error as Error).message;
        this.ctx.telemetry.recordKeeperPass("failed", message.slice(0, 200));
        if (message !== this.#lastError)
          this.ctx.log.error({ err: error }, "keeper pass failed; retrying next interval");
        this.#lastError = message;
      } finally {
        if (this.#running) this.#timer = setTimeout(tick, intervalMs);
      }
    };
    this.#timer = setTimeout(tick, 0);
  }

  /** Stops the timer and waits for a running pass to finish. */
  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#queue.onIdle();
  }

  async #pass(): Promise<KeeperPass> {
    const { ctx } = this;
    const { registry, escrow } = ctx.chain.contracts;
    const pass: KeeperPass = {
      settled: 0,
      settleTransactions: 0,
      markedOverdue: 0,
      markedDefaulted: 0,
      dustSwept: 0,
      failed: 0,
    };
    await ctx.indexer.sync();

    // Overdue and default, on chain time: the contracts compare with block.timestamp.
    const head = await ctx.chain.provider.getBlock("latest");
    if (!head) throw new Error("the chain has no latest block");
    const gracePeriodOf = async (receivableId: string) =>
      BigInt((await registry.receivableOf(receivableId)).gracePeriod);
    const marks = await findDueMarks(ctx, BigInt(head.timestamp), gracePeriodOf);
    ctx.telemetry.keeperBacklog.set(marks.length);
    for (const mark of marks) {
      if (
        mark.overdue &&
        (await this.#send(
          pass,
          "markOverdue",
          mark.receivableId,
          registry.markOverdue.populateTransaction(mark.receivableId),
        ))
      )
        pass.markedOverdue++;
      if (
        mark.defaulted &&
        (await this.#send(
          pass,
          "markDefaulted",
          mark.receivableId,
          registry.markDefaulted.populateTransaction(mark.receivableId),
        ))
      )
        pass.markedDefaulted++;
    }

    // Settlement, then the dust of what closed.
    this.#maxBatch ??= Number(await escrow.MAX_SETTLE_BATCH());
    const candidates = await findSettlementCandidates(ctx);
    ctx.telemetry.keeperBacklog.set(marks.length + candidates.length);
    for (const receivableId of candidates) {
      const plan = await planSettlement(ctx, receivableId, this.#maxBatch);
      for (const [i, batch] of plan.batches.entries()) {
        if (i > 0) crashPoint("keeper:between-batches");
        const receipt = await this.#send(
          pass,
          "settle",
          receivableId,
          escrow.settle.populateTransaction(receivableId, batch),
        );
        if (!receipt) continue;
        const leaves = leafPayments(escrow, receipt);
        pass.settleTransactions++;
        pass.settled += leaves.count;
        ctx.log.info(
          { receivableId, txHash: receipt.hash, leaves: leaves.count, paid: leaves.paid.toString() },
          "keeper settled leaves",
        );
      }
      if (plan.closed && (await this.#dustToSweep(receivableId))) {
        const receipt = await this.#send(
          pass,
          "sweepDust",
          receivableId,
          escrow.sweepDust.populateTransaction(receivableId),
        );
        if (receipt) pass.dustSwept++;
      }
    }
    return pass;
  }

  /** Fully finalized, closed, and not all the money it took in was paid out. */
  async #dustToSweep(receivableId: string): Promise<boolean> {
    const { registry, escrow, certificates } = this.ctx.chain.contracts;
    const leafCount = BigInt(await certificates.leafCountOf(receivableId));
    const finalized = BigInt(await escrow.finalizedLeavesOf(receivableId));
    if (finalized < leafCount) return false;
    const receivable = await registry.receivableOf(receivableId);
    const distributed = BigInt(await escrow.distributedOf(receivableId));
    return BigInt(receivable.repaidAmount) > distributed;
  }

  /**
   * Sends one keeper transaction through the keeper key's queue (simulated first, journaled),
   * brings the index up to its block, and logs it. A refusal that only means someone got
   * there first is logged quietly and skipped; any other refusal is logged as an error and
   * counted; an unreachable chain ends the pass.
   */
  async #send(
    pass: KeeperPass,
    method: string,
    receivableId: string,
    populated: Promise<ContractTransaction>,
  ): Promise<TransactionReceipt | undefined> {
    const { ctx } = this;
    let receipt: TransactionReceipt;
    try {
      const request = await populated;
      receipt = await ctx.chain.keeper.send(request, { kind: `keeper.${method}`, ref: receivableId });
    } catch (error) {
      if (error instanceof AppError && RACE_CODES.has(error.code)) {
        ctx.log.info(
          { receivableId, action: method, code: error.code },
          "keeper skipped an action the chain no longer needs",
        );
        return undefined;
      }
      if (error instanceof AppError && error.status < 500) {
        pass.failed++;
        ctx.log.error(
          { receivableId, action: method, code: error.code, details: error.details },
          "the chain refused a keeper action",
        );
        return undefined;
      }
      throw error;
    }
    await ctx.indexer.sync(receipt.blockNumber);
    if (method !== "settle") ctx.log.info({ receivableId, txHash: receipt.hash, action: method }, `keeper: ${method}`);
    return receipt;
  }
}

/** The LeafSettled events of a settle transaction: how many leaves, and how much they got. */
function leafPayments(escrow: BaseContract, receipt: TransactionReceipt): { count: number; paid: bigint } {
  const address = String(escrow.target).toLowerCase();
  let count = 0;
  let paid = 0n;
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== address) continue;
    const parsed = decodeLog(escrow.interface, log);
    if (parsed?.name !== "LeafSettled") continue;
    count++;
    paid += BigInt(parsed.args.toHolder) + BigInt(parsed.args.toPledgee);
  }
  return { count, paid };
}
