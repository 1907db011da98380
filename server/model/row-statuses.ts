// The lifecycles the service owns off-chain, as literal types: the compiler refuses a status
// a column never holds. (The on-chain statuses are the contracts' enums: contract-enums.ts.)

/** A party: written "registering" before its on-chain registration, then active or suspended. */
export type PartyStatus = "registering" | "active" | "suspended";

/** A submission: verified and waiting, on its way to the chain, on it, or closed before it. */
export type SubmissionStatus =
  "held_for_review" | "awaiting_confirmation" | "confirming" | "registered" | "rejected" | "declined" | "withdrawn";

/** An Idempotency-Key: running, answered, or failed with a 5xx (its retry looks for what it sent). */
export type IdempotencyState = "in_progress" | "done" | "interrupted";

/** A journaled transaction: broadcast, broadcast with an error (unknown), mined, reverted, or gone. */
export type TxJournalState = "sent" | "unconfirmed" | "mined" | "failed" | "dropped";
