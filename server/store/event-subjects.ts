// Which receivable a journaled event is about. An event that names `receivableId` says so
// itself; the others name a piece of its tree (a certificate, a financing request, a recourse
// claim), and are attributed through the projections once the batch they arrive in is applied
// (a piece's mint comes before the event that creates its row). The auditor's trace then reads
// one receivable's events through an index (chain_events_by_receivable) instead of matching
// the text of every event since the registration.
import type { Kysely } from "kysely";
import type { Database } from "./schema.js";
import { readInChunks } from "./in-chunks.js";

/** A journaled event, as far as attribution needs it. */
export interface JournaledEvent {
  blockNumber: number;
  logIndex: number;
  contract: string;
  args: Record<string, unknown>;
}

/** What an event without a receivableId names, by the contracts whose events name pieces. */
export interface EventSubjects {
  certificateIds: string[];
  requestId?: string;
  claimId?: string;
}

const text = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);

/** The pieces an event names, for the contracts whose events can name a piece; undefined otherwise. */
export function subjectsOf(contract: string, args: Record<string, unknown>): EventSubjects | undefined {
  const pieces = (...names: string[]) => names.map((name) => text(args[name])).filter((id): id is string => !!id);
  switch (contract) {
    case "certificates":
      return { certificateIds: pieces("certificateId", "tokenId", "parentId") };
    case "financing":
      return { certificateIds: pieces("certificateId"), requestId: text(args.requestId) };
    case "dilution":
      return { certificateIds: pieces("certificateId", "leafId") };
    case "recourse":
      return { certificateIds: pieces("certificateId", "leafId"), claimId: text(args.claimId) };
    default:
      return undefined;
  }
}

/** The receivable an event names itself, if it does. */
export const namedReceivableOf = (args: Record<string, unknown>): string | null => text(args.receivableId) ?? null;

/**
 * Fills chain_events.receivable_id for `events` (journaled, and applied to the projections
 * in `db`) that name a piece rather than the receivable. Three lookups for the whole batch,
 * one update per event attributed.
 */
export async function attributeEvents(db: Kysely<Database>, events: JournaledEvent[]): Promise<void> {
  const pending = events
    .filter((event) => namedReceivableOf(event.args) === null)
    .map((event) => ({ event, subjects: subjectsOf(event.contract, event.args) }))
    .filter((p): p is { event: JournaledEvent; subjects: EventSubjects } => p.subjects !== undefined);
  if (pending.length === 0) return;

  const requestIds = [...new Set(pending.flatMap((p) => (p.subjects.requestId ? [p.subjects.requestId] : [])))];
  const claimIds = [...new Set(pending.flatMap((p) => (p.subjects.claimId ? [p.subjects.claimId] : [])))];
  const requestCertificate = new Map<string, string>();
  const requests = await readInChunks(requestIds, (chunk) =>
    db.selectFrom("onchain_financing_requests").select(["id", "certificate_id"]).where("id", "in", chunk).execute(),
  );
  for (const row of requests) requestCertificate.set(row.id, row.certificate_id);
  const claimReceivable = new Map<string, string>();
  const claims = await readInChunks(claimIds, (chunk) =>
    db.selectFrom("onchain_recourse_claims").select(["id", "receivable_id"]).where("id", "in", chunk).execute(),
  );
  for (const row of claims) if (row.receivable_id) claimReceivable.set(row.id, row.receivable_id);
  const certificateIds = [
    ...new Set([...pending.flatMap((p) => p.subjects.certificateIds), ...requestCertificate.values()]),
  ];
  const certificateReceivable = new Map<string, string>();
  const certificates = await readInChunks(certificateIds, (chunk) =>
    db.selectFrom("onchain_certificates").select(["id", "receivable_id"]).where("id", "in", chunk).execute(),
  );
  for (const row of certificates) certificateReceivable.set(row.id, row.receivable_id);

  for (const { event, subjects } of pending) {
    const viaRequest = subjects.requestId ? requestCertificate.get(subjects.requestId) : undefined;
    const receivableId =
      subjects.certificateIds.map((id) => certificateReceivable.get(id)).find((id) => id !== undefined) ??
      (viaRequest ? certificateReceivable.get(viaRequest) : undefined) ??
      (subjects.claimId ? claimReceivable.get(subjects.claimId) : undefined);
    if (!receivableId) continue;
    await db
      .updateTable("chain_events")
      .set({ receivable_id: receivableId })
      .where("block_number", "=", event.blockNumber)
      .where("log_index", "=", event.logIndex)
      .execute();
  }
}
