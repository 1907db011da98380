// The transaction envelope: every write that sends chain transactions answers its resource
// under a named key plus `transactions`, the hashes it sent in order, each named by its kind
// (the same kind the sender logs and the interrupted-attempt journal records).
import { z } from "zod";

export const SentTransactionSchema = z
  .object({
    kind: z.string().describe("what the transaction did, e.g. register, transfer, approveFinancing, fundFinancing"),
    hash: z.string(),
  })
  .meta({ id: "SentTransaction" });

/** What every write that sends transactions answers beside its resource. */
export const transactionsSchema = z
  .array(SentTransactionSchema)
  .describe("the transactions this write sent, in order; empty when the chain already was as asked");
export type SentTransaction = z.infer<typeof SentTransactionSchema>;

/** The envelope's list from (kind, hash) pairs; a pair without a hash (nothing was sent) is left out. */
export function sentTransactions(...sent: [kind: string, hash: string | null | undefined][]): SentTransaction[] {
  return sent.filter((entry): entry is [string, string] => Boolean(entry[1])).map(([kind, hash]) => ({ kind, hash }));
}

/** Marks a field kept for older clients; `transactions` (or the named resource) replaces it. */
export const deprecatedFor = (replacement: string): { deprecated: true; description: string } => ({
  deprecated: true,
  description: `Deprecated: read ${replacement} instead; kept so older clients keep working`,
});
