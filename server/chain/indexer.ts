// Follows the contracts' events into the database. Every event is journaled in
// chain_events and applied to the onchain_* projections in the same transaction as the
// cursor move, so a crash never half-applies a block range. The projections can be
// dropped and rebuilt from the chain alone (rebuild()). Several replicas may sync one
// PostgreSQL index: each range commits under a transaction-scoped advisory lock and re-reads
// the cursor inside it, so ranges apply one after another and the cursor never goes back.
// The cursor keeps the hash of its block: every pass first checks that the chain still has
// that block. If the chain replaced it (a reorg), the index is rebuilt from the chain events
// the way a reindex does, and nothing that survived the reorg is told to webhooks again.
import PQueue from "p-queue";
import { sql } from "kysely";
import type { BaseContract, JsonRpcProvider, Log } from "ethers";
import { decodeLog } from "./event-decoder.js";
import { engineOf, type Db } from "../store/database.js";
import { LOCK_NAMESPACE, lockKey } from "../store/locks.js";
import { INDEX_TABLES } from "../store/schema.js";
import type { Logger } from "../logging.js";
import { contractsByAddress, type TierlineContracts } from "./contracts.js";
import { applyEvent, type IndexedEvent } from "./projections.js";
import { enqueueChainWebhook } from "./webhook-events.js";
import { attributeEvents, namedReceivableOf } from "../store/event-subjects.js";
import { crashPoint } from "../faults.js";

const RANGE = 2_000;
/** A range with more logs than this is split: memory stays flat however busy the blocks were. */
const MAX_LOGS_PER_BATCH = 5_000;

export interface IndexProgress {
  from: number;
  to: number;
  head: number;
  /** Events applied so far in this run. */
  events: number;
}
const CURSOR_BLOCK = "indexer.block";
const CURSOR_HASH = "indexer.blockHash";

export type Consistency = { ok: true } | { ok: false; reason: string };

/** The chain no longer has the block the cursor was written at: the index holds replaced blocks. */
class ReorgDetected extends Error {
  constructor(
    readonly block: number,
    readonly indexedHash: string,
    readonly chainHash: string,
  ) {
    super(`block ${block} on the chain (${chainHash}) is not the block the index was built from (${indexedHash})`);
  }
}

/** How an event is told apart from others whatever block it was mined in: its transaction and content. */
const survivorKey = (event: { txHash: string; contract: string; name: string; args: string }): string =>
  `${event.txHash}:${event.contract}.${event.name}:${event.args}`;

interface ReplayOptions {
  onProgress?: (progress: IndexProgress) => void;
  /** The last block whose events are already in the webhook outbox. */
  toldThrough?: number;
  /** Events above `toldThrough` already told when first indexed: how many of each survivorKey. */
  told?: ReadonlyMap<string, number>;
}

export class Indexer {
  readonly #queue = new PQueue({ concurrency: 1 });
  readonly #byAddress: Map<string, { name: string; contract: BaseContract }>;
  #timer: NodeJS.Timeout | undefined;
  #lastError: string | undefined;
  #reorg: string | undefined;

  constructor(
    private readonly db: Db,
    private readonly provider: JsonRpcProvider,
    contracts: TierlineContracts,
    private readonly deploymentBlock: number,
    private readonly log: Logger,
  ) {
    this.#byAddress = contractsByAddress(contracts);
  }

  get lastError(): string | undefined {
    return this.#lastError;
  }

  /** While the index is rebuilt after the chain replaced indexed blocks: what happened. */
  get recoveringFromReorg(): string | undefined {
    return this.#reorg;
  }

  /** The last block whose events are in the index. */
  async indexedBlock(): Promise<number> {
    const row = await this.db.selectFrom("meta").select("value").where("key", "=", CURSOR_BLOCK).executeTakeFirst();
    return row ? Number(row.value) : this.deploymentBlock - 1;
  }

  /** Reads new events up to the chain head (or `target`); serialized with every other sync. */
  sync(target?: number): Promise<number> {
    return this.#queue.add(() => this.#syncNow(target));
  }

  start(intervalMs: number): void {
    const tick = async () => {
      try {
        await this.sync();
        if (this.#lastError) this.log.info("indexer caught up again");
        this.#lastError = undefined;
      } catch (error) {
        const message = (error as Error).message;
        if (message !== this.#lastError) this.log.error({ err: error }, "indexer could not read the chain");
        this.#lastError = message;
      } finally {
        if (this.#timer !== undefined) this.#timer = setTimeout(tick, intervalMs);
      }
    };
    this.#timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#queue.onIdle();
  }

  /** Is the index built from this chain? Compares the block hash at the cursor. */
  async checkConsistency(): Promise<Consistency> {
    const indexed = await this.indexedBlock();
    if (indexed < this.deploymentBlock) return { ok: true };
    const stored = await this.db.selectFrom("meta").select("value").where("key", "=", CURSOR_HASH).executeTakeFirst();
    const head = await this.provider.getBlockNumber();
    if (head < indexed)
      return { ok: false, reason: `the chain is at block ${head}, behind the index (block ${indexed})` };
    const block = await this.provider.getBlock(indexed);
    if (!block || (stored && block.hash !== stored.value)) {
      return { ok: false, reason: `block ${indexed} on the chain is not the block the index was built from` };
    }
    return { ok: true };
  }

  /** Empties the index tables and replays every event since deployment, range by range. */
  rebuild(onProgress?: (progress: IndexProgress) => void): Promise<number> {
    return this.#queue.add(() => this.#rebuildNow({ onProgress }));
  }

  /**
   * `reorg`: the stale cursor that was found. Events up to the last block the chain still has
   * unchanged, and events above it that the same transaction emitted again, were told already.
   */
  async #rebuildNow({
    onProgress,
    reorg,
    toldBefore,
  }: {
    onProgress?: (progress: IndexProgress) => void;
    reorg?: ReorgDetected;
    /** A reorg during a replay: what the interrupted replay held as told. */
    toldBefore?: ReadonlyMap<string, number>;
  } = {}): Promise<number> {
    const unchangedThrough = reorg ? await this.#lastUnchangedBlock(reorg.block) : Infinity;
    let toldThrough = -1;
    const told = new Map(toldBefore);
    let recovered = false;
    await this.db.transaction().execute(async (trx) => {
      // Another replica's range must not commit between the emptying and the replay.
      if (engineOf(this.db) === "postgres")
        await sql`select pg_advisory_xact_lock(${LOCK_NAMESPACE}, ${lockKey(CURSOR_BLOCK)})`.execute(trx);
      // Events up to the old cursor were told to webhook endpoints when first indexed: a
      // rebuild replays them into the index, not into the outbox again. Read under the lock,
      // so no range another replica commits meanwhile is left out.
      const cursor = await trx.selectFrom("meta").select("value").where("key", "=", CURSOR_BLOCK).executeTakeFirst();
      if (reorg) {
        const hash = await trx.selectFrom("meta").select("value").where("key", "=", CURSOR_HASH).executeTakeFirst();
        // Another replica found the same reorg and has rebuilt (or is rebuilding) the index.
        if (Number(cursor?.value) !== reorg.block || hash?.value !== reorg.indexedHash) {
          recovered = true;
          return;
        }
      }
      toldThrough = Math.min(cursor ? Number(cursor.value) : this.deploymentBlock - 1, unchangedThrough);
      const replaced = await trx
        .selectFrom("chain_events")
        .select(["tx_hash as txHash", "contract", "name", "args"])
        .where("block_number", ">", toldThrough)
        .execute();
      for (const event of replaced) told.set(survivorKey(event), (told.get(survivorKey(event)) ?? 0) + 1);
      for (const table of INDEX_TABLES) await trx.deleteFrom(table).execute();
      await trx.deleteFrom("meta").where("key", "in", [CURSOR_BLOCK, CURSOR_HASH]).execute();
    });
    if (recovered) return 0;
    this.log.warn(
      { toldThrough, replacedEvents: told.size },
      reorg
        ? "index emptied after a reorg; rebuilding from chain events"
        : "index emptied; rebuilding from chain events",
    );
    return this.#syncNow(undefined, { onProgress, toldThrough, told });
  }

  /**
   * The last block whose journaled events are still on the chain in the block they were read
   * from (the deployment block minus one when none are). Blocks chain by hash, so the blocks
   * that still match are a prefix: a binary search asks the chain about log2(blocks) of them.
   */
  async #lastUnchangedBlock(staleBlock: number): Promise<number> {
    let good = this.deploymentBlock - 1;
    let bad = staleBlock;
    while (bad - good > 1) {
      const mid = Math.floor((good + bad) / 2);
      const journaled = await this.db
        .selectFrom("chain_events")
        .select(["block_number", "block_hash"])
        .where("block_number", "<=", mid)
        .where("block_number", ">", good)
        .orderBy("block_number", "desc")
        .limit(1)
        .executeTakeFirst();
      const onChain = journaled ? await this.provider.getBlock(journaled.block_number) : undefined;
      if (!journaled || onChain?.hash === journaled.block_hash) good = mid;
      else bad = journaled.block_number;
    }
    return good;
  }

  /** Follows the chain; if it replaced indexed blocks meanwhile, rebuilds the index instead. */
  async #syncNow(target?: number, options: ReplayOptions = {}): Promise<number> {
    try {
      return await this.#follow(target, options);
    } catch (error) {
      if (!(error instanceof ReorgDetected)) throw error;
      this.#reorg = `the chain replaced indexed blocks (${error.message}); rebuilding the index from chain events`;
      this.log.error(
        { block: error.block, indexedHash: error.indexedHash, chainHash: error.chainHash },
        "THE CHAIN REPLACED BLOCKS THE INDEX WAS BUILT FROM (a reorg): rebuilding the index from chain events",
      );
      try {
        const applied = await this.#rebuildNow({ reorg: error, toldBefore: options.told });
        this.log.warn({ events: applied }, "index rebuilt after the reorg");
        return applied;
      } finally {
        this.#reorg = undefined;
      }
    }
  }

  /** The hash the chain has now for `block`, if it has that block. */
  async #hashOnChain(block: number): Promise<string | undefined> {
    return (await this.provider.getBlock(block))?.hash ?? undefined;
  }

  async #follow(target: number | undefined, { onProgress, toldThrough = -1, told }: ReplayOptions): Promise<number> {
    const toldLeft = new Map(told);
    const head = target ?? (await this.provider.getBlockNumber());
    let from = (await this.indexedBlock()) + 1;
    let applied = 0;
    let range = RANGE;
    if (from > head && from - 1 >= this.deploymentBlock) {
      // Nothing new to read: is what was read still there? (A chain not as far as the cursor
      // is reported by readiness as behind; it is rebuilt from once it has a different block there.)
      const chainHash = await this.#hashOnChain(from - 1);
      const stored = await this.db.selectFrom("meta").select("value").where("key", "=", CURSOR_HASH).executeTakeFirst();
      if (chainHash && stored && chainHash !== stored.value) throw new ReorgDetected(from - 1, stored.value, chainHash);
    }
    while (from <= head) {
      const to = Math.min(head, from + range - 1);
      // Both hashes are read before the logs: a reorg after this point leaves a cursor hash
      // that the next pass finds replaced, never replaced events under a current hash.
      const parentHash = from - 1 >= this.deploymentBlock ? await this.#hashOnChain(from - 1) : undefined;
      const toBlock = await this.provider.getBlock(to);
      if (!toBlock?.hash) throw new Error(`block ${to} is not available`);
      let logs: Log[];
      try {
        logs = await this.provider.getLogs({ address: [...this.#byAddress.keys()], fromBlock: from, toBlock: to });
      } catch (error) {
        // A range too busy to answer within the RPC timeout: ask for less.
        if (to - from < 8) throw error;
        range = Math.max(1, Math.floor((to - from + 1) / 4));
        continue;
      }
      if (logs.length > MAX_LOGS_PER_BATCH && to > from) {
        range = Math.max(1, Math.floor((to - from + 1) / 2));
        continue;
      }
      const events = logs.map((log) => this.#decode(log)).filter((e): e is IndexedEvent => e !== undefined);
      const shared = engineOf(this.db) === "postgres";
      const committed = await this.db.transaction().execute(async (trx) => {
        if (shared) await sql`select pg_advisory_xact_lock(${LOCK_NAMESPACE}, ${lockKey(CURSOR_BLOCK)})`.execute(trx);
        const cursorRow = await trx
          .selectFrom("meta")
          .select("value")
          .where("key", "=", CURSOR_BLOCK)
          .executeTakeFirst();
        const cursor = cursorRow ? Number(cursorRow.value) : this.deploymentBlock - 1;
        // Another replica indexed this range meanwhile: its events are in, its cursor is further.
        if (cursor >= to) return true;
        // The index went back under this pass (a rebuild elsewhere): the next pass starts over from it.
        if (cursor < from - 1) return false;
        if (cursor === from - 1 && from - 1 >= this.deploymentBlock) {
          const stored = await trx.selectFrom("meta").select("value").where("key", "=", CURSOR_HASH).executeTakeFirst();
          if (stored && stored.value !== parentHash)
            throw new ReorgDetected(from - 1, stored.value, parentHash ?? "no block");
        }
        const journaled: IndexedEvent[] = [];
        for (const event of events) {
          const inserted = await trx
            .insertInto("chain_events")
            .values({
              block_number: event.blockNumber,
              log_index: event.logIndex,
              block_hash: event.blockHash,
              tx_hash: event.txHash,
              contract: event.contract,
              name: event.name,
              args: JSON.stringify(event.args),
              receivable_id: namedReceivableOf(event.args),
            })
            .onConflict((oc) => oc.doNothing())
            .executeTakeFirst();
          // An event already journaled was already applied: never apply twice.
          if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0) {
            await applyEvent(trx, event);
            journaled.push(event);
            // The outbox row commits with the projection it reports, or neither does. An event
            // the reorg moved to another block was told from the block it was first read in.
            const key = survivorKey({ ...event, args: JSON.stringify(event.args) });
            const toldAgain = toldLeft.get(key) ?? 0;
            if (toldAgain > 0) toldLeft.set(key, toldAgain - 1);
            else if (event.blockNumber > toldThrough) await enqueueChainWebhook(trx, event);
          }
        }
        await attributeEvents(trx, journaled);
        if (events.length > 0) crashPoint("indexer:before-commit");
        await trx
          .insertInto("meta")
          .values({ key: CURSOR_BLOCK, value: String(to) })
          .onConflict((oc) => oc.column("key").doUpdateSet({ value: String(to) }))
          .execute();
        await trx
          .insertInto("meta")
          .values({ key: CURSOR_HASH, value: toBlock.hash! })
          .onConflict((oc) => oc.column("key").doUpdateSet({ value: toBlock.hash! }))
          .execute();
        return true;
      });
      if (!committed) {
        this.log.info({ from, to }, "the index was rebuilt under this pass: it stops here");
        return applied;
      }
      applied += events.length;
      if (events.length > 0) this.log.debug({ from, to, events: events.length }, "indexed events");
      onProgress?.({ from, to, head, events: applied });
      if (logs.length < MAX_LOGS_PER_BATCH / 4) range = Math.min(RANGE, range * 2);
      from = to + 1;
    }
    return applied;
  }

  #decode(log: Log): IndexedEvent | undefined {
    const source = this.#byAddress.get(log.address.toLowerCase());
    if (!source) return undefined;
    const parsed = decodeLog(source.contract.interface, log);
    if (!parsed) return undefined;
    // A batch item the registry refused changed nothing on the chain: the batcher reads it
    // from its receipt; the index (and the receivable's trace) has nothing to record.
    if (parsed.name === "RegistrationRefused") return undefined;
    const args: Record<string, unknown> = {};
    parsed.fragment.inputs.forEach((input, i) => {
      args[input.name] = normalise(parsed!.args[i]);
    });
    return {
      blockNumber: log.blockNumber,
      logIndex: log.index,
      blockHash: log.blockHash,
      txHash: log.transactionHash,
      contract: source.name,
      name: parsed.name,
      args,
    };
  }
}

/** bigints as decimal strings, arrays element-wise: JSON-safe and exact. */
function normalise(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map(normalise);
  return value;
}
