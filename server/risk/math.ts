// Integer arithmetic for the risk model: rates in basis points, rounding named and
// deterministic. Money never becomes a float; rates are floored to whole basis points.

export const BPS = 10_000;

/** n / d rounded to the nearest integer, halves away from zero (d > 0). Exact for integers. */
export function divRound(n: number | bigint, d: number | bigint): number {
  const num = BigInt(n);
  const den = BigInt(d);
  if (den <= 0n) throw new RangeError("divRound: the divisor must be positive");
  const magnitude = ((num < 0n ? -num : num) * 2n + den) / (2n * den);
  return Number(num < 0n ? -magnitude : magnitude);
}

/** floor(part x 10,000 / total): a share in whole basis points, rounded down; 0 when total is 0. */
export function shareBps(part: bigint | number, total: bigint | number): number {
  const t = BigInt(total);
  if (t === 0n) return 0;
  return Number((BigInt(part) * BigInt(BPS)) / t);
}

/** ceil(n / d) for non-negative integers. */
export function ceilDiv(n: number, d: number): number {
  return Math.floor((n + d - 1) / d);
}

/**
 * The Herfindahl-Hirschman index of `weights` in basis points: floor(sum(w^2) x 10,000 / (sum w)^2).
 * 10,000 = everything with one counterparty; 10,000 / n = n equal counterparties. 0 when empty.
 */
export function hhiBps(weights: Iterable<bigint>): number {
  let sum = 0n;
  let squares = 0n;
  for (const w of weights) {
    sum += w;
    squares += w * w;
  }
  if (sum === 0n) return 0;
  return Number((squares * BigInt(BPS)) / (sum * sum));
}

export const clamp = (value: number, min: number, max: number): number => Math.min(max, Math.max(min, value));

/** floor(amount x bps / 10,000). */
export const applyBpsDown = (amount: bigint, bps: number): bigint => (amount * BigInt(bps)) / BigInt(BPS);
