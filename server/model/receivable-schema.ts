// The trade documents a supplier submits for one receivable, and how they are normalised
// and hashed. Schemas are strict: a client cannot set fields such as `status`.
import { z } from "zod";
import { AbiCoder, keccak256, toUtf8Bytes } from "ethers";
import { AmountString, PositiveAmountString } from "./money.js";
import { displayText } from "./text.js";
import { canonicalDocumentNumber } from "./document-identity.js";

const Timestamp = z.iso
  .datetime({ offset: true })
  .refine((iso) => Date.parse(iso) >= 0, "must not be before 1970-01-01T00:00:00Z (unix time is unsigned on-chain)")
  .meta({ example: "2026-11-01T09:00:00Z" });
const Sku = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[\p{L}\p{N}][\p{L}\p{N} ._\-/#]*$/u, "letters, digits and . _ - / # only");
const Quantity = z.number().int("must be a whole number").positive().max(1_000_000_000);
const DocumentNumber = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[\p{L}\p{N}][\p{L}\p{N} ._\-/#]*$/u, "letters, digits, space and . _ - / # only (no control characters)");

export const PricedLineSchema = z.object({ sku: Sku, quantity: Quantity, unitPrice: PositiveAmountString }).strict();
export const DeliveredLineSchema = z.object({ sku: Sku, quantity: Quantity }).strict();

export const SubmitReceivableSchema = z
  .object({
    debtorId: z.string().min(1).max(64),
    purchaseOrder: z
      .object({
        number: DocumentNumber,
        issuedAt: Timestamp,
        currency: z.string().regex(/^[A-Z]{3}$/, "an ISO 4217 code such as USD"),
        lines: z.array(PricedLineSchema).min(1).max(1_000),
      })
      .strict(),
    delivery: z
      .object({
        carrier: displayText(100),
        waybill: DocumentNumber,
        shippedAt: Timestamp,
        receivedAt: Timestamp,
        receivedBy: displayText(100),
        lines: z.array(DeliveredLineSchema).min(1).max(1_000),
      })
      .strict(),
    invoice: z
      .object({
        number: DocumentNumber,
        issuedAt: Timestamp,
        dueDate: Timestamp,
        lines: z.array(PricedLineSchema).min(1).max(1_000),
        tax: AmountString,
        total: PositiveAmountString,
      })
      .strict(),
  })
  .strict()
  .meta({ id: "SubmitReceivable" });

export type ReceivableSubmission = z.infer<typeof SubmitReceivableSchema>;

/**
 * The invoice number in its canonical form (server/domain/document-identity.ts): case,
 * separators, digits of any script, invisible characters and look-alike letters do not
 * make a new invoice: "inv 001" == "INV-001" == "INV-٠٠١" == "ΙΝV-001".
 */
export const normaliseInvoiceNumber = canonicalDocumentNumber;

export const hashText = (text: string): string => keccak256(toUtf8Bytes(text));

/** The on-chain receivable id: keccak256(abi.encode(sellerLegalId, debtorLegalId, invoiceNumberHash)). */
export function receivableIdOf(sellerLegalIdHash: string, debtorLegalIdHash: string, invoiceNumber: string): string {
  const invoiceHash = hashText(normaliseInvoiceNumber(invoiceNumber));
  return keccak256(
    AbiCoder.defaultAbiCoder().encode(
      ["bytes32", "bytes32", "bytes32"],
      [sellerLegalIdHash, debtorLegalIdHash, invoiceHash],
    ),
  );
}

/** JSON with sorted keys, so the same documents always hash the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The document hash anchored on-chain: the documents never go on-chain in clear. */
export const documentHashOf = (submission: ReceivableSubmission): string => hashText(canonicalJson(submission));

export const sumLines = (lines: Array<{ quantity: number; unitPrice: string }>): bigint =>
  lines.reduce((sum, line) => sum + BigInt(line.quantity) * BigInt(line.unitPrice), 0n);

export const toUnixSeconds = (iso: string): number => Math.floor(Date.parse(iso) / 1000);
