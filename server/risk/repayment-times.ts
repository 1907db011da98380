// When was a receivable repaid, in chain time? The indexer keeps block numbers, not
// block timestamps; the risk engine reads the timestamp of the block whose
// ReceivableStatusChanged(Repaid) event closed the receivable once, from the chain, and
// keeps it in its own table (risk_repayment_times). Nothing is added to the indexer.
import type { ServiceContext } from "../context.js";
import { KeptValues } from "./kept-values.js";
import { readInChunks } from "../store/in-chunks.js";

const REPAID = "4"; // IReceivableRegistry.ReceivableStatus.Repaid

// Every rescore of a debtor asks for the repayment time of each receivable it ever repaid: a
// year into a core enterprise's use, nearly its whole book, read again in chunks of 500 on
// every limit check (issue 12). A time, once recorded, never changes (the row is written once
// and never updated), so the times read are kept here too (kept-values.ts). About 150 bytes a
// time: 37 MB when full.
const repaidTimes = new KeptValues<string, number>(250_000);

/** For tests: how many repayment times are kept, and nothing kept yet. */
export function keepRepaymentTimes(capacity: number): void {
  repaidTimes.reset(capacity);
}

/** Unix seconds each receivable in `receivableIds` reached Repaid; absent while the event is not indexed. */
export async function repaidAtOf(ctx: ServiceContext, receivableIds: string[]): Promise<Map<string, number>> {
  const known = new Map<string, number>();
  const unknown: string[] = [];
  for (const id of receivableIds) {
    const kept = repaidTimes.get(id);
    if (kept === undefined) unknown.push(id);
    else known.set(id, kept);
  }
  if (unknown.length === 0) return known;
  const keep = (id: string, at: number) => known.set(id, repaidTimes.keep(id, at));
  const recorded = await readInChunks(unknown, (chunk) =>
    ctx.db
      .selectFrom("risk_repayment_times")
      .select(["receivable_id", "repaid_at"])
      .where("receivable_id", "in", chunk)
      .execute(),
  );
  for (const row of recorded) keep(row.receivable_id, row.repaid_at);
  for (const id of unknown) {
    if (known.has(id)) continue;
    const events = await ctx.db
      .selectFrom("chain_events")
      .select(["block_number", "block_hash", "args"])
      .where("contract", "=", "registry")
      .where("name", "=", "ReceivableStatusChanged")
      .where("args", "like", `%${id}%`)
      .orderBy("block_number")
      .orderBy("log_index")
      .execute();
    const repaid = events.find((e) => {
      const args = JSON.parse(e.args) as { receivableId?: string; status?: string };
      return args.receivableId === id && String(args.status) === REPAID;
    });
    if (!repaid) continue;
    const block = await ctx.chain.provider.getBlock(repaid.block_number);
    if (!block) continue;
    await ctx.db
      .insertInto("risk_repayment_times")
      .values({
        receivable_id: id,
        repaid_at: block.timestamp,
        block_number: repaid.block_number,
        block_hash: repaid.block_hash,
      })
      .onConflict((oc) => oc.column("receivable_id").doNothing())
      .execute();
    // Another process may have recorded it first (do nothing above): the stored time is the one kept.
    const stored = await ctx.db
      .selectFrom("risk_repayment_times")
      .select("repaid_at")
      .where("receivable_id", "=", id)
      .executeTakeFirst();
    keep(id, stored?.repaid_at ?? block.timestamp);
  }
  return known;
}
