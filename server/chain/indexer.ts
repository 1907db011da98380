// Follows the contracts' events into the database. Every event is journaled in
// chain_events and applied to the onchain_* projections in the same transaction as the
// cursor move, so a crash never half-applies a block range. The projections can be
// dropped and rebuilt from the chain alone (rebuild()). Several replicas may sync one
// PostgreSQL index: each range commits under a transaction-scoped advisory lock and re-reads
// the cursor inside it, so ranges apply one after another and the cursor never goes back.
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

export class Indexer {
  readonly #queue = new PQueue({ concurrency: 1 });
  readonly #byAddress: Map<string, { name: string; contract: BaseContract }>;
  #timer: NodeJS.Timeout | undefined;
  #lastError: string | undefined;

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
    return this.#queue.add(async () => {
      let toldThrough = -1;
      await this.db.transaction().execute(async (trx) => {
        // Another replica's range must not commit between the emptying and the replay.
        if (engineOf(this.db) === "postgres")
          await sql`select pg_advisory_xact_lock(${LOCK_NAMESPACE}, ${lockKey(CURSOR_BLOCK)})`.execute(trx);
        // Events up to the old cursor were told to webhook endpoints when first indexed: a
        // rebuild replays them into the index, not into the outbox again. Read under the lock,
        // so no range another replica commits meanwhile is left out.
        const cursor = await trx.selectFrom("meta").select("value").where("key", "=", CURSOR_BLOCK).executeTakeFirst();
        toldThrough = cursor ? Number(cursor.value) : this.deploymentBlock - 1;
        for (const table of INDEX_TABLES) await trx.deleteFrom(table).execute();
        await trx.deleteFrom("meta").where("key", "in", [CURSOR_BLOCK, CURSOR_HASH]).execute();
      });
      this.log.warn("index emptied; rebuilding from chain events");
      return this.#syncNow(undefined, { onProgress, toldThrough });
    });
  }

  /** `toldThrough`: the last block whose events are already in the webhook outbox. */
  async #syncNow(
    target?: number,
    { onProgress, toldThrough = -1 }: { onProgress?: (progress: IndexProgress) => void; toldThrough?: number } = {},
  ): Promise<number> {
    const head = target ?? (await this.provider.getBlockNumber());
    let from = (await this.indexedBlock()) + 1;
    let applied = 0;
    let range = RANGE;
    while (from <= head) {
      const to = Math.min(head, from + range - 1);
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
      const toBlock = await this.provider.getBlock(to);
      if (!toBlock?.hash) throw new Error(`block ${to} is not available`);
      const events = logs.map((log) => this.#decode(log)).filter((e): e is IndexedEvent => e !== undefined);
      const shared = engineOf(this.db) === "postgres";
      await this.db.transaction().execute(async (trx) => {
        if (shared) {
          await sql`select pg_advisory_xact_lock(${LOCK_NAMESPACE}, ${lockKey(CURSOR_BLOCK)})`.execute(trx);
          const cursor = await trx
            .selectFrom("meta")
            .select("value")
            .where("key", "=", CURSOR_BLOCK)
            .executeTakeFirst();
          // Another replica indexed this range meanwhile: its events are in, its cursor is further.
          if (cursor && Number(cursor.value) >= to) return;
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
            // The outbox row commits with the projection it reports, or neither does.
            if (event.blockNumber > toldThrough) await enqueueChainWebhook(trx, event);
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
      });
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
