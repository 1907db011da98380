// The rows a party's risk history is built from (risk/history.ts): its receivables as seller
// or debtor, and the ones registered on-chain that it owes. Every limit check rescores both
// parties, and at a core enterprise's month-end every confirmation names the same debtor, so
// reading all of its rows each time grew with the book (0.12 s at 25,000). On SQLite the rows
// are kept per party and refreshed from party_history_changes, which triggers fill with the
// receivables whose history columns changed (migration 0019): a refresh reads the changes
// after the last one seen, then only those receivables. SQLite has one writer at a time, so
// the log's order is commit order and nothing is skipped. The log is pruned hourly to its last
// 200,000 changes (pruneHistoryChanges). On PostgreSQL, and for parties not kept, the rows are
// read in full.
import { SqliteAdapter } from "kysely";
import type { Db } from "../store/database.js";
import type { PartyRecord } from "../store/parties-store.js";
import { readInChunks } from "../store/in-chunks.js";

export interface SubmittedRow {
  id: string;
  seller_id: string;
  debtor_id: string;
  face_value: string;
  status: string;
  document_hash: string;
}

export interface OwedRow {
  id: string;
  face_value: string;
  repaid_amount: string;
  due_date: number;
  status: string;
}

export interface HistoryRows {
  submitted: SubmittedRow[];
  owed: OwedRow[];
}

/** A party's rows as kept: maps by receivable id, and what changed at the last refresh. */
export interface KeptRows {
  /** The last change seen: every change up to it is in the rows. */
  readonly seq: number;
  readonly submitted: ReadonlyMap<string, SubmittedRow>;
  readonly owed: ReadonlyMap<string, OwedRow>;
  /** Set when these rows are a refresh of the rows kept at change `from`: the receivables read again. */
  readonly changed?: { from: number; ids: readonly string[] };
  /** What a reader derives from the rows and keeps beside them (kept-scoring.ts: the score's totals), carried through refreshes. */
  derived?: unknown;
}

interface Kept extends KeptRows {
  seq: number;
  submitted: Map<string, SubmittedRow>;
  owed: Map<string, OwedRow>;
  changed?: { from: number; ids: string[] };
  /** The refresh under way: the rows change in place, one refresh at a time. */
  refreshing?: Promise<void>;
}

// A party with fewer rows is read in full: cheap, and it keeps the memory for the big ones.
const KEEP_FROM_ROWS = 500;
// Parties kept per database, least recently used out: ~150 bytes a row, and about as much
// again for the score's records kept beside them (kept-scoring.ts), so 32 parties of 100,000
// receivables are ~1 GB at most.
const KEEP_PARTIES = 32;
// More changes than this since the last look: reading everything again is cheaper.
const MAX_CHANGES = 5_000;

const kept = new WeakMap<Db, Map<string, Kept>>();
/** The last change pruned from the log, per database: a history kept from before it is read again in full. */
const prunedThrough = new WeakMap<Db, number>();

/** For tests: forget every kept history. */
export function forgetHistoryRows(db: Db): void {
  kept.delete(db);
}

const submittedColumns = ["id", "seller_id", "debtor_id", "face_value", "status", "document_hash"] as const;
const owedColumns = ["id", "face_value", "repaid_amount", "due_date", "status"] as const;

/** The party's history rows: kept ones refreshed, or all read now. */
export async function historyRowsOf(db: Db, party: PartyRecord): Promise<HistoryRows> {
  const found = await keptOrReadRows(db, party);
  if ("rows" in found) return found.rows;
  return { submitted: [...found.kept.submitted.values()], owed: [...found.kept.owed.values()] };
}

/** The party's rows as kept (refreshed first), or read in full when the party is not kept (PostgreSQL, small parties). */
export async function keptOrReadRows(db: Db, party: PartyRecord): Promise<{ kept: KeptRows } | { rows: HistoryRows }> {
  if (!(db.getExecutor().adapter instanceof SqliteAdapter)) return { rows: await readRows(db, party) };
  const parties = kept.get(db) ?? new Map<string, Kept>();
  kept.set(db, parties);
  const entry = parties.get(party.id);
  const fresh = entry ? await refreshed(db, party, entry) : await loadKept(db, party);
  parties.delete(party.id); // re-inserted below: the map's order is the recency order
  if (fresh.submitted.size + fresh.owed.size < KEEP_FROM_ROWS)
    return { rows: { submitted: [...fresh.submitted.values()], owed: [...fresh.owed.values()] } };
  parties.set(party.id, fresh);
  while (parties.size > KEEP_PARTIES) parties.delete(parties.keys().next().value!);
  return { kept: fresh };
}

/** The party's rows, all of them or only those of `ids`. */
async function readRows(db: Db, party: PartyRecord, ids?: string[]): Promise<HistoryRows> {
  let submitted = db
    .selectFrom("receivables")
    .select(submittedColumns)
    .where((eb) => eb.or([eb("seller_id", "=", party.id), eb("debtor_id", "=", party.id)]));
  let owed = db.selectFrom("onchain_receivables").select(owedColumns).where("debtor", "=", party.address);
  if (ids) {
    submitted = submitted.where("id", "in", ids);
    owed = owed.where("id", "in", ids);
  }
  return { submitted: await submitted.execute(), owed: await owed.execute() };
}

async function lastChange(db: Db): Promise<number> {
  const row = await db
    .selectFrom("party_history_changes")
    .select((eb) => eb.fn.max("seq").as("seq"))
    .executeTakeFirst();
  return Number(row?.seq ?? 0);
}

async function loadKept(db: Db, party: PartyRecord): Promise<Kept> {
  // The log's position first: a change after it is seen again next time, never missed.
  const seq = await lastChange(db);
  const rows = await readRows(db, party);
  return {
    seq,
    submitted: new Map(rows.submitted.map((row) => [row.id, row])),
    owed: new Map(rows.owed.map((row) => [row.id, row])),
  };
}

/**
 * The entry brought up to the last change: its rows are changed in place (copying a book of
 * 25,000 rows at each look was most of a kept rescore), all at once after the reads, so a
 * reader sees the rows of one change or the next, never a mix. Refreshes of one entry run
 * one after the other. A full read gives a new entry.
 */
async function refreshed(db: Db, party: PartyRecord, entry: Kept): Promise<Kept> {
  while (entry.refreshing) await entry.refreshing;
  let done!: () => void;
  entry.refreshing = new Promise<void>((resolve) => (done = resolve));
  try {
    const changes = await db
      .selectFrom("party_history_changes")
      .select(["seq", "receivable_id"])
      .where("party_id", "=", party.id)
      .where("seq", ">", entry.seq)
      .orderBy("seq")
      .limit(MAX_CHANGES + 1)
      .execute();
    // Changes it had not seen may have been pruned, before this read or during it (the cut is
    // recorded before its rows go): only a full read is sure to hold them.
    if (entry.seq < (prunedThrough.get(db) ?? 0)) return await loadKept(db, party);
    if (changes.length === 0) return entry;
    if (changes.length > MAX_CHANGES) return await loadKept(db, party);
    const ids = [...new Set(changes.map((change) => change.receivable_id))];
    const read = await readInChunks(ids, async (chunk) => [await readRows(db, party, chunk)]);
    replace(
      entry.submitted,
      ids,
      read.flatMap((rows) => rows.submitted),
    );
    replace(
      entry.owed,
      ids,
      read.flatMap((rows) => rows.owed),
    );
    entry.changed = { from: entry.seq, ids };
    entry.seq = Number(changes.at(-1)!.seq);
    return entry;
  } finally {
    entry.refreshing = undefined;
    done();
  }
}

/** The rows of `ids` as they are now: changed ones updated in place, ones that no longer name the party (or are gone) removed. */
function replace<Row extends { id: string }>(rows: Map<string, Row>, ids: string[], now: Row[]): void {
  const found = new Set(now.map((row) => row.id));
  for (const id of ids) if (!found.has(id)) rows.delete(id);
  for (const row of now) rows.set(row.id, row);
}

/**
 * Bounds the change log (the risk monitor's hourly pass): keeps its last `keep` changes and
 * deletes the rest. A history kept from before the cut is read again in full at its next
 * look. Returns how many changes were deleted.
 */
export async function pruneHistoryChanges(db: Db, keep = 200_000): Promise<number> {
  if (!(db.getExecutor().adapter instanceof SqliteAdapter)) return 0;
  const through = (await lastChange(db)) - keep;
  if (through <= (prunedThrough.get(db) ?? 0)) return 0;
  // Recorded first: a refresh that starts while the rows go already reads in full.
  prunedThrough.set(db, through);
  const deleted = await db.deleteFrom("party_history_changes").where("seq", "<=", through).executeTakeFirst();
  return Number(deleted.numDeletedRows);
}
