// Turns a contract revert into the service's AppError: the same stable codes the API
// uses (e.g. CertificateLocked -> CERTIFICATE_LOCKED), with the revert's arguments.
import type { Interface } from "ethers";
import { AppError, isConnectionFailure, unavailable } from "../model/errors.js";
import { allErrorsInterface } from "./artifacts.js";

let errorsInterface: Interface | undefined;

// Status per contract error; anything unlisted is a 409 (the chain's state refuses it).
const STATUS: Record<string, number> = {
  AccessControlUnauthorizedAccount: 403,
  CertificateNotHolder: 403,
  FinancingNotHolder: 403,
  FinancingNotPledgee: 403,
  CallerNotEscrow: 403,
  OwnableUnauthorizedAccount: 403,
  SplitAmountMismatch: 422,
  SplitPartCount: 422,
  SplitPieceTooSmall: 422,
  SplitTierTooDeep: 422,
  SplitChangesNothing: 422,
  CertificateRecipientIsDebtor: 422,
  CertificateRecipientMayNotHold: 422,
  ReceivableSellerMayNotHold: 422,
  FinancingTermsInvalid: 422,
  ReceivableZeroFaceValue: 422,
  ReceivableSelfDealing: 422,
  ReceivableDueDateInPast: 422,
  ReceivableFaceValueTooLarge: 422,
  ReceivableDueDateTooFar: 422,
  GracePeriodTooLong: 422,
  ConfirmationExpired: 422,
  ConfirmationInvalidSignature: 422,
  CertificateNotFound: 404,
  ReceivableNotFound: 404,
  FinancingRequestNotFound: 404,
  EnforcedPause: 503,
  // Dilution and recourse (issue 16): the wrong party is a 403, a malformed request a 422,
  // a missing note or claim a 404; the rest (dispute open, note pending, closed) is the chain's state: 409.
  DilutionNotDebtor: 403,
  RecourseNotCreditor: 403,
  RecourseNotHolder: 403,
  CreditNoteInvalidSignature: 422,
  CreditNoteConsentExpired: 422,
  CreditNoteZeroAmount: 422,
  CreditNoteExceedsOutstanding: 422,
  DilutionLeafCount: 422,
  DilutionLeavesNotSorted: 422,
  DilutionNotALeaf: 422,
  DilutionChunkSize: 422,
  DilutionChunkMismatch: 422,
  DilutionNoGap: 422,
  RecourseNotAGuarantor: 422,
  RecourseNothingToClaim: 422,
  CreditNoteNotFound: 404,
  RecourseClaimNotFound: 404,
};

export const toErrorCode = (name: string): string =>
  name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Z])([A-Z][a-z])/g, "$1_$2")
    .toUpperCase();

function revertData(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current && typeof current === "object"; depth++) {
    const record = current as Record<string, unknown>;
    if (typeof record.data === "string" && record.data.startsWith("0x") && record.data.length >= 10) return record.data;
    current = record.error ?? record.info ?? record.cause;
    if (current && typeof current === "object" && "error" in (current as object)) continue;
  }
  return undefined;
}

/** Maps a failed chain call to an AppError; returns undefined if it is not a known revert. */
export function decodeRevert(error: unknown): AppError | undefined {
  const data = revertData(error);
  if (!data) return undefined;
  errorsInterface ??= allErrorsInterface();
  const parsed = errorsInterface.parseError(data);
  if (!parsed) return undefined;
  const details: Record<string, string> = { contractError: parsed.name };
  parsed.fragment.inputs.forEach((input, i) => {
    const value = parsed.args[i];
    details[input.name || `arg${i}`] = typeof value === "bigint" ? value.toString() : String(value);
  });
  const status = STATUS[parsed.name] ?? 409;
  return new AppError(toErrorCode(parsed.name), status, `the contract refused: ${parsed.name}`, details, {
    cause: error,
  });
}

/** Any chain failure as an AppError: a known revert, the chain unreachable (503), or a 502. */
export function chainError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const reverted = decodeRevert(error);
  if (reverted) return reverted;
  if (isConnectionFailure(error)) {
    return unavailable(
      "CHAIN_UNAVAILABLE",
      "the chain's JSON-RPC endpoint is not answering; try again shortly",
      undefined,
      error,
    );
  }
  return new AppError(
    "CHAIN_ERROR",
    502,
    "the chain refused the transaction",
    { reason: (error as Error)?.message?.slice(0, 300) },
    { cause: error },
  );
}
