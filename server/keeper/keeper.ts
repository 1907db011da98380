// The keeper: every interval, one pass that marks receivables overdue and defaulted on
// chain time, makes the cuts of credit notes approved over trees wider than
// MAX_DILUTION_LEAVES (continueCreditNote chunks, see credit-note-passes.ts), pays every leaf of every repaid (or partly repaid) receivable what is due
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
import { findApplyingCreditNotes, findTallyGap, nextChunk, type CreditNoteApplication } from "./credit-note-passes.js";

export interface KeeperPass {
  /** Leaf payments made (LeafSettled events emitted by the keeper's settle transactions). */
  settled: number;
  /** Settle transactions sent (one per batch of at most MAX_SETTLE_BATCH leaves). */
  settleTransactions: number;
  markedOverdue: number;
  markedDefaulted: number;
  dustSwept: number;
  /** continueCreditNote transactions sent (chunks of a wide tree's credit note, both passes). */
  creditNoteChunks: number;
  /** Tallies restarted because a chunk someone else sent skipped a leaf (restartTally). */
  tallyRestarts: number;
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
  // Settlement waits while a credit note on the receivable is cut in passes (this keeper makes them).
  "SETTLEMENT_CREDIT_NOTE_APPLYING",
]);

// A continueCreditNote someone else got in first: the chunk was taken (cursor moved), the pass
// moved on, or the note is done. Re-read the ledger and carry on from where it is.
const CHUNK_RACE_CODES = new Set(["DILUTION_LEAVES_NOT_SORTED", "DILUTION_CHUNK_MISMATCH", "CREDIT_NOTE_NOT_APPLYING"]);

// Chunks of one credit note per keeper pass at most (two passes over 1,000 leaves at 128 a chunk
// are 16): a wider tree simply goes on in the next pass.
const MAX_CHUNKS_PER_NOTE_AND_PASS = 64;

export class Keeper {
  readonly #queue = new PQueue({ concurrency: 1 });
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #lastError: string | undefined;
  #maxBatch: number | undefined;
  #maxChunk: number | undefined;

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
      creditNoteChunks: 0,
      tallyRestarts: 0,
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

    // Credit notes cut in passes, before settlement (which waits for them).
    for (const application of await findApplyingCreditNotes(ctx)) await this.#applyCreditNote(pass, application);

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

  /**
   * Takes the chunks of one Applying credit note until it is Applied: each read from the ledger
   * and the index afresh, so a chunk someone else sent (or this keeper sent before a crash) is
   * never sent twice. A bounded number of chunks per pass; the next pass goes on.
   */
  async #applyCreditNote(pass: KeeperPass, application: CreditNoteApplication): Promise<void> {
    const { ctx } = this;
    const ledger = ctx.chain.contracts.dilution;
    if (!ledger) return;
    this.#maxChunk ??= Number(await ledger.MAX_DILUTION_LEAVES());
    const { creditNoteId, receivableId } = application;
    for (let step = 0; step < MAX_CHUNKS_PER_NOTE_AND_PASS; step++) {
      const chunk = await nextChunk(ctx, application, this.#maxChunk);
      if (chunk.done) return;
      if (chunk.phase === "stuck") {
        // Only a tally fed a chunk with a gap gets here: prove the gap and start the tally again.
        const gap = await findTallyGap(ctx, application);
        if (!gap) {
          pass.failed++;
          ctx.log.error(
            { receivableId, creditNoteId, processed: chunk.processed, leafCount: chunk.leafCount },
            "credit note tally skipped a leaf the keeper cannot prove: it needs restartTally",
          );
          return;
        }
        const receipt = await this.#send(
          pass,
          "restartTally",
          receivableId,
          ledger.restartTally.populateTransaction(creditNoteId, gap.position, gap.before, gap.chunk, gap.missingLeafId),
        );
        if (!receipt) return;
        pass.tallyRestarts++;
        continue;
      }
      if (step > 0) crashPoint("keeper:between-credit-note-chunks");
      const outcome = await this.#sendChunk(pass, application, chunk.leafIds);
      if (outcome === "sent") {
        pass.creditNoteChunks++;
        ctx.log.info(
          { receivableId, creditNoteId, pass: chunk.phase, leaves: chunk.leafIds.length },
          "keeper took a credit note chunk",
        );
      } else if (outcome === "refused") return;
    }
  }

  async #sendChunk(
    pass: KeeperPass,
    application: CreditNoteApplication,
    leafIds: string[],
  ): Promise<"sent" | "raced" | "refused"> {
    const { ctx } = this;
    const ledger = ctx.chain.contracts.dilution!;
    try {
      const request = await ledger.continueCreditNote.populateTransaction(application.creditNoteId, leafIds);
      const receipt = await ctx.chain.keeper.send(request, {
        kind: "keeper.continueCreditNote",
        ref: application.creditNoteId,
      });
      await ctx.indexer.sync(receipt.blockNumber);
      return "sent";
    } catch (error) {
      if (error instanceof AppError && CHUNK_RACE_CODES.has(error.code)) {
        ctx.log.info(
          { creditNoteId: application.creditNoteId, code: error.code },
          "keeper: credit note chunk already taken; re-reading",
        );
        await ctx.indexer.sync();
        return "raced";
      }
      if (error instanceof AppError && error.status < 500) {
        pass.failed++;
        ctx.log.error(
          { creditNoteId: application.creditNoteId, code: error.code, details: error.details },
          "the chain refused a credit note chunk",
        );
        return "refused";
      }
      throw error;
    }
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
