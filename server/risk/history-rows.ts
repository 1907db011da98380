// The rows a party's risk history is built from (risk/history.ts): its receivables as seller
// or debtor, and the ones registered on-chain that it owes. Every limit check rescores both
// parties, and at a core enterprise's month-end every confirmation names the same debtor, so
// reading all of its rows each time grew with the book (0.12 s at 25,000). The rows of a big
// party are kept and refreshed from party_history_changes, which triggers fill with the
// receivables whose history columns changed (SQLite: migration 0019, PostgreSQL: 0023): a
// refresh reads the party's changes since its cursor, then only those receivables.
// - SQLite has one writer at a time, so the log's `seq` is commit order: the cursor is the last
//   change seen, and nothing after it is skipped.
// - PostgreSQL numbers rows when they are written, not when they commit, so a later `seq` can
//   commit first. Each change carries its transaction's id instead, and the cursor is the xmin
//   of the snapshot the refresh read in: every transaction below it had ended, so its changes
//   were seen; changes at or above it are read again at the next refresh (harmless: a row is
//   read as it is now).
// The log is pruned hourly to its last 200,000 changes (pruneHistoryChanges); a party kept from
// before the cut is read again in full. Parties with fewer than 500 rows are read in full.
import { SqliteAdapter, sql } from "kysely";
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
  /** Bumped by every refresh that read rows again: what a reader derived at one version is up to these rows. */
  readonly version: number;
  readonly submitted: ReadonlyMap<string, SubmittedRow>;
  readonly owed: ReadonlyMap<string, OwedRow>;
  /** Set when these rows are a refresh of the rows kept at version `from`: the receivables read again. */
  readonly changed?: { from: number; ids: readonly string[] };
  /** What a reader derives from the rows and keeps beside them (kept-scoring.ts: the score's totals), carried through refreshes. */
  derived?: unknown;
}

interface Kept extends KeptRows {
  version: number;
  /** Where this party's reading of the change log is (see the header): a change log position. */
  cursor: number;
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
/** SQLite: the last change pruned from the log, per database (one process writes it). */
const prunedThrough = new WeakMap<Db, number>();
/** PostgreSQL: the transaction id below which changes were pruned, shared by the replicas (risk_state). */
const PRUNED_BELOW_KEY = "history_changes_pruned_below_xid";
let versions = 0;

const onSqlite = (db: Db): boolean => db.getExecutor().adapter instanceof SqliteAdapter;

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

/** The party's rows as kept (refreshed first), or read in full when the party is small. */
export async function keptOrReadRows(db: Db, party: PartyRecord): Promise<{ kept: KeptRows } | { rows: HistoryRows }> {
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

/** The change log's position now: a read after this sees every change before it. */
async function logPosition(db: Db): Promise<number> {
  if (onSqlite(db)) return lastChange(db);
  const { rows } = await sql<{ xmin: string }>`select pg_snapshot_xmin(pg_current_snapshot())::text as xmin`.execute(
    db,
  );
  return Number(rows[0]!.xmin);
}

/**
 * The receivables of the party's changes since `cursor`, and the cursor of a reader that has
 * seen them; undefined when only a full read is sure to hold them (changes it had not seen were
 * pruned, or there are too many to be worth reading one by one).
 */
async function changesSince(
  db: Db,
  partyId: string,
  cursor: number,
): Promise<{ ids: string[]; cursor: number } | undefined> {
  if (onSqlite(db)) {
    const changes = await db
      .selectFrom("party_history_changes")
      .select(["seq", "receivable_id"])
      .where("party_id", "=", partyId)
      .where("seq", ">", cursor)
      .orderBy("seq")
      .limit(MAX_CHANGES + 1)
      .execute();
    // Pruned before this read or during it: the cut is recorded before its rows go.
    if (cursor < (prunedThrough.get(db) ?? 0) || changes.length > MAX_CHANGES) return undefined;
    const ids = [...new Set(changes.map((change) => change.receivable_id))];
    return { ids, cursor: changes.length === 0 ? cursor : Number(changes.at(-1)!.seq) };
  }
  // One statement, one snapshot: its xmin, the pruning cut and the changes are read together.
  const { rows } = await sql<{ xmin: string; pruned: string | null; receivable_id: string | null }>`
    with now as (
      select pg_snapshot_xmin(pg_current_snapshot())::text as xmin,
             (select value from risk_state where key = ${PRUNED_BELOW_KEY}) as pruned)
    select now.xmin, now.pruned, c.receivable_id from now
    left join lateral (
      select receivable_id from party_history_changes
      where party_id = ${partyId} and xid >= ${cursor} limit ${MAX_CHANGES + 1}) c on true`.execute(db);
  const { xmin, pruned } = rows[0]!;
  const ids = rows.flatMap((row) => (row.receivable_id === null ? [] : [row.receivable_id]));
  if ((pruned !== null && cursor < Number(pruned)) || ids.length > MAX_CHANGES) return undefined;
  return { ids: [...new Set(ids)], cursor: Math.max(cursor, Number(xmin)) };
}

async function loadKept(db: Db, party: PartyRecord): Promise<Kept> {
  // The log's position first: a change after it is seen again next time, never missed.
  const cursor = await logPosition(db);
  const rows = await readRows(db, party);
  return {
    version: ++versions,
    cursor,
    submitted: new Map(rows.submitted.map((row) => [row.id, row])),
    owed: new Map(rows.owed.map((row) => [row.id, row])),
  };
}

/**
 * The entry brought up to the last change: its rows are changed in place (copying a book of
 * 25,000 rows at each look was most of a kept rescore), all at once after the reads, so a
 * reader sees the rows of one version or the next, never a mix. Refreshes of one entry run
 * one after the other. A full read gives a new entry.
 */
async function refreshed(db: Db, party: PartyRecord, entry: Kept): Promise<Kept> {
  while (entry.refreshing) await entry.refreshing;
  let done!: () => void;
  entry.refreshing = new Promise<void>((resolve) => (done = resolve));
  try {
    const changes = await changesSince(db, party.id, entry.cursor);
    if (!changes) return await loadKept(db, party);
    entry.cursor = changes.cursor;
    const { ids } = changes;
    if (ids.length === 0) return entry;
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
    entry.changed = { from: entry.version, ids };
    entry.version = ++versions;
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
  const through = (await lastChange(db)) - keep;
  if (!onSqlite(db)) return through > 0 ? pruneOnPostgres(db, through) : 0;
  if (through <= (prunedThrough.get(db) ?? 0)) return 0;
  // Recorded first: a refresh that starts while the rows go already reads in full.
  prunedThrough.set(db, through);
  const deleted = await db.deleteFrom("party_history_changes").where("seq", "<=", through).executeTakeFirst();
  return Number(deleted.numDeletedRows);
}

/**
 * PostgreSQL cuts by transaction id: below the last one of the changes up to `through`, and
 * below every transaction still running (their changes are not visible yet). The cut is
 * committed before the changes go, and only ever moves up.
 */
async function pruneOnPostgres(db: Db, through: number): Promise<number> {
  const { rows } = await sql<{ below: string | null }>`
    select case when last is null then null
                else least(pg_snapshot_xmin(pg_current_snapshot())::text::bigint, last + 1)::text end as below
    from (select max(xid) as last from party_history_changes where seq <= ${through}) as cut`.execute(db);
  const below = rows[0]!.below;
  if (below === null) return 0; // nothing up to `through` is left
  await sql`
    insert into risk_state (key, value) values (${PRUNED_BELOW_KEY}, ${below})
    on conflict (key) do update set value = greatest(risk_state.value::bigint, excluded.value::bigint)::text`.execute(
    db,
  );
  const deleted = await db.deleteFrom("party_history_changes").where("xid", "<", below).executeTakeFirst();
  return Number(deleted.numDeletedRows);
}
