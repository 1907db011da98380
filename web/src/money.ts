// Amounts arrive as decimal strings of integer minor units (6 decimals, tUSD): shown with
// bigint arithmetic only, and read back from forms the same way, never through a float.
export const DECIMALS = 6;
const UNIT = 10n ** BigInt(DECIMALS);

/** "1234500000" -> "1,234.50" (two decimals unless more are needed to be exact). */
export function formatAmount(minor: string | bigint): string {
  const value = BigInt(minor);
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const whole = (abs / UNIT).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  let fraction = (abs % UNIT).toString().padStart(DECIMALS, "0").replace(/0+$/, "");
  if (fraction.length < 2) fraction = fraction.padEnd(2, "0");
  return `${negative ? "-" : ""}${whole}.${fraction}`;
}

export const formatMoney = (minor: string | bigint, currency = "tUSD") => `${formatAmount(minor)} ${currency}`;

/** "1,234.5" -> 1234500000n; undefined when the text is not an amount with at most 6 decimals. */
export function parseAmount(text: string): bigint | undefined {
  const clean = text.trim().replace(/,/g, "");
  const match = /^(\d{1,24})(?:\.(\d{1,6}))?$/.exec(clean);
  if (!match) return undefined;
  return BigInt(match[1]!) * UNIT + BigInt((match[2] ?? "").padEnd(DECIMALS, "0"));
}

export const formatDate = (iso: string) => iso.slice(0, 10);

export const shortHash = (hash: string) => (hash.length > 14 ? `${hash.slice(0, 8)}…${hash.slice(-4)}` : hash);
