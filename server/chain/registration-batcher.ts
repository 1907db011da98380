// Registers many debtor-confirmed receivables per transaction (ReceivableRegistry.registerBatch).
// Confirmations are queued; a window closes when it holds `maxItems` registrations or
// `windowMs` after its first one, and is sent as one registerBatch on the registrar's queue.
// One batch at a time is signed and broadcast; what arrives meanwhile forms the next one, so
// batches grow with the load. Batches do not wait for each other's blocks: the sender keeps
// the nonces in order, so several are in flight at once (pipelined), each waited for on its own.
//
// No estimateGas per batch: the gas limit is a measured per-item bound times the item count
// plus a base, so a window costs one signature and one broadcast. An item the registry
// refuses does not revert the batch (RegistrationRefused carries the error register() would
// have raised); if the whole transaction reverts anyway (paused, a bound too low), each item
// is registered again on its own through the ordinary path, whose simulation says exactly
// what is wrong with it. Crash safety is the sender's: every item's journal row carries the
// batch's hash before it is broadcast, and the registry refuses a second registration of the
// same receivable whatever happens after.
import type { TransactionReceipt } from "ethers";
import { crashPoint } from "../faults.js";
import { decodeLog } from "./event-decoder.js";
import type { Logger } from "../logging.js";
import { AppError } from "../model/errors.js";
import type { ReceivableRegistry } from "./contracts.js";
import { chainError, decodeRevert } from "./revert-errors.js";
import type { TxSender } from "./tx-sender.js";

export interface RegistrationTerms {
  seller: string;
  debtor: string;
  invoiceNumberHash: string;
  documentHash: string;
  faceValue: bigint;
  dueDate: bigint;
}

export interface DebtorConsent {
  nonce: bigint;
  deadline: number;
  signature: string;
}

export interface RegistrationRequest {
  receivableId: string;
  terms: RegistrationTerms;
  confirmation: DebtorConsent;
}

/** A registration's own outcome: on the chain in `txHash`, or refused with the registry's error. */
export type RegistrationOutcome =
  | { registered: true; txHash: string; blockNumber: number; certificateId: string; batchSize: number }
  | { registered: false; error: AppError };

export interface BatcherOptions {
  /** Most registrations in one transaction (also bounded by the gas cap below). */
  maxItems: number;
  /** How long a window stays open after its first registration, milliseconds. */
  windowMs: number;
  /** Gas bound per registration in a batch (measured, margin included). */
  gasPerItem: number;
  /** Gas of the batch transaction itself (intrinsic, loop, calldata head). */
  gasBase: number;
}

/**
 * Gas bound per registration in a batch, margin included (about 20%). Measured on the committed
 * contracts (the lean registry and certificate layouts, a root without an owner slot): a batch
 * of 4 sellers' first certificates (every slot cold) used 648,194 gas, 162,049 an item (162,944
 * with a smart-wallet debtor), and a batch of one 197,724
 * (test/contracts/registration-gas-bound.test.ts fails when the bound no longer covers them). It caps a batch at 83 items under the 2^24 transaction gas cap;
 * TIERLINE_BATCH_GAS_PER_ITEM overrides it.
 */
export const GAS_PER_ITEM_BOUND = 200_000;
/** A registerBatch transaction's own gas beside its items' (intrinsic 21,000, the loop, the return data). */
export const BATCH_GAS_BASE = 60_000;

/** EIP-7825 (osaka): no transaction may ask for more gas than 2^24. */
export const TRANSACTION_GAS_CAP = 16_777_216;

interface Waiting {
  request: RegistrationRequest;
  promise: Promise<RegistrationOutcome>;
  resolve: (outcome: RegistrationOutcome) => void;
}

export class RegistrationBatcher {
  readonly maxItems: number;
  #queue: Waiting[] = [];
  /** Every registration queued or in flight, by receivable: a second confirmation joins the first. */
  readonly #pending = new Map<string, Waiting>();
  #timer: NodeJS.Timeout | undefined;
  /** A batch is being signed, journaled and broadcast (holding the signer's queue). */
  #broadcasting = false;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(
    private readonly sender: TxSender,
    private readonly registry: ReceivableRegistry,
    private readonly log: Logger,
    private readonly options: BatcherOptions,
    /** The single path, for a batch that reverted as a whole. */
    private readonly registerOne: (request: RegistrationRequest) => Promise<RegistrationOutcome>,
  ) {
    const fitting = Math.floor((TRANSACTION_GAS_CAP - options.gasBase) / options.gasPerItem);
    this.maxItems = Math.max(1, Math.min(options.maxItems, fitting));
  }

  /** Queues `request`; resolves with its own outcome once its batch is mined (never rejects). */
  register(request: RegistrationRequest): Promise<RegistrationOutcome> {
    const existing = this.#pending.get(request.receivableId);
    if (existing) return existing.promise;
    let resolve!: (outcome: RegistrationOutcome) => void;
    const promise = new Promise<RegistrationOutcome>((r) => (resolve = r));
    const waiting: Waiting = { request, promise, resolve };
    this.#pending.set(request.receivableId, waiting);
    this.#queue.push(waiting);
    if (this.#queue.length >= this.maxItems) this.#flush();
    else this.#timer ??= setTimeout(() => this.#flush(), this.options.windowMs);
    return promise;
  }

  /** Registrations queued or in flight. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Sends what is queued now and waits for every batch in flight (at shutdown). */
  async drain(): Promise<void> {
    while (this.#queue.length > 0 || this.#inFlight.size > 0) {
      this.#flush();
      await Promise.race([...this.#inFlight, new Promise((resolve) => setTimeout(resolve, 10))]);
    }
  }

  /**
   * Sends the next batch, unless one is still being signed and broadcast: then what arrives
   * meanwhile waits and goes in the next batch, sent the moment the signer's queue is free.
   * Under load batches grow to fill the time one broadcast takes (adaptive), instead of
   * queueing many tiny batches on the signer; when idle, a registration waits one window.
   */
  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#queue.length === 0 || this.#broadcasting) return;
    const batch = this.#queue.splice(0, this.maxItems);
    this.#broadcasting = true;
    const queued = () => {
      this.#broadcasting = false;
      if (this.#queue.length > 0) this.#flush();
    };
    const sent = this.#send(batch, queued).finally(() => this.#inFlight.delete(sent));
    this.#inFlight.add(sent);
  }

  async #send(batch: Waiting[], whenQueued: () => void): Promise<void> {
    const queued = once(whenQueued);
    const settle = (waiting: Waiting, outcome: RegistrationOutcome) => {
      this.#pending.delete(waiting.request.receivableId);
      waiting.resolve(outcome);
    };
    const ids = batch.map((w) => w.request.receivableId);
    crashPoint("registration:before-batch");
    let receipt: TransactionReceipt;
    try {
      const request = await this.registry.registerBatch.populateTransaction(
        batch.map(({ request: { terms, confirmation } }) => ({ terms, confirmation })),
      );
      request.gasLimit = BigInt(this.options.gasBase + this.options.gasPerItem * batch.length);
      // Journaled as each receivable's "register" transaction, as the single path journals it:
      // one row per item, all with the batch's hash.
      receipt = await this.sender.send(request, { kind: "register", ref: ids[0]!, refs: ids, onQueued: queued });
    } catch (error) {
      queued();
      const failure = chainError(error);
      if (failure.code === "TRANSACTION_REVERTED" || (failure.status < 500 && batch.length > 1)) {
        // The batch as a whole reverted on the chain: register each item on its own, where a
        // simulation names what is wrong with it (and the rest go through).
        this.log.warn(
          { err: failure, items: batch.length },
          "a registration batch reverted as a whole; registering its items one by one",
        );
        await Promise.all(batch.map(async (waiting) => settle(waiting, await this.#registerAlone(waiting.request))));
        return;
      }
      for (const waiting of batch) settle(waiting, { registered: false, error: failure });
      return;
    }
    const outcomes = this.#readOutcomes(receipt, ids);
    this.log.info(
      { txHash: receipt.hash, items: batch.length, refused: outcomes.filter((o) => !o.registered).length },
      "registration batch mined",
    );
    batch.forEach((waiting, i) => settle(waiting, outcomes[i]!));
  }

  async #registerAlone(request: RegistrationRequest): Promise<RegistrationOutcome> {
    try {
      return await this.registerOne(request);
    } catch (error) {
      return { registered: false, error: chainError(error) };
    }
  }

  /** Each item's outcome from the batch's events: its ReceivableRegistered, or its RegistrationRefused. */
  #readOutcomes(receipt: TransactionReceipt, ids: string[]): RegistrationOutcome[] {
    const registry = this.registry.interface;
    const registryAddress = String(this.registry.target).toLowerCase();
    const certificates = new Map<string, string>();
    const refusals = new Map<number, AppError>();
    for (const log of receipt.logs) {
      if (log.address.toLowerCase() !== registryAddress) continue;
      const parsed = decodeLog(registry, log);
      if (parsed?.name === "ReceivableRegistered") {
        certificates.set(String(parsed.args.receivableId).toLowerCase(), String(parsed.args.rootCertificateId));
      } else if (parsed?.name === "RegistrationRefused") {
        refusals.set(Number(parsed.args.index), refusalError(String(parsed.args.reason), receipt.hash));
      }
    }
    return ids.map((id, i): RegistrationOutcome => {
      const refusal = refusals.get(i);
      if (refusal) return { registered: false, error: refusal };
      const certificateId = certificates.get(id.toLowerCase());
      if (certificateId === undefined) return { registered: false, error: unaccounted(receipt.hash, i) };
      return {
        registered: true,
        txHash: receipt.hash,
        blockNumber: receipt.blockNumber,
        certificateId,
        batchSize: ids.length,
      };
    });
  }
}

/** One registration in a transaction of its own (register), simulated first: the ordinary path. */
export async function registerAlone(
  sender: TxSender,
  registry: ReceivableRegistry,
  { receivableId, terms, confirmation }: RegistrationRequest,
): Promise<RegistrationOutcome> {
  const request = await registry.register.populateTransaction(terms, confirmation);
  const receipt = await sender.send(request, { kind: "register", ref: receivableId });
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== String(registry.target).toLowerCase()) continue;
    const parsed = decodeLog(registry.interface, log);
    if (parsed?.name === "ReceivableRegistered")
      return {
        registered: true,
        txHash: receipt.hash,
        blockNumber: receipt.blockNumber,
        certificateId: String(parsed.args.rootCertificateId),
        batchSize: 1,
      };
  }
  return { registered: false, error: unaccounted(receipt.hash, 0) };
}

/** The refusal's reason, the ABI-encoded custom error, as the same AppError the single path gives. */
export function refusalError(reason: string, txHash: string): AppError {
  const decoded = decodeRevert({ data: reason });
  if (decoded) return new AppError(decoded.code, decoded.status, decoded.message, { ...decoded.details, txHash });
  return new AppError("REGISTRATION_REFUSED", 409, "the registry refused the registration", { reason, txHash });
}

function unaccounted(txHash: string, index: number): AppError {
  return new AppError("CHAIN_ERROR", 502, "the batch neither registered nor refused this item", { txHash, index });
}

/** `fn`, callable many times, run at most once. */
function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (!done) {
      done = true;
      fn();
    }
  };
}
