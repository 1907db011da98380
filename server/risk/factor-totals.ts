// What the score's factors read from a party's history, as sums a record can be added to and
// taken from. factors.ts computes every factor from these totals, for a history read in full
// and for one kept and changed record by record (history.ts): one formula for both. At a core
// enterprise's month-end each confirmation rescored the debtor from every row it owes (20–40 ms
// at 25,000); with the totals kept, a rescore costs the records that changed.
import { RISK_POLICY } from "./policy.js";

const DAY = 86_400;
const F = RISK_POLICY.factors;

/** One receivable the party took part in, from the submitted trade documents. */
export interface TradeRecord {
  receivableId: string;
  /** The party's side of the trade. */
  role: "seller" | "debtor";
  counterpartyId: string;
  faceValue: bigint;
  /** The submission's status: held_for_review | awaiting_confirmation | confirming | rejected. */
  status: string;
  /** Unix seconds: purchase order issued, goods received, invoice issued. */
  orderedAt: number;
  receivedAt: number;
  invoicedAt: number;
  /** Some ordered sku was delivered in a smaller quantity than ordered (or not at all). */
  shortDelivery: boolean;
  /** The counterparty is recorded as related (either party lists the other). */
  related: boolean;
}

/** One receivable registered on-chain with the party as the debtor. */
export interface DebtRecord {
  receivableId: string;
  faceValue: bigint;
  repaidAmount: bigint;
  dueDate: number;
  status: string; // active | overdue | defaulted | repaid
  /** Chain time of the block that marked it repaid; null while not repaid (or not yet known). */
  repaidAt: number | null;
}

/** A count and a sum by key; a key leaves when its count falls to 0 (so `size` counts keys with records). */
class CountedSums {
  readonly #entries = new Map<string, { count: number; sum: bigint }>();

  change(key: string, amount: bigint, by: 1 | -1): void {
    const entry = this.#entries.get(key) ?? { count: 0, sum: 0n };
    entry.count += by;
    entry.sum += by === 1 ? amount : -amount;
    if (entry.count === 0) this.#entries.delete(key);
    else this.#entries.set(key, entry);
  }

  get size(): number {
    return this.#entries.size;
  }

  *sums(): Iterable<bigint> {
    for (const entry of this.#entries.values()) yield entry.sum;
  }
}

/** Amounts by the second they were invoiced, grouped by day, so a window's sum reads its days, not every record. */
class InvoicedByDay {
  readonly #days = new Map<number, { total: bigint; bySecond: Map<number, bigint> }>();

  change(at: number, amount: bigint, by: 1 | -1): void {
    const day = Math.floor(at / DAY);
    const entry = this.#days.get(day) ?? { total: 0n, bySecond: new Map<number, bigint>() };
    const signed = by === 1 ? amount : -amount;
    entry.total += signed;
    entry.bySecond.set(at, (entry.bySecond.get(at) ?? 0n) + signed);
    this.#days.set(day, entry);
  }

  /** The amounts invoiced after `from` and at or before `to` (unix seconds). */
  sumIn(from: number, to: number): bigint {
    let sum = 0n;
    for (let day = Math.floor(from / DAY); day <= Math.floor(to / DAY); day++) {
      const entry = this.#days.get(day);
      if (!entry) continue;
      if (day * DAY > from && (day + 1) * DAY - 1 <= to) {
        sum += entry.total;
        continue;
      }
      for (const [at, amount] of entry.bySecond) if (at > from && at <= to) sum += amount;
    }
    return sum;
  }
}

export class FactorTotals {
  /** Sales not rejected (the party the seller). */
  acceptedSales = 0;
  salesOnTime = 0;
  salesShort = 0;
  readonly salesByBuyer = new CountedSums();
  /** Every sale submitted, whatever became of it, and those rejected or held in review. */
  submissions = 0;
  rejected = 0;
  held = 0;
  /** Trades not rejected, either side. */
  acceptedTrades = 0;
  volume = 0n;
  relatedVolume = 0n;
  readonly invoiced = new InvoicedByDay();
  /** Debts: repaid on time, late, with the time not known yet; defaulted. */
  repaidOnTime = 0;
  repaidLate = 0;
  repaidPending = 0;
  defaulted = 0;
  /** Open on debts not repaid, and the part of it overdue or defaulted. */
  outstanding = 0n;
  overdue = 0n;

  /** Totals of these records. */
  static of(trades: Iterable<TradeRecord>, debts: Iterable<DebtRecord>): FactorTotals {
    const totals = new FactorTotals();
    for (const trade of trades) totals.trade(trade, 1);
    for (const debt of debts) totals.debt(debt, 1);
    return totals;
  }

  /** Adds (1) or takes away (-1) one trade. */
  trade(t: TradeRecord, by: 1 | -1): void {
    const accepted = t.status !== "rejected";
    if (t.role === "seller") {
      this.submissions += by;
      if (t.status === "rejected") this.rejected += by;
      if (t.status === "held_for_review") this.held += by;
      if (accepted) {
        this.acceptedSales += by;
        if (t.receivedAt - t.orderedAt <= F.onTimeDeliveryDays * DAY) this.salesOnTime += by;
        if (t.shortDelivery) this.salesShort += by;
        this.salesByBuyer.change(t.counterpartyId, t.faceValue, by);
      }
    }
    if (!accepted) return;
    const amount = by === 1 ? t.faceValue : -t.faceValue;
    this.acceptedTrades += by;
    this.volume += amount;
    if (t.related) this.relatedVolume += amount;
    this.invoiced.change(t.invoicedAt, t.faceValue, by);
  }

  /** Adds (1) or takes away (-1) one debt. */
  debt(d: DebtRecord, by: 1 | -1): void {
    if (d.status === "defaulted") this.defaulted += by;
    if (d.status === "repaid") {
      if (d.repaidAt === null) this.repaidPending += by;
      else if (d.repaidAt <= d.dueDate + F.repaymentToleranceSeconds) this.repaidOnTime += by;
      else this.repaidLate += by;
      return;
    }
    const open = d.faceValue - d.repaidAmount;
    if (open <= 0n) return;
    const amount = by === 1 ? open : -open;
    this.outstanding += amount;
    if (d.status === "overdue" || d.status === "defaulted") this.overdue += amount;
  }
}
