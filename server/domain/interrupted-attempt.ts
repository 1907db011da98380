// A request retried with its Idempotency-Key after the service died in the middle of it
// (server/api/idempotency.ts takes such a key over after a restart). The first attempt may
// have sent a transaction that the chain mined before the crash: the retry must answer
// from that transaction, not refuse because the chain moved on (the certificate is already
// split), and never send it again (a second repayment would pay twice). The transaction
// journal (tx-sender.ts) says what the attempt sent: the rows of this signer, kind and
// subject written between the attempt's start and the current process's start.
import { AsyncLocalStorage } from "node:async_hooks";
import type { TransactionReceipt } from "ethers";
import type { ServiceContext } from "../context.js";
import { AppError } from "../model/errors.js";
import { waitForReceipt } from "../chain/tx-sender.js";

/** How long a retry waits for its interrupted attempt's transaction still in the mempool (as long as a send waits). */
const PENDING_WAIT_MS = 120_000;

export interface InterruptedAttempt {
  /** When the interrupted attempt began (its idempotency record's creation). */
  startedAt: string;
  /** When this process started: the attempt ended, at the latest, with the previous one. */
  endedBy: string;
}

const current = new AsyncLocalStorage<InterruptedAttempt>();

/** Runs `retry` as the retry of `attempt`. */
export function retryInterruptedAttempt<T>(attempt: InterruptedAttempt, retry: () => Promise<T>): Promise<T> {
  return current.run(attempt, retry);
}

/**
 * The receipts, oldest first, of the transactions of `kind` about `ref` that `signer` sent
 * during the interrupted attempt this request retries and that the chain mined
 * successfully; none when the request retries nothing.
 */
export async function sentByInterruptedAttempt(
  ctx: ServiceContext,
  signer: string,
  kind: string,
  ref: string,
): Promise<TransactionReceipt[]> {
  const attempt = current.getStore();
  if (!attempt) return [];
  const rows = await ctx.db
    .selectFrom("tx_journal")
    .select("tx_hash")
    .where("signer", "=", signer)
    .where("kind", "=", kind)
    .where("ref", "=", ref)
    .where("created_at", ">=", attempt.startedAt)
    .where("created_at", "<", attempt.endedBy)
    .where("tx_hash", "is not", null)
    .orderBy("id")
    .execute();
  const receipts: TransactionReceipt[] = [];
  const provider = ctx.chain.provider;
  for (const row of rows) {
    const hash = row.tx_hash!;
    let receipt = await provider.getTransactionReceipt(hash);
    if (!receipt && (await provider.getTransaction(hash))) {
      // Still pending (a chain with block times): it will be mined, so wait for it as the attempt would have.
      receipt = await waitForReceipt(provider, hash, PENDING_WAIT_MS);
      if (!receipt)
        throw new AppError(
          "TRANSACTION_PENDING",
          504,
          "the interrupted attempt's transaction is still pending; retry shortly",
          { txHash: hash },
        );
    }
    if (receipt?.status === 1) receipts.push(receipt);
  }
  if (receipts.length > 0)
    ctx.log.warn(
      { kind, ref, txHashes: receipts.map((r) => r.hash) },
      "a retried request finds its interrupted attempt's transaction mined: answering from it",
    );
  return receipts;
}
