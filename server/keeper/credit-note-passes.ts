// The keeper's part in a credit note over a tree wider than MAX_DILUTION_LEAVES (issue 16): once
// approved the note is Applying, and its cuts are made by permissionless continueCreditNote calls,
// a tally pass then a cut pass, each in chunks of at most MAX_DILUTION_LEAVES ascending leaf ids.
// Like the rest of the keeper this keeps no state: the next chunk is derived from the ledger's
// `applicationOf` (pass, leaves done, cursor) and the index's leaves, so a crash mid-way neither
// loses nor repeats a chunk (a chunk already taken reverts on the cursor: re-read and go on).
// The cut pass must take exactly the chunks the tally took (the ledger checks each by hash), so
// its chunk sizes are read from the tally's CreditNoteChunkProcessed events. A tally someone else
// fed a chunk with a gap can never finish: the keeper then proves the gap (the tallied chunks are
// read back from their transactions) and restarts the tally with restartTally.
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
  /** The tally skipped a leaf below its cursor (fewer leaves there than it counted): it cannot finish. */
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
  const leaves = await leavesOf(ctx, application.receivableId);
  const after = leaves.filter((id) => BigInt(id) > cursor);
  if (BigInt(phase) === TALLYING) {
    // The tally took `processed` distinct leaves, all at or below the cursor: more leaves there
    // than that means it skipped one, and it can never finish. Say so now, not after the last chunk.
    if (leaves.length - after.length > processed || after.length === 0)
      return { done: false, phase: "stuck", processed, leafCount: Number(leafCountRaw) };
    return { done: false, phase: "tally", leafIds: after.slice(0, maxChunk) };
  }
  if (BigInt(phase) !== CUTTING) return { done: true };
  const size = (await tallyChunkSizes(ctx, application)).get(processed);
  if (size === undefined) throw new Error(`credit note ${application.creditNoteId}: no tally chunk at ${processed}`);
  return { done: false, phase: "cut", leafIds: after.slice(0, size) };
}

interface TallyChunk {
  /** Its start position, and the cursor before it (what the ledger hashed it with). */
  position: number;
  before: bigint;
  size: number;
  txHash: string;
}

/**
 * The tally's chunks of the note's last tally round, in order, from its CreditNoteChunkProcessed
 * events (the chain's, filtered by the note id topic).
 */
async function tallyChunks(ctx: ServiceContext, application: CreditNoteApplication): Promise<TallyChunk[]> {
  const ledger = ctx.chain.contracts.dilution!;
  const logs = await ledger.queryFilter(
    ledger.filters.CreditNoteChunkProcessed(application.creditNoteId),
    application.proposedBlock,
  );
  const tally = logs.flatMap((log) =>
    "args" in log && BigInt(log.args.phase) === TALLYING
      ? [
          {
            round: BigInt(log.args.round),
            processed: Number(log.args.processed),
            cursor: BigInt(log.args.cursor),
            txHash: log.transactionHash,
          },
        ]
      : [],
  );
  const lastRound = tally.reduce((max, chunk) => (chunk.round > max ? chunk.round : max), 0n);
  const chunks: TallyChunk[] = [];
  let position = 0;
  let before = 0n;
  for (const chunk of tally.filter((c) => c.round === lastRound)) {
    chunks.push({ position, before, size: chunk.processed - position, txHash: chunk.txHash });
    position = chunk.processed;
    before = chunk.cursor;
  }
  return chunks;
}

async function tallyChunkSizes(ctx: ServiceContext, application: CreditNoteApplication): Promise<Map<number, number>> {
  return new Map((await tallyChunks(ctx, application)).map((chunk) => [chunk.position, chunk.size]));
}

export interface TallyGap {
  position: number;
  before: string;
  chunk: string[];
  missingLeafId: string;
}

/**
 * The proof restartTally wants for a tally that skipped a leaf: a tallied chunk (read back from
 * the transaction that sent it) and a leaf of the receivable strictly between two of its ids.
 * Undefined when no chunk can be read back (sent through another contract) or no gap is found.
 */
export async function findTallyGap(
  ctx: ServiceContext,
  application: CreditNoteApplication,
): Promise<TallyGap | undefined> {
  const ledger = ctx.chain.contracts.dilution!;
  const ledgerAddress = String(ledger.target).toLowerCase();
  const chunks: Array<TallyChunk & { ids: bigint[] }> = [];
  for (const chunk of await tallyChunks(ctx, application)) {
    const tx = await ctx.chain.provider.getTransaction(chunk.txHash);
    if (!tx || tx.to?.toLowerCase() !== ledgerAddress) return undefined;
    const call = ledger.interface.parseTransaction({ data: tx.data });
    if (call?.name !== "continueCreditNote" || String(call.args[0]) !== application.creditNoteId) return undefined;
    chunks.push({ ...chunk, ids: (call.args[1] as bigint[]).map(BigInt) });
  }
  const tallied = new Set(chunks.flatMap((chunk) => chunk.ids.map(String)));
  for (const leaf of await leavesOf(ctx, application.receivableId)) {
    if (tallied.has(leaf)) continue;
    const missing = BigInt(leaf);
    for (const chunk of chunks) {
      const walk = [chunk.before, ...chunk.ids];
      for (let i = 1; i < walk.length; i++) {
        if (walk[i - 1]! < missing && missing < walk[i]!)
          return {
            position: chunk.position,
            before: chunk.before.toString(),
            chunk: chunk.ids.map(String),
            missingLeafId: leaf,
          };
      }
    }
  }
  return undefined;
}
