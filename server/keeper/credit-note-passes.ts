// The keeper's part in a credit note over a tree wider than MAX_DILUTION_LEAVES (issue 16): once
// approved the note is Applying, and its cuts are made by permissionless continueCreditNote calls,
// a tally pass then a cut pass, each in chunks of at most MAX_DILUTION_LEAVES ascending leaf ids.
// Like the rest of the keeper this keeps no state: the next chunk is derived from the ledger's
// `applicationOf` (pass, leaves done, cursor) and the index's leaves, so a crash mid-way neither
// loses nor repeats a chunk (a chunk already taken reverts on the cursor: re-read and go on).
// The cut pass must take exactly the chunks the tally took (the ledger checks each by hash), so
// its chunk sizes are read from the tally's CreditNoteChunkProcessed events.
import type { ServiceContext } from "../context.js";
import { CreditNoteStatus } from "../model/contract-enums.js";
import { leavesOf } from "../domain/dilution.js";

/** IDilutionLedger.ApplicationPhase */
const TALLYING = 1n;
const CUTTING = 2n;

export interface CreditNoteApplication {
  creditNoteId: string;
  receivableId: string;
  proposedBlock: number;
}

/** Credit notes the index shows Applying (approved over a wide tree, cuts still to make). */
export async function findApplyingCreditNotes(ctx: ServiceContext): Promise<CreditNoteApplication[]> {
  const rows = await ctx.db
    .selectFrom("onchain_credit_notes")
    .select(["id", "receivable_id", "proposed_block"])
    .where("status", "=", "applying")
    .execute();
  return rows
    .map((row) => ({
      creditNoteId: row.id,
      receivableId: row.receivable_id,
      proposedBlock: Number(row.proposed_block),
    }))
    .sort((a, b) => Number(BigInt(a.creditNoteId) - BigInt(b.creditNoteId)));
}

export type NextChunk =
  | { done: true }
  | { done: false; phase: "tally" | "cut"; leafIds: string[] }
  /** The tally took every leaf after its cursor and still has not seen them all: it skipped one. */
  | { done: false; phase: "stuck"; processed: number; leafCount: number };

/**
 * The next chunk of `application`, as the chain stands now: the leaves after the pass's cursor,
 * at most `maxChunk` (tally) or exactly as many as the tally took at this position (cut).
 */
export async function nextChunk(
  ctx: ServiceContext,
  application: CreditNoteApplication,
  maxChunk: number,
): Promise<NextChunk> {
  const ledger = ctx.chain.contracts.dilution!;
  const note = await ledger.creditNoteOf(application.creditNoteId);
  if (BigInt(note.status) !== CreditNoteStatus.applying) return { done: true };
  const [phase, processedRaw, leafCountRaw, cursorRaw] = (await ledger.applicationOf(application.creditNoteId)) as [
    bigint,
    bigint,
    bigint,
    bigint,
  ];
  const processed = Number(processedRaw);
  const cursor = BigInt(cursorRaw);
  const after = (await leavesOf(ctx, application.receivableId)).filter((id) => BigInt(id) > cursor);
  if (BigInt(phase) === TALLYING) {
    if (after.length === 0) return { done: false, phase: "stuck", processed, leafCount: Number(leafCountRaw) };
    return { done: false, phase: "tally", leafIds: after.slice(0, maxChunk) };
  }
  if (BigInt(phase) !== CUTTING) return { done: true };
  const size = (await tallyChunkSizes(ctx, application)).get(processed);
  if (size === undefined) throw new Error(`credit note ${application.creditNoteId}: no tally chunk at ${processed}`);
  return { done: false, phase: "cut", leafIds: after.slice(0, size) };
}

/**
 * The tally's chunks of the note's last tally round, as start position -> size, from its
 * CreditNoteChunkProcessed events (the chain's, filtered by the note id topic).
 */
async function tallyChunkSizes(ctx: ServiceContext, application: CreditNoteApplication): Promise<Map<number, number>> {
  const ledger = ctx.chain.contracts.dilution!;
  const logs = await ledger.queryFilter(
    ledger.filters.CreditNoteChunkProcessed(application.creditNoteId),
    application.proposedBlock,
  );
  const tally = logs
    .map((log) => ("args" in log ? log.args : undefined))
    .filter((args) => args !== undefined && BigInt(args.phase) === TALLYING)
    .map((args) => ({ round: BigInt(args!.round), processed: Number(args!.processed) }));
  const lastRound = tally.reduce((max, chunk) => (chunk.round > max ? chunk.round : max), 0n);
  const sizes = new Map<number, number>();
  let start = 0;
  for (const chunk of tally.filter((c) => c.round === lastRound)) {
    sizes.set(start, chunk.processed - start);
    start = chunk.processed;
  }
  return sizes;
}
