// What the exposure report and its lists share: maturity buckets (days to the due date, by
// the chain's clock) and what a leaf will receive in all.
import { z } from "zod";

export const MATURITY_BUCKETS = ["overdue", "0-30", "31-60", "61-90", "91-180", ">180"] as const;
export type MaturityBucket = (typeof MATURITY_BUCKETS)[number];

const DAY = 86_400;

/** Whole days to maturity, rounded up: due tomorrow 09:00 is "1 day". Due now or before: overdue. */
export function maturityBucket(dueDate: number, nowSeconds: number): MaturityBucket {
  if (dueDate <= nowSeconds) return "overdue";
  const days = Math.ceil((dueDate - nowSeconds) / DAY);
  if (days <= 30) return "0-30";
  if (days <= 60) return "31-60";
  if (days <= 90) return "61-90";
  if (days <= 180) return "91-180";
  return ">180";
}

export const Amount = z.string();
export const ByMaturitySchema = z
  .object(Object.fromEntries(MATURITY_BUCKETS.map((b) => [b, Amount])) as Record<MaturityBucket, typeof Amount>)
  .meta({
    id: "ByMaturity",
    description: "Amounts by days to maturity; overdue: the due date has passed",
  });
type ByMaturity = Record<MaturityBucket, string>;

export const emptyByMaturity = (): Record<MaturityBucket, bigint> =>
  Object.fromEntries(MATURITY_BUCKETS.map((b) => [b, 0n])) as Record<MaturityBucket, bigint>;
export const asStrings = (m: Record<MaturityBucket, bigint>): ByMaturity =>
  Object.fromEntries(MATURITY_BUCKETS.map((b) => [b, m[b].toString()])) as ByMaturity;
export const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

/**
 * What a leaf will receive in all: its face value, except once the receivable is closed as
 * repaid below face (discharged early at a discount), when settlement pays
 * floor(repaid x face / receivable face), as the escrow does.
 */
export function claimOf(c: {
  face_value: string;
  reduction: string;
  status: string;
  receivable_face: string;
  credited: string;
  repaid_amount: string;
}): bigint {
  // Credit notes cut the leaf first (issue 16): its claim is face - reduction, and the escrow
  // shares what was repaid over face - credited.
  const claim = BigInt(c.face_value) - BigInt(c.reduction);
  if (c.status !== "repaid") return claim;
  const owedInAll = BigInt(c.receivable_face) - BigInt(c.credited);
  return owedInAll === 0n ? 0n : (BigInt(c.repaid_amount) * claim) / owedInAll;
}
