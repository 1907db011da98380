// One transaction queue per signer, with explicit nonces, so concurrent requests never
// collide. Every send is simulated first (a revert burns no nonce), journaled with its
// hash before it is broadcast (a crash after broadcast still knows what was sent), and
// its outcome recorded. ethers' NonceManager increments before estimating gas, so a send that
// reverts in estimation would burn a nonce: hence one queue per signer and explicit nonces.
// With several replicas over PostgreSQL the queue is a lock shared through the database
// (store/locks.ts), and the nonce is read from the chain's pending count under it, since
// another replica may have used the next one.
import {
  JsonRpcApiProvider,
  keccak256,
  type Provider,
  type TransactionReceipt,
  type TransactionRequest,
  type Wallet,
} from "ethers";
import type { Db } from "../store/database.js";
import { engineOf, nowIso } from "../store/database.js";
import { withLock } from "../store/locks.js";
import type { Logger } from "../logging.js";
import { AppError } from "../model/errors.js";
import { chainError, decodeRevert } from "./revert-errors.js";
import { crashPoint } from "../faults.js";
import type { TxJournalState } from "../model/row-statuses.js";

export interface SendOptions {
  kind: string;
  ref: string;
  /** One transaction for several subjects (a batch): a journal row for each, all with its hash,
   * so every subject's own history (and its interrupted attempt's) shows the transaction. */
  refs?: readonly string[];
  /** Told when the transaction has left this signer's queue (broadcast, or failed before it):
   * the next one may be prepared while this one waits for its block. */
  onQueued?: () => void;
}

export class TxSender {
  readonly address: string;
  readonly #lock: string;
  /** Other processes may send for this signer too: never trust a remembered nonce. */
  readonly #shared: boolean;
  #nextNonce: number | undefined;
  #feeCache:
    { at: number; fees: Pick<TransactionRequest, "maxFeePerGas" | "maxPriorityFeePerGas" | "type"> } | undefined;

  constructor(
    readonly wallet: Wallet,
    private readonly db: Db,
    private readonly log: Logger,
  ) {
    this.address = wallet.address;
    this.#lock = `signer:${wallet.address.toLowerCase()}`;
    this.#shared = engineOf(db) === "postgres";
  }

  /** Simulates, signs, journals, broadcasts and waits for `request`. Throws a mapped AppError on revert. */
  async send(request: TransactionRequest, options: SendOptions): Promise<TransactionReceipt> {
    const provider = this.wallet.provider!;
    const queued = withLock(this.db, this.#lock, async () => {
      const remembered = this.#shared ? undefined : this.#nextNonce;
      try {
        return await this.#signAndBroadcast(request, options, remembered);
      } catch (error) {
        // Another process sent with this key since our last transaction (a script with the
        // same key, a second service): the node refused ours unseen, so it is sent again
        // once, on the nonce read from the chain. Never on a nonce read just now.
        if (remembered === undefined || !isNonceTooLow(error)) throw mapped(error);
        this.log.warn(
          { signer: this.address, nonce: remembered, kind: options.kind, ref: options.ref },
          "another sender used this key's next nonce: sending again on the chain's count",
        );
        return await this.#signAndBroadcast(request, options, undefined).catch((again: unknown) => {
          throw mapped(again);
        });
      }
    });
    const { hash, journalIds } = await queued.finally(() => options.onQueued?.());

    let receipt: TransactionReceipt | null;
    try {
      receipt = await waitForReceipt(provider, hash, 120_000);
    } catch (error) {
      throw chainError(error);
    }
    if (receipt === null) {
      throw new AppError("TRANSACTION_PENDING", 504, "the transaction was sent but not mined in time", {
        txHash: hash,
      });
    }
    if (receipt.status !== 1) {
      await this.#mark(journalIds, "failed", "reverted on-chain");
      throw (
        (await this.#whyReverted(request, receipt)) ??
        new AppError("TRANSACTION_REVERTED", 409, "the transaction reverted on-chain", { txHash: hash })
      );
    }
    await this.#mark(journalIds, "mined", null);
    return receipt;
  }

  /** Populates on `nonce` (or the chain's pending count), signs, journals and broadcasts `request`. */
  async #signAndBroadcast(
    request: TransactionRequest,
    options: SendOptions,
    rememberedNonce: number | undefined,
  ): Promise<{ hash: string; journalIds: number[] }> {
    const provider = this.wallet.provider!;
    let populated: TransactionRequest;
    try {
      // populateTransaction estimates gas (unless the request is sized already, as a batch
      // is): a revert surfaces here, before a nonce is used.
      const nonce = rememberedNonce ?? (await provider.getTransactionCount(this.address, "pending"));
      populated = await this.wallet.populateTransaction({ ...request, nonce, ...(await this.#fees()) });
    } catch (error) {
      this.#nextNonce = undefined;
      throw chainError(error);
    }
    const nonce = Number(populated.nonce);
    const signed = await this.wallet.signTransaction(populated);
    // A transaction's hash is the keccak of its signed serialisation (every type): no re-parse.
    const txHash = keccak256(signed);
    const now = nowIso();
    const rows = await this.db
      .insertInto("tx_journal")
      .values(
        (options.refs ?? [options.ref]).map((ref) => ({
          kind: options.kind,
          ref,
          signer: this.address,
          nonce,
          tx_hash: txHash,
          state: "sent" as const,
          error: null,
          created_at: now,
          updated_at: now,
        })),
      )
      .returning("id")
      .execute();
    const journalIds = rows.map((row) => row.id);
    try {
      await broadcast(provider, signed, txHash);
    } catch (error) {
      this.#nextNonce = undefined;
      if (isNonceTooLow(error)) {
        // Refused outright: this transaction can never be mined (its nonce is spent).
        await this.#mark(journalIds, "dropped", (error as Error).message);
        throw error;
      }
      // The node may have taken it before the error reached us: "unconfirmed" until the
      // start-up reconciliation finds its receipt, or its nonce used by another.
      await this.#mark(journalIds, "unconfirmed", (error as Error).message);
      throw chainError(error);
    }
    this.#nextNonce = nonce + 1;
    this.log.info({ txHash, nonce, kind: options.kind, ref: options.ref, signer: this.address }, "transaction sent");
    crashPoint(`tx-sent:${options.kind}`);
    return { hash: txHash, journalIds };
  }

  /** Why a mined transaction reverted (another sender got there first, typically): the same
   * call replayed on the state its block left behind, as the contract's own error. */
  async #whyReverted(request: TransactionRequest, receipt: TransactionReceipt): Promise<AppError | undefined> {
    try {
      await this.wallet.provider!.call({
        to: request.to,
        data: request.data,
        value: request.value,
        from: this.address,
        blockTag: receipt.blockNumber,
      });
      return undefined;
    } catch (error) {
      const refusal = decodeRevert(error);
      return (
        refusal &&
        new AppError(
          refusal.code,
          refusal.status,
          refusal.message,
          { ...(refusal.details as object), txHash: receipt.hash },
          { cause: error },
        )
      );
    }
  }

  /** EIP-1559 fees, looked up at most once a second: three RPC calls per send saved in the
   * queue, where every round trip is paid by every request behind it. ethers' default
   * maxFeePerGas (twice the base fee plus the tip) leaves room for a second's rise. */
  async #fees(): Promise<Pick<TransactionRequest, "maxFeePerGas" | "maxPriorityFeePerGas" | "type">> {
    const now = Date.now();
    if (!this.#feeCache || now - this.#feeCache.at > 1_000) {
      const fee = await this.wallet.provider!.getFeeData();
      if (fee.maxFeePerGas === null || fee.maxPriorityFeePerGas === null) return {};
      this.#feeCache = {
        at: now,
        fees: { type: 2, maxFeePerGas: fee.maxFeePerGas, maxPriorityFeePerGas: fee.maxPriorityFeePerGas },
      };
    }
    return this.#feeCache.fees;
  }

  async #mark(ids: number[], state: TxJournalState, error: string | null): Promise<void> {
    await this.db
      .updateTable("tx_journal")
      .set({ state, error, updated_at: nowIso() })
      .where("id", "in", ids)
      .execute();
  }
}

/** The node refused a transaction because its nonce is already spent (ethers: NONCE_EXPIRED). */
function isNonceTooLow(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === "NONCE_EXPIRED";
}

/** #signAndBroadcast maps every error but a spent nonce (left raw so send() can retry it). */
const mapped = (error: unknown): unknown => (isNonceTooLow(error) ? chainError(error) : error);

/**
 * Sends a signed transaction. ethers' broadcastTransaction also asks for the block number and
 * builds a TransactionResponse nobody here reads, recovering its sender from the signature
 * (secp256k1 in JavaScript, ~1.8 % of the service's CPU in the throughput bench's profile):
 * over JSON-RPC, eth_sendRawTransaction alone, with the same error mapping (send() goes
 * through the provider's getRpcError) and the same check of the hash the node answers.
 */
async function broadcast(provider: Provider, signed: string, txHash: string): Promise<void> {
  if (!(provider instanceof JsonRpcApiProvider)) {
    await provider.broadcastTransaction(signed);
    return;
  }
  const answered = String(await provider.send("eth_sendRawTransaction", [signed]));
  if (answered.toLowerCase() !== txHash.toLowerCase()) {
    throw new Error(`the node answered transaction hash ${answered} for the transaction ${txHash}`);
  }
}

/** After a restart: settle the journal's "sent" and "unconfirmed" rows against the chain. */
export async function reconcileTxJournal(
  db: Db,
  provider: NonNullable<Wallet["provider"]>,
  log: Logger,
): Promise<number> {
  const open = await db.selectFrom("tx_journal").selectAll().where("state", "in", ["sent", "unconfirmed"]).execute();
  // A batch's rows share one transaction: ask for its receipt once.
  const receipts = new Map<string, TransactionReceipt | null>();
  for (const row of open) {
    let receipt: TransactionReceipt | null = null;
    if (row.tx_hash) {
      if (!receipts.has(row.tx_hash)) receipts.set(row.tx_hash, await provider.getTransactionReceipt(row.tx_hash));
      receipt = receipts.get(row.tx_hash)!;
    }
    let state: TxJournalState;
    if (receipt) state = receipt.status === 1 ? "mined" : "failed";
    else {
      const confirmedNonce = await provider.getTransactionCount(row.signer, "latest");
      state = confirmedNonce > row.nonce ? "dropped" : row.state;
    }
    if (state !== row.state) {
      await db.updateTable("tx_journal").set({ state, updated_at: nowIso() }).where("id", "=", row.id).execute();
    }
    log.warn(
      { txHash: row.tx_hash, kind: row.kind, ref: row.ref, state },
      "reconciled a transaction sent before the last stop",
    );
  }
  return open.length;
}

/** Polls for the receipt: ethers' waitForTransaction misses a tx mined between its first
 * receipt check and its block poller's start, then waits for a block an idle chain never makes. */
export async function waitForReceipt(
  provider: NonNullable<Wallet["provider"]>,
  hash: string,
  timeoutMs: number,
): Promise<TransactionReceipt | null> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const receipt = await provider.getTransactionReceipt(hash);
    if (receipt) return receipt;
    if (Date.now() > until) return null;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
