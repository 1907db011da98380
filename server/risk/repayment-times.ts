// When was a receivable repaid, in chain time? The indexer keeps block numbers, not
// block timestamps; the risk engine reads the timestamp of the block whose
// ReceivableStatusChanged(Repaid) event closed the receivable once, from the chain, and
// keeps it in its own table (risk_repayment_times). Nothing is added to the indexer.
import type { ServiceContext } from "../context.js";

const REPAID = "4"; // IReceivableRegistry.ReceivableStatus.Repaid

/** Unix seconds each receivable in `receivableIds` reached Repaid; absent while the event is not indexed. */
export async function repaidAtOf(ctx: ServiceContext, receivableIds: string[]): Promise<Map<string, number>> {
  const known = new Map<string, number>();
  if (receivableIds.length === 0) return known;
  for (let i = 0; i < receivableIds.length; i += 500) {
    const rows = await ctx.db
      .selectFrom("risk_repayment_times")
      .select(["receivable_id", "repaid_at"])
      .where("receivable_id", "in", receivableIds.slice(i, i + 500))
      .execute();
    for (const row of rows) known.set(row.receivable_id, row.repaid_at);
  }
  for (const id of receivableIds) {
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
    known.set(id, block.timestamp);
  }
  return known;
}
