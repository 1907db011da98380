// The score's factors: pure functions from a party's history on the platform to points.
// Each factor says what it looked at (inputs), the formula, and its contribution, so a
// person can recompute it by hand. Rates are whole basis points, rounded down; points are
// rounded to the nearest integer, halves away from zero (divRound).
import { FactorTotals, type DebtRecord, type TradeRecord } from "./factor-totals.js";
import { BPS, divRound, hhiBps, shareBps } from "./math.js";
import { RISK_POLICY } from "./policy.js";

const DAY = 86_400;

// The records a history is made of are defined with the totals that sum them.
export type { DebtRecord, TradeRecord } from "./factor-totals.js";

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

/** What the factors read: the history's totals (factor-totals.ts), the clock and the party's start. */
export interface ScoringInput {
  createdAt: number;
  now: number;
  totals: FactorTotals;
}

/** A history read in full is summed here; a kept one comes with its totals. */
export const scoringInputOf = (h: PartyHistory | ScoringInput): ScoringInput =>
  "totals" in h ? h : { createdAt: h.createdAt, now: h.now, totals: FactorTotals.of(h.trades, h.debts) };

export function onTimeDeliveryFactor(h: PartyHistory | ScoringInput): FactorResult {
  const label = "On-time delivery (as a seller)";
  const formula = `round(${F.onTimeDeliveryWeight} x (onTimeRate - ${F.onTimeDeliveryPivotBps / BPS}))`;
  const { acceptedSales: sales, salesOnTime: onTime } = scoringInputOf(h).totals;
  if (sales === 0) return notApplicable("onTimeDelivery", label, formula, "no deliveries as a seller yet");
  const rateBps = shareBps(onTime, sales);
  return {
    name: "onTimeDelivery",
    label,
    applies: true,
    inputs: { deliveries: sales, onTime, onTimeDays: F.onTimeDeliveryDays, rateBps },
    formula,
    contribution: divRound(F.onTimeDeliveryWeight * (rateBps - F.onTimeDeliveryPivotBps), BPS),
    explanation: `${onTime} of ${sales} deliveries received within ${F.onTimeDeliveryDays} days of the purchase order`,
  };
}

export function returnsFactor(h: PartyHistory | ScoringInput): FactorResult {
  const label = "Returns (short deliveries, as a seller)";
  const formula = `-round(${F.returnsWeight} x shortDeliveryRate)`;
  const { acceptedSales: sales, salesShort: short } = scoringInputOf(h).totals;
  if (sales === 0) return notApplicable("returns", label, formula, "no deliveries as a seller yet");
  const rateBps = shareBps(short, sales);
  return {
    name: "returns",
    label,
    applies: true,
    inputs: { deliveries: sales, shortDeliveries: short, rateBps },
    formula,
    contribution: minus(divRound(F.returnsWeight * rateBps, BPS)),
    explanation: `${short} of ${sales} deliveries brought less than was ordered (the proxy for returns)`,
  };
}

export function disputesFactor(h: PartyHistory | ScoringInput): FactorResult {
  const label = "Disputes (submissions held or rejected, as a seller)";
  const formula = `-round(${F.disputesWeight} x disputeRate)`;
  const { submissions, rejected, held } = scoringInputOf(h).totals;
  if (submissions === 0) return notApplicable("disputes", label, formula, "no submissions as a seller yet");
  const rateBps = shareBps(rejected + held, submissions);
  return {
    name: "disputes",
    label,
    applies: true,
    inputs: { submissions, rejectedInReview: rejected, heldForReview: held, rateBps },
    formula,
    contribution: minus(divRound(F.disputesWeight * rateBps, BPS)),
    explanation: `${rejected} rejected in review and ${held} held for review of ${submissions} submissions`,
  };
}

export function repaymentFactor(h: PartyHistory | ScoringInput): FactorResult {
  const label = "Repayment record (as a debtor)";
  const formula = `min(${F.repaidOnTimeCap}, ${F.repaidOnTimePoints} x onTime) - ${-F.repaidLatePoints} x late - ${-F.defaultedPoints} x defaulted`;
  const totals = scoringInputOf(h).totals;
  const { repaidOnTime: onTime, repaidLate: late, repaidPending: pending, defaulted } = totals;
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
export function overdueShareOf(totals: FactorTotals): { outstanding: bigint; overdue: bigint; shareBps: number } {
  const { outstanding, overdue } = totals;
  return { outstanding, overdue, shareBps: shareBps(overdue, outstanding) };
}

export function overdueFactor(h: PartyHistory | ScoringInput): FactorResult {
  const label = "Overdue share (as a debtor)";
  const formula = `-round(${F.overdueWeight} x overdueOutstanding / outstanding)`;
  const { outstanding, overdue, shareBps: share } = overdueShareOf(scoringInputOf(h).totals);
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

export function concentrationFactor(h: PartyHistory | ScoringInput): FactorResult {
  const label = "Counterparty concentration (HHI of sales by buyer)";
  const floor = F.concentrationFloorBps;
  const formula = `HHI > ${floor / BPS} ? -round(${F.concentrationWeight} x (HHI - ${floor / BPS}) / ${(BPS - floor) / BPS}) : 0`;
  const { acceptedSales, salesByBuyer: byBuyer } = scoringInputOf(h).totals;
  if (acceptedSales === 0) return notApplicable("concentration", label, formula, "no sales yet");
  const hhi = hhiBps(byBuyer.sums());
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

export function relatedPartyFactor(h: PartyHistory | ScoringInput): FactorResult {
  const label = "Related-party trade";
  const formula = `-round(${F.relatedPartyWeight} x relatedVolume / volume)`;
  const { acceptedTrades, volume, relatedVolume: related } = scoringInputOf(h).totals;
  if (acceptedTrades === 0) return notApplicable("relatedParty", label, formula, "no trade yet");
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

export function tenureFactor(h: PartyHistory | ScoringInput): FactorResult {
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

export function volumeTrendFactor(h: PartyHistory | ScoringInput): FactorResult {
  const label = "Volume trend";
  const w = F.volumeWindowDays;
  const formula = `ratio = recent / previous; ratio >= 1 ? round(${F.volumeGrowthPoints} x min(ratio - 1, 1)) : -round(${F.volumeDeclinePoints} x (1 - ratio))`;
  const { now, totals } = scoringInputOf(h);
  const recentFrom = now - w * DAY;
  const previousFrom = now - 2 * w * DAY;
  const recent = totals.invoiced.sumIn(recentFrom, now);
  const previous = totals.invoiced.sumIn(previousFrom, recentFrom);
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
export function allFactors(history: PartyHistory | ScoringInput): FactorResult[] {
  const h = scoringInputOf(history); // summed once for all nine
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
