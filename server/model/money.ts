// Money and quantities in JSON: decimal strings of integer minor units, parsed to bigint.
// Never a float.
import { z } from "zod";

/** A non-negative integer amount in minor units, as a decimal string (at most 10^30). */
export const AmountString = z
  .string()
  .regex(
    /^(0|[1-9][0-9]{0,29})$/,
    "must be a decimal string of integer minor units (no sign, no decimals, at most 30 digits)",
  )
  .meta({ description: "Integer amount in the currency's smallest unit, as a decimal string", example: "125000000" });

export const PositiveAmountString = AmountString.refine((v) => v !== "0", "must be above zero");

export const toAmount = (value: string): bigint => BigInt(value);
export const formatAmount = (value: bigint): string => value.toString();
