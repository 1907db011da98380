// The value at percentile `p` (0–100) of an ascending list: nearest rank, as the benches print it.
export const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
