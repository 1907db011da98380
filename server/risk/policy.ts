// The credit policy in one place: every weight, band, limit and premium the risk engine
// uses, so a risk team can read (and change) the model without reading the code that
// applies it. docs/risk.md explains each number. Rates are integer basis points
// (10,000 = 100 %); money is bigint in the settlement token's smallest unit (6 decimals).

export const SCORE_BANDS = ["A", "B", "C", "D", "E", "F"] as const;
export type ScoreBand = (typeof SCORE_BANDS)[number];

const TUSD = 1_000_000n;

export const RISK_POLICY = {
  score: {
    /** Where every party starts, and what a party with no history keeps. */
    base: 600,
    min: 0,
    max: 1_000,
    /** Lowest score of each band; below the last: F. */
    bandFloors: { A: 800, B: 700, C: 600, D: 500, E: 400 } as Record<Exclude<ScoreBand, "F">, number>,
  },
  factors: {
    /** A delivery is on time when received at most this many days after the purchase order. */
    onTimeDeliveryDays: 30,
    /** Points per unit of (on-time rate - pivot): +30 at 100 %, -270 at 0 %. */
    onTimeDeliveryWeight: 300,
    onTimeDeliveryPivotBps: 9_000,
    /** Points lost at a 100 % short-delivery (return) rate. */
    returnsWeight: 200,
    /** Points lost at a 100 % dispute rate. */
    disputesWeight: 300,
    /** Repayment record as a debtor: per receivable repaid on time (capped), late, defaulted. */
    repaidOnTimePoints: 25,
    repaidOnTimeCap: 150,
    repaidLatePoints: -50,
    defaultedPoints: -300,
    /** A repayment up to this long after the due date still counts as on time. */
    repaymentToleranceSeconds: 86_400,
    /** Points lost when all of a debtor's outstanding is overdue or defaulted. */
    overdueWeight: 200,
    /** Counterparty concentration (HHI of sales by buyer): no penalty up to the floor. */
    concentrationFloorBps: 2_500,
    concentrationWeight: 100,
    /** Points lost when all of a party's trade is with related parties. */
    relatedPartyWeight: 150,
    /** Tenure: points reached after a full year on the platform. */
    tenurePoints: 100,
    tenureFullDays: 365,
    /** Volume trend: last `windowDays` of invoices against the `windowDays` before. */
    volumeWindowDays: 90,
    volumeGrowthPoints: 25, // reached at +100 % (doubling) or more
    volumeDeclinePoints: 50, // reached at -100 % (no trade at all in the recent window)
  },
  limits: {
    /** Base limits when the operator has set none: 100,000,000 tUSD as a debtor, 10,000,000 tUSD as a supplier. */
    defaultBase: { debtor: 100_000_000n * TUSD, supplier: 10_000_000n * TUSD },
    /** Limit multiplier by score band. */
    bandMultiplierBps: { A: 15_000, B: 12_500, C: 10_000, D: 7_500, E: 5_000, F: 2_500 } as Record<ScoreBand, number>,
    /** Multiplier applied to every limit of a party whose industry index is above its threshold. */
    industryCutBps: 5_000,
  },
  financing: {
    /** Highest price / face (advance rate) a financing request may ask, by the debtor's band. */
    advanceRateBps: { A: 10_000, B: 9_975, C: 9_950, D: 9_000, E: 8_000, F: 5_000 } as Record<ScoreBand, number>,
    /** Percentage points taken off the advance rate when the debtor's industry is above its threshold. */
    industryAdvanceCutBps: 1_000,
    /** Longest tenor (days from now to the due date) a financing request may have. */
    maxTenorDays: 180,
    maxTenorDaysIndustryStressed: 90,
  },
  quote: {
    baseRateBps: 500,
    /** Risk premium by the debtor's band, per year. */
    riskPremiumBps: { A: 50, B: 100, C: 200, D: 400, E: 800, F: 1_500 } as Record<ScoreBand, number>,
    /** Concentration premium: the holder's claims by debtor (HHI) above the floor, up to the maximum at HHI 1. */
    concentrationFloorBps: 2_500,
    concentrationPremiumMaxBps: 200,
    /** Tenor premium: this much per started 30 days. */
    tenorPremiumBpsPer30Days: 25,
    daysPerYear: 365,
  },
  alerts: {
    /** A score falling from at or above this to below it raises SCORE_BELOW_THRESHOLD. */
    scoreThreshold: 500,
    /** Any rise of the overdue share to above this raises OVERDUE_SHARE_ROSE. */
    overdueShareThresholdBps: 0,
  },
  refresh: {
    /** How often the monitor looks for new data (chain events, submissions, parties). */
    pollIntervalMs: 1_000,
    /** How often every party is recomputed anyway (tenure and the volume windows move with time). */
    fullRecomputeIntervalMs: 3_600_000,
  },
} as const;

export function bandOf(score: number): ScoreBand {
  const floors = RISK_POLICY.score.bandFloors;
  if (score >= floors.A) return "A";
  if (score >= floors.B) return "B";
  if (score >= floors.C) return "C";
  if (score >= floors.D) return "D";
  if (score >= floors.E) return "E";
  return "F";
}
