// The score's factors: pure functions from a party's history on the platform to points.
// Each factor says what it looked at (inputs), the formula, and its contribution, so a
// person can recompute it by hand. Rates are whole basis points, rounded down; points are
// rounded to the nearest integer, halves away from zero (divRound).
import { BPS, divRound, hhiBps, shareBps } from "./math.js";
import { RISK_POLICY } from "./policy.js";

const DAY = 86_400;

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

export interface PartyHistory {
  partyId: string;
  /** Unix seconds the party joined the platform. */
  createdAt: number;
  /** Unix seconds the score is computed for. */
  now: number;
  trades: TradeRecord[];
  debts: DebtRecord[];
}

export const FACTOR_NAMES = [
  "onTimeDelivery",
  "returns",
  "disputes",
  "repayment",
  "overdue",
  "concentration",
  "relatedParty",
  "tenure",
  "volumeTrend",
] as const;
export type FactorName = (typeof FACTOR_NAMES)[number];

export interface FactorResult {
  name: FactorName;
  label: string;
  /** false: not enough history for this factor; it contributes 0. */
  applies: boolean;
  inputs: Record<string, number | string>;
  formula: string;
  contribution: number;
  explanation: string;
}

const F = RISK_POLICY.factors;
const tUsd = (amount: bigint) => amount.toString();
/** -points, without a negative zero. */
const minus = (points: number): number => (points === 0 ? 0 : -points);

const notApplicable = (
  name: FactorName,
  label: string,
  formula: string,
  explanation: string,
  inputs: FactorResult["inputs"] = {},
): FactorResult => ({
  name,
  label,
  applies: false,
  inputs,
  formula,
  contribution: 0,
  explanation,
});

/** Sales that were not rejected: the trade the platform accepted. */
const acceptedSales = (h: PartyHistory) => h.trades.filter((t) => t.role === "seller" && t.status !== "rejected");
const acceptedTrades = (h: PartyHistory) => h.trades.filter((t) => t.status !== "rejected");

export function onTimeDeliveryFactor(h: PartyHistory): FactorResult {
  const label = "On-time delivery (as a seller)";
  const formula = `round(${F.onTimeDeliveryWeight} x (onTimeRate - ${F.onTimeDeliveryPivotBps / BPS}))`;
  const sales = acceptedSales(h);
  if (sales.length === 0) return notApplicable("onTimeDelivery", label, formula, "no deliveries as a seller yet");
  const onTime = sales.filter((s) => s.receivedAt - s.orderedAt <= F.onTimeDeliveryDays * DAY).length;
  const rateBps = shareBps(onTime, sales.length);
  return {
    name: "onTimeDelivery",
    label,
    applies: true,
    inputs: { deliveries: sales.length, onTime, onTimeDays: F.onTimeDeliveryDays, rateBps },
    formula,
    contribution: divRound(F.onTimeDeliveryWeight * (rateBps - F.onTimeDeliveryPivotBps), BPS),
    explanation: `${onTime} of ${sales.length} deliveries received within ${F.onTimeDeliveryDays} days of the purchase order`,
  };
}

export function returnsFactor(h: PartyHistory): FactorResult {
  const label = "Returns (short deliveries, as a seller)";
  const formula = `-round(${F.returnsWeight} x shortDeliveryRate)`;
  const sales = acceptedSales(h);
  if (sales.length === 0) return notApplicable("returns", label, formula, "no deliveries as a seller yet");
  const short = sales.filter((s) => s.shortDelivery).length;
  const rateBps = shareBps(short, sales.length);
  return {
    name: "returns",
    label,
    applies: true,
    inputs: { deliveries: sales.length, shortDeliveries: short, rateBps },
    formula,
    contribution: minus(divRound(F.returnsWeight * rateBps, BPS)),
    explanation: `${short} of ${sales.length} deliveries brought less than was ordered (the proxy for returns)`,
  };
}

export function disputesFactor(h: PartyHistory): FactorResult {
  const label = "Disputes (submissions held or rejected, as a seller)";
  const formula = `-round(${F.disputesWeight} x disputeRate)`;
  const submissions = h.trades.filter((t) => t.role === "seller");
  if (submissions.length === 0) return notApplicable("disputes", label, formula, "no submissions as a seller yet");
  const rejected = submissions.filter((s) => s.status === "rejected").length;
  const held = submissions.filter((s) => s.status === "held_for_review").length;
  const rateBps = shareBps(rejected + held, submissions.length);
  return {
    name: "disputes",
    label,
    applies: true,
    inputs: { submissions: submissions.length, rejectedInReview: rejected, heldForReview: held, rateBps },
    formula,
    contribution: minus(divRound(F.disputesWeight * rateBps, BPS)),
    explanation: `${rejected} rejected in review and ${held} held for review of ${submissions.length} submissions`,
  };
}

export function repaymentFactor(h: PartyHistory): FactorResult {
  const label = "Repayment record (as a debtor)";
  const formula = `min(${F.repaidOnTimeCap}, ${F.repaidOnTimePoints} x onTime) - ${-F.repaidLatePoints} x late - ${-F.defaultedPoints} x defaulted`;
  let onTime = 0;
  let late = 0;
  let pending = 0;
  for (const d of h.debts) {
    if (d.status !== "repaid") continue;
    if (d.repaidAt === null) pending++;
    else if (d.repaidAt <= d.dueDate + F.repaymentToleranceSeconds) onTime++;
    else late++;
  }
  const defaulted = h.debts.filter((d) => d.status === "defaulted").length;
  const inputs = {
    repaidOnTime: onTime,
    repaidLate: late,
    defaulted,
    toleranceSeconds: F.repaymentToleranceSeconds,
    repaidTimingUnknown: pending,
  };
  if (onTime + late + defaulted === 0)
    return notApplicable("repayment", label, formula, "no receivable repaid or defaulted as a debtor yet", inputs);
  return {
    name: "repayment",
    label,
    applies: true,
    inputs,
    formula,
    contribution:
      Math.min(F.repaidOnTimeCap, F.repaidOnTimePoints * onTime) +
      F.repaidLatePoints * late +
      F.defaultedPoints * defaulted,
    explanation: `${onTime} repaid on time (by the due date + ${F.repaymentToleranceSeconds / DAY} day), ${late} repaid late, ${defaulted} defaulted`,
  };
}

/** Outstanding as a debtor, and the part of it overdue or defaulted on-chain. */
export function overdueShareOf(debts: DebtRecord[]): { outstanding: bigint; overdue: bigint; shareBps: number } {
  let outstanding = 0n;
  let overdue = 0n;
  for (const d of debts) {
    if (d.status === "repaid") continue;
    const open = d.faceValue - d.repaidAmount;
    if (open <= 0n) continue;
    outstanding += open;
    if (d.status === "overdue" || d.status === "defaulted") overdue += open;
  }
  return { outstanding, overdue, shareBps: shareBps(overdue, outstanding) };
}

export function overdueFactor(h: PartyHistory): FactorResult {
  const label = "Overdue share (as a debtor)";
  const formula = `-round(${F.overdueWeight} x overdueOutstanding / outstanding)`;
  const { outstanding, overdue, shareBps: share } = overdueShareOf(h.debts);
  const inputs = { outstanding: tUsd(outstanding), overdueOutstanding: tUsd(overdue), shareBps: share };
  if (outstanding === 0n) return notApplicable("overdue", label, formula, "nothing outstanding as a debtor", inputs);
  return {
    name: "overdue",
    label,
    applies: true,
    inputs,
    formula,
    contribution: minus(divRound(F.overdueWeight * share, BPS)),
    explanation: `${overdue} of ${outstanding} outstanding is overdue or defaulted on-chain`,
  };
}

export function concentrationFactor(h: PartyHistory): FactorResult {
  const label = "Counterparty concentration (HHI of sales by buyer)";
  const floor = F.concentrationFloorBps;
  const formula = `HHI > ${floor / BPS} ? -round(${F.concentrationWeight} x (HHI - ${floor / BPS}) / ${(BPS - floor) / BPS}) : 0`;
  const sales = acceptedSales(h);
  if (sales.length === 0) return notApplicable("concentration", label, formula, "no sales yet");
  const byBuyer = new Map<string, bigint>();
  for (const s of sales) byBuyer.set(s.counterpartyId, (byBuyer.get(s.counterpartyId) ?? 0n) + s.faceValue);
  const hhi = hhiBps(byBuyer.values());
  return {
    name: "concentration",
    label,
    applies: true,
    inputs: { buyers: byBuyer.size, hhiBps: hhi },
    formula,
    contribution: hhi > floor ? minus(divRound(F.concentrationWeight * (hhi - floor), BPS - floor)) : 0,
    explanation: `sales spread over ${byBuyer.size} buyer(s); HHI ${hhi} bps (10,000 = a single buyer)`,
  };
}

export function relatedPartyFactor(h: PartyHistory): FactorResult {
  const label = "Related-party trade";
  const formula = `-round(${F.relatedPartyWeight} x relatedVolume / volume)`;
  const trades = acceptedTrades(h);
  if (trades.length === 0) return notApplicable("relatedParty", label, formula, "no trade yet");
  let volume = 0n;
  let related = 0n;
  for (const t of trades) {
    volume += t.faceValue;
    if (t.related) related += t.faceValue;
  }
  const share = shareBps(related, volume);
  return {
    name: "relatedParty",
    label,
    applies: true,
    inputs: { volume: tUsd(volume), relatedVolume: tUsd(related), shareBps: share },
    formula,
    contribution: minus(divRound(F.relatedPartyWeight * share, BPS)),
    explanation: `${related} of ${volume} traded (as seller or debtor) with parties recorded as related`,
  };
}

export function tenureFactor(h: PartyHistory): FactorResult {
  const days = Math.max(0, Math.floor((h.now - h.createdAt) / DAY));
  const counted = Math.min(days, F.tenureFullDays);
  return {
    name: "tenure",
    label: "Tenure on the platform",
    applies: true,
    inputs: { days, fullAfterDays: F.tenureFullDays },
    formula: `round(${F.tenurePoints} x min(days, ${F.tenureFullDays}) / ${F.tenureFullDays})`,
    contribution: divRound(F.tenurePoints * counted, F.tenureFullDays),
    explanation: `${days} whole days on the platform`,
  };
}

export function volumeTrendFactor(h: PartyHistory): FactorResult {
  const label = "Volume trend";
  const w = F.volumeWindowDays;
  const formula = `ratio = recent / previous; ratio >= 1 ? round(${F.volumeGrowthPoints} x min(ratio - 1, 1)) : -round(${F.volumeDeclinePoints} x (1 - ratio))`;
  const recentFrom = h.now - w * DAY;
  const previousFrom = h.now - 2 * w * DAY;
  let recent = 0n;
  let previous = 0n;
  for (const t of acceptedTrades(h)) {
    if (t.invoicedAt > recentFrom && t.invoicedAt <= h.now) recent += t.faceValue;
    else if (t.invoicedAt > previousFrom && t.invoicedAt <= recentFrom) previous += t.faceValue;
  }
  const inputs: FactorResult["inputs"] = { windowDays: w, recentVolume: tUsd(recent), previousVolume: tUsd(previous) };
  if (previous === 0n)
    return notApplicable(
      "volumeTrend",
      label,
      formula,
      `no invoices in the ${w} days before the last ${w}: no trend yet`,
      inputs,
    );
  const ratio = shareBps(recent, previous);
  const contribution =
    ratio >= BPS
      ? divRound(F.volumeGrowthPoints * Math.min(ratio - BPS, BPS), BPS)
      : minus(divRound(F.volumeDeclinePoints * (BPS - ratio), BPS));
  return {
    name: "volumeTrend",
    label,
    applies: true,
    inputs: { ...inputs, ratioBps: ratio },
    formula,
    contribution,
    explanation: `invoiced ${recent} in the last ${w} days against ${previous} in the ${w} days before`,
  };
}

/** Every factor, in a fixed order. */
export function allFactors(h: PartyHistory): FactorResult[] {
  return [
    onTimeDeliveryFactor(h),
    returnsFactor(h),
    disputesFactor(h),
    repaymentFactor(h),
    overdueFactor(h),
    concentrationFactor(h),
    relatedPartyFactor(h),
    tenureFactor(h),
    volumeTrendFactor(h),
  ];
}
