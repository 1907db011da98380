// The score of a party whose rows are kept (history-rows.ts: 500 receivables or more) is
// computed from totals kept beside those rows (factor-totals.ts) and brought up to date from
// the receivables that changed since the last look: at a core enterprise's
// month-end every confirmation rescores the debtor that owes the whole book, and turning each
// of its rows into a record and summing them all again cost 16.7 ms at 25,000 (0.9 ms now,
// `npm run bench:history`). Parties not kept are summed from their rows as they are read.
import type { ServiceContext } from "../context.js";
import type { PartyRecord } from "../store/parties-store.js";
import type { DebtRecord, ScoringInput, TradeRecord } from "./factors.js";
import { FactorTotals } from "./factor-totals.js";
import { keptOrReadRows, type KeptRows } from "./history-rows.js";
import { counterpartyOf, debtOf, documentFactsOf, recordsOf, relatedPartiesOf, toSeconds, tradeOf } from "./history.js";
import { repaidAtOf } from "./repayment-times.js";

/**
 * What a kept party's score reads, kept beside its rows (history-rows.ts) and brought up to
 * date from the receivables that changed: a month-end confirmation to the debtor that owes
 * the whole book no longer turns every row it owes into a record and sums it again.
 */
interface KeptScoring {
  /** The rows' version these records are up to. */
  version: number;
  trades: Map<string, TradeRecord>;
  debts: Map<string, DebtRecord>;
  /** Trades per counterparty: the counterparties whose naming the party as related counts. */
  counterparties: Map<string, number>;
  /** The related parties the trades' flags were set from; another set means building again. */
  related: Set<string>;
  /** Repaid debts whose repayment time was not known yet: looked up again at each look. */
  timeUnknown: Set<string>;
  totals: FactorTotals;
}

const sameSet = (a: Set<string>, b: Set<string>) => a.size === b.size && [...a].every((x) => b.has(x));

function count(counts: Map<string, number>, key: string, by: 1 | -1): void {
  const n = (counts.get(key) ?? 0) + by;
  if (n === 0) counts.delete(key);
  else counts.set(key, n);
}

async function buildKeptScoring(ctx: ServiceContext, party: PartyRecord, kept: KeptRows): Promise<KeptScoring> {
  // The rows and their version, taken together before any read: a refresh may change them later.
  const version = kept.version;
  const rows = { submitted: [...kept.submitted.values()], owed: [...kept.owed.values()] };
  const { trades, debts, related } = await recordsOf(ctx, party, rows);
  const counterparties = new Map<string, number>();
  for (const trade of trades) count(counterparties, trade.counterpartyId, 1);
  return {
    version,
    trades: new Map(trades.map((t) => [t.receivableId, t])),
    debts: new Map(debts.map((d) => [d.receivableId, d])),
    counterparties,
    related,
    timeUnknown: new Set(debts.filter((d) => d.status === "repaid" && d.repaidAt === null).map((d) => d.receivableId)),
    totals: FactorTotals.of(trades, debts),
  };
}

/**
 * The kept scoring of these rows: brought up to date from what changed, or built from every
 * row. The rows change in place at each refresh (history-rows.ts), so what this look works
 * from — their change, what changed last, the changed rows — is taken before any read; a row
 * a later refresh already changed is read again at the look after, as that change names it.
 */
async function keptScoring(ctx: ServiceContext, party: PartyRecord, kept: KeptRows): Promise<KeptScoring> {
  const state = kept.derived as KeptScoring | undefined;
  const at = kept.version;
  const changed = state?.version === at ? [] : kept.changed?.from === state?.version ? kept.changed?.ids : undefined;
  if (!state || !changed) return (kept.derived = await buildKeptScoring(ctx, party, kept));
  const from = state.version;
  const submitted = changed.map((id) => kept.submitted.get(id)).filter((row) => row !== undefined);
  const owed = changed.map((id) => kept.owed.get(id)).filter((row) => row !== undefined);
  const relook = [...state.timeUnknown].filter((id) => !changed.includes(id) && kept.owed.has(id));

  // The reads first; the records change below in one synchronous step.
  const counterparties = new Map(state.counterparties);
  for (const id of changed) {
    const before = state.trades.get(id);
    if (before) count(counterparties, before.counterpartyId, -1);
  }
  for (const row of submitted) count(counterparties, counterpartyOf(party, row), 1);
  const related = await relatedPartiesOf(ctx, party, [...counterparties.keys()]);
  if (!sameSet(related, state.related)) return (kept.derived = await buildKeptScoring(ctx, party, kept));
  const facts = await documentFactsOf(ctx, submitted);
  const repaidAt = await repaidAtOf(ctx, [
    ...owed.filter((r) => r.status === "repaid").map((r) => r.id),
    ...relook.filter((id) => state.debts.get(id)?.status === "repaid"),
  ]);
  // Another look brought the records up to date while this one read: build afresh rather than apply twice.
  if (kept.derived !== state || state.version !== from)
    return (kept.derived = await buildKeptScoring(ctx, party, kept));

  const { totals } = state;
  for (const id of changed) {
    const trade = state.trades.get(id);
    if (trade) totals.trade(trade, -1);
    state.trades.delete(id);
    const debt = state.debts.get(id);
    if (debt) totals.debt(debt, -1);
    state.debts.delete(id);
    state.timeUnknown.delete(id);
  }
  submitted.forEach((row, i) => {
    const trade = tradeOf(party, row, facts[i]!, related);
    state.trades.set(row.id, trade);
    totals.trade(trade, 1);
  });
  const add = (debt: DebtRecord) => {
    state.debts.set(debt.receivableId, debt);
    totals.debt(debt, 1);
    if (debt.status === "repaid" && debt.repaidAt === null) state.timeUnknown.add(debt.receivableId);
  };
  for (const row of owed) add(debtOf(row, repaidAt));
  for (const id of relook) {
    const before = state.debts.get(id)!;
    const repaid = repaidAt.get(id);
    if (repaid === undefined) continue;
    totals.debt(before, -1);
    state.timeUnknown.delete(id);
    add({ ...before, repaidAt: repaid });
  }
  state.counterparties = counterparties;
  state.version = at;
  return state;
}

/**
 * What the party's score reads, as of `now`: from its kept rows' totals, brought up to date
 * from what changed, or summed from every row when the party's rows are not kept (fewer
 * than 500 receivables).
 */
export async function scoringInputFor(
  ctx: ServiceContext,
  party: PartyRecord,
  now: Date = ctx.now(),
): Promise<ScoringInput & { partyId: string }> {
  const clock = { partyId: party.id, createdAt: toSeconds(party.createdAt), now: Math.floor(now.getTime() / 1000) };
  const found = await keptOrReadRows(ctx.db, party);
  if ("kept" in found) return { ...clock, totals: (await keptScoring(ctx, party, found.kept)).totals };
  const { trades, debts } = await recordsOf(ctx, party, found.rows);
  return { ...clock, totals: FactorTotals.of(trades, debts) };
}
