// Keeping scores current. refreshRisk(ctx, partyIds) recomputes and stores the scores of
// the parties named, keeps their history and raises the alerts their change calls for.
// What triggers it:
// - new data: catchUpRisk() finds what arrived since it last looked — chain events in the
//   index (registrations, repayments, overdue and default marks), submissions and review
//   decisions, new parties — and refreshes exactly the parties they concern. The
//   RiskMonitor runs it every second, and every risk read and limit check runs it (or a
//   refresh of the party concerned) first, so nobody is ever answered from a stale score;
// - time: the monitor recomputes every party at start and then hourly (tenure and the
//   volume windows move with the clock alone).
// All refreshes of one database run one at a time, so a transition raises its alert once.
import type { Transaction } from "kysely";
import type { ServiceContext } from "../context.js";
import type { Db } from "../store/database.js";
import type { Database } from "../store/schema.js";
import { locksIdle, withLock } from "../store/locks.js";
import { findPartyById } from "../store/parties-store.js";
import { detectAlerts, recordAlerts } from "./alerts.js";
import { pruneHistoryChanges } from "./history-rows.js";
import { RISK_POLICY } from "./policy.js";
import { scoreParty, type ScoreResult } from "./scoring.js";

export type RefreshReason = "event" | "read" | "limit-check" | "periodic" | "start";

// One refresh at a time per database, across every replica (store/locks.ts).
const REFRESH_LOCK = "risk-refresh";
// A pass over every party (start, hourly) stores its scores a few hundred at a time.
const SCORES_PER_TRANSACTION = 500;

/** Recomputes, stores and alerts on the scores of `partyIds` (unknown ids are skipped). */
export function refreshRisk(
  ctx: ServiceContext,
  partyIds: Iterable<string>,
  reason: RefreshReason = "event",
): Promise<Map<string, ScoreResult>> {
  const ids = [...new Set(partyIds)];
  return withLock(ctx.db, REFRESH_LOCK, () => refreshNow(ctx, ids, reason));
}

async function refreshNow(
  ctx: ServiceContext,
  partyIds: string[],
  reason: RefreshReason,
): Promise<Map<string, ScoreResult>> {
  const results = new Map<string, ScoreResult>();
  const rescored: Rescored[] = [];
  for (const partyId of partyIds) {
    const party = await findPartyById(ctx.db, partyId);
    if (!party) continue;
    const result = await scoreParty(ctx, party);
    results.set(partyId, result);
    const previous = await ctx.db
      .selectFrom("risk_scores")
      .select(["score", "band", "overdue_share_bps"])
      .where("party_id", "=", partyId)
      .executeTakeFirst();
    const alerts = detectAlerts(
      previous ? { score: previous.score, overdueShareBps: previous.overdue_share_bps } : undefined,
      result,
    );
    const changed =
      !previous || previous.score !== result.score || previous.overdue_share_bps !== result.overdueShareBps;
    rescored.push({ partyId, result, previousScore: previous?.score ?? null, alerts, changed });
    if (rescored.length === SCORES_PER_TRANSACTION) await store(ctx, rescored.splice(0), reason);
  }
  await store(ctx, rescored, reason);
  return results;
}

/**
 * Stores the new scores in one transaction (it was one a party: two or three a registration,
 * each an fsync on SQLite), then logs what changed. The lock keeps other refreshes out, so the
 * scores read before are still the stored ones.
 */
async function store(ctx: ServiceContext, rescored: Rescored[], reason: RefreshReason): Promise<void> {
  if (rescored.length === 0) return;
  const at = ctx.now().toISOString();
  await ctx.db.transaction().execute((trx) => storeScores(trx, rescored, at, reason));
  for (const { partyId, result, previousScore, alerts, changed } of rescored) {
    if (changed)
      ctx.log.info(
        { partyId, score: result.score, band: result.band, before: previousScore, reason },
        "credit score changed",
      );
    for (const alert of alerts)
      ctx.log.warn({ partyId, kind: alert.kind, ...alert.details }, `risk alert: ${alert.message}`);
  }
}

/** A party's new score, against the one stored before. */
interface Rescored {
  partyId: string;
  result: ScoreResult;
  previousScore: number | null;
  alerts: ReturnType<typeof detectAlerts>;
  changed: boolean;
}

async function storeScores(trx: Transaction<Database>, rescored: Rescored[], at: string, reason: RefreshReason) {
  for (const { partyId, result, alerts, changed } of rescored) {
    const row = {
      score: result.score,
      band: result.band,
      factors: JSON.stringify(result.factors),
      overdue_share_bps: result.overdueShareBps,
      computed_at: at,
      reason,
    };
    await trx
      .insertInto("risk_scores")
      .values({ party_id: partyId, ...row })
      .onConflict((oc) => oc.column("party_id").doUpdateSet(row))
      .execute();
    if (changed) {
      await trx
        .insertInto("risk_score_history")
        .values({
          party_id: partyId,
          score: result.score,
          band: result.band,
          overdue_share_bps: result.overdueShareBps,
          computed_at: at,
          reason,
        })
        .execute();
    }
    await recordAlerts(trx, partyId, alerts, at);
  }
}

/* ------------------------------------------------------------------ */
/*                    What changed since the last look                */
/* ------------------------------------------------------------------ */

/** A cursor over rows stamped with a time: the last instant read and the ids seen at it (none once settled). */
interface StampCursor {
  at: string;
  ids: string[];
}

interface Cursors {
  events: { block: number; logIndex: number };
  receivables: StampCursor;
  parties: StampCursor;
}

const CURSOR_KEY = "refresh.cursors";

async function readCursors(db: Db): Promise<{ cursors: Cursors; stored: string } | undefined> {
  const row = await db.selectFrom("risk_state").select("value").where("key", "=", CURSOR_KEY).executeTakeFirst();
  return row ? { cursors: JSON.parse(row.value) as Cursors, stored: row.value } : undefined;
}

/** Writes the cursors unless they are what is stored already (a quiet second writes nothing). */
async function writeCursors(db: Db, cursors: Cursors, stored?: string): Promise<void> {
  const value = JSON.stringify(cursors);
  if (value === stored) return;
  await db
    .insertInto("risk_state")
    .values({ key: CURSOR_KEY, value })
    .onConflict((oc) => oc.column("key").doUpdateSet({ value }))
    .execute();
}

const EVENT_BATCH = 5_000;

/**
 * How long after a row's stamp (the writer's clock, read before its commit) the row can still
 * commit. Once the cursor's instant is this far behind the clock, nothing more can arrive at
 * it: the cursor forgets the ids seen there and reads strictly after it. Without that, one
 * bulk update (every row stamped with one instant) was read again, and its ids compared with
 * every row, each second until something newer was written (issue 12's growth bench: 80 ms a
 * second of the event loop at 10,000 receivables, and growing with the square of the rows).
 */
export const STAMP_SETTLE_MS = 60_000;

/** How to compare a row's stamp with the cursor: at its instant too, unless the instant settled (no ids kept). */
const sinceOperator = (cursor: StampCursor): ">" | ">=" => (cursor.ids.length === 0 && cursor.at !== "" ? ">" : ">=");

/** The rows not seen before, and the cursor past them (settled when its instant is old enough). */
function advance<T extends { id: string; at: string }>(
  rows: T[],
  cursor: StampCursor,
  clockMs: number,
): { fresh: T[]; next: StampCursor } {
  const seen = new Set(cursor.ids);
  const fresh = rows.filter((r) => r.at > cursor.at || !seen.has(r.id));
  const last = rows.reduce((max, r) => (r.at > max ? r.at : max), cursor.at);
  const atLast = rows.filter((r) => r.at === last).map((r) => r.id);
  const ids = last === cursor.at ? [...new Set([...cursor.ids, ...atLast])] : atLast;
  const settled = last !== "" && Date.parse(last) + STAMP_SETTLE_MS < clockMs;
  return { fresh, next: { at: last, ids: settled ? [] : ids } };
}

async function partyIdsByAddress(db: Db, addresses: string[]): Promise<string[]> {
  if (addresses.length === 0) return [];
  return (
    await db
      .selectFrom("parties")
      .select("id")
      .where("address", "in", [...new Set(addresses)])
      .execute()
  ).map((r) => r.id);
}

/**
 * Refreshes the parties that new data concerns, and moves the cursors past it. The first
 * call on a database (no cursors yet) recomputes every party. Returns the ids refreshed.
 */
export function catchUpRisk(ctx: ServiceContext): Promise<string[]> {
  return withLock(ctx.db, REFRESH_LOCK, async () => {
    const read = await readCursors(ctx.db);
    if (!read) {
      const start = await currentCursors(ctx.db);
      const all = (await ctx.db.selectFrom("parties").select("id").execute()).map((r) => r.id);
      await refreshNow(ctx, all, "start");
      await writeCursors(ctx.db, start);
      return all;
    }
    const { cursors, stored } = read;
    const touched = new Set<string>();

    const events = await ctx.db
      .selectFrom("chain_events")
      .select(["block_number", "log_index", "contract", "args"])
      .where((eb) =>
        eb.or([
          eb("block_number", ">", cursors.events.block),
          eb.and([eb("block_number", "=", cursors.events.block), eb("log_index", ">", cursors.events.logIndex)]),
        ]),
      )
      .orderBy("block_number")
      .orderBy("log_index")
      .limit(EVENT_BATCH)
      .execute();
    const receivableIds = new Set<string>();
    for (const e of events) {
      if (e.contract !== "registry") continue;
      const id = (JSON.parse(e.args) as { receivableId?: string }).receivableId;
      if (id) receivableIds.add(id);
    }
    if (receivableIds.size > 0) {
      const rows = await ctx.db
        .selectFrom("onchain_receivables")
        .select(["seller", "debtor"])
        .where("id", "in", [...receivableIds])
        .execute();
      for (const id of await partyIdsByAddress(
        ctx.db,
        rows.flatMap((r) => [r.seller, r.debtor]),
      ))
        touched.add(id);
    }
    const lastEvent = events[events.length - 1];
    const nextEvents = lastEvent ? { block: lastEvent.block_number, logIndex: lastEvent.log_index } : cursors.events;

    const submissions = await ctx.db
      .selectFrom("receivables")
      .select(["id", "updated_at as at", "seller_id", "debtor_id"])
      .where("updated_at", sinceOperator(cursors.receivables), cursors.receivables.at)
      .execute();
    const clockMs = Date.now(); // rows are stamped by the wall clock (nowIso), not ctx.now()
    const receivables = advance(submissions, cursors.receivables, clockMs);
    for (const r of receivables.fresh) {
      touched.add(r.seller_id);
      touched.add(r.debtor_id);
    }

    const joined = await ctx.db
      .selectFrom("parties")
      .select(["id", "created_at as at"])
      .where("created_at", sinceOperator(cursors.parties), cursors.parties.at)
      .execute();
    const parties = advance(joined, cursors.parties, clockMs);
    for (const p of parties.fresh) touched.add(p.id);

    if (touched.size > 0) await refreshNow(ctx, [...touched], "event");
    await writeCursors(ctx.db, { events: nextEvents, receivables: receivables.next, parties: parties.next }, stored);
    return [...touched];
  });
}

async function currentCursors(db: Db): Promise<Cursors> {
  const event = await db
    .selectFrom("chain_events")
    .select(["block_number", "log_index"])
    .orderBy("block_number", "desc")
    .orderBy("log_index", "desc")
    .limit(1)
    .executeTakeFirst();
  const receivables = await db.selectFrom("receivables").select(["id", "updated_at as at"]).execute();
  const parties = await db.selectFrom("parties").select(["id", "created_at as at"]).execute();
  const empty = { at: "", ids: [] as string[] };
  const clockMs = Date.now();
  return {
    events: event ? { block: event.block_number, logIndex: event.log_index } : { block: -1, logIndex: -1 },
    receivables: advance(receivables, empty, clockMs).next,
    parties: advance(parties, empty, clockMs).next,
  };
}

/** Every party, recomputed (tenure and the volume windows move with time alone). */
export async function refreshAll(ctx: ServiceContext, reason: RefreshReason = "periodic"): Promise<number> {
  const ids = (await ctx.db.selectFrom("parties").select("id").execute()).map((r) => r.id);
  await refreshRisk(ctx, ids, reason);
  return ids.length;
}

/* ------------------------------------------------------------------ */
/*                               Monitor                              */
/* ------------------------------------------------------------------ */

/** Started at boot: follows new data every second, recomputes everyone hourly. */
export class RiskMonitor {
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #lastFull = 0;
  #lastError: string | undefined;
  #tick: Promise<void> | undefined;

  private constructor(private readonly ctx: ServiceContext) {}

  static start(ctx: ServiceContext, intervalMs: number = RISK_POLICY.refresh.pollIntervalMs): RiskMonitor {
    const monitor = new RiskMonitor(ctx);
    monitor.#running = true;
    const loop = () => {
      monitor.#tick = monitor.runOnce().finally(() => {
        if (monitor.#running) monitor.#timer = setTimeout(loop, intervalMs);
      });
    };
    monitor.#timer = setTimeout(loop, 0);
    return monitor;
  }

  /** One look: new data first, then everyone if the full recompute is due. Never throws. */
  async runOnce(): Promise<void> {
    try {
      await catchUpRisk(this.ctx);
      if (Date.now() - this.#lastFull >= RISK_POLICY.refresh.fullRecomputeIntervalMs) {
        this.#lastFull = Date.now();
        await refreshAll(this.ctx, "periodic");
        await pruneHistoryChanges(this.ctx.db);
      }
      if (this.#lastError) this.ctx.log.info("risk monitor works again");
      this.#lastError = undefined;
    } catch (error) {
      const message = (error as Error).message;
      if (message !== this.#lastError)
        this.ctx.log.error({ err: error }, "risk monitor could not refresh scores; retrying");
      this.#lastError = message;
    }
  }

  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#tick;
    await locksIdle(this.ctx.db);
  }
}
