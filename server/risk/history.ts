// A party's history as the risk model sees it, read from what the platform holds: the
// submitted trade documents (receivables) as seller and as debtor, the related-party
// records, and the receivables registered on-chain with the party as the debtor.
import type { ServiceContext } from "../context.js";
import type { ReceivableSubmission } from "../model/receivable-schema.js";
import type { PartyRecord } from "../store/parties-store.js";
import type { DebtRecord, PartyHistory, TradeRecord } from "./factors.js";
import { historyRowsOf, type HistoryRows, type OwedRow, type SubmittedRow } from "./history-rows.js";
import { KeptValues } from "./kept-values.js";
import { repaidAtOf } from "./repayment-times.js";
import { readInChunks } from "../store/in-chunks.js";

export const toSeconds = (iso: string): number => Math.floor(Date.parse(iso) / 1000);

/** Some ordered sku arrived in a smaller quantity than ordered, or not at all. */
export function isShortDelivery(documents: Pick<ReceivableSubmission, "purchaseOrder" | "delivery">): boolean {
  const sum = (lines: Array<{ sku: string; quantity: number }>) => {
    const bySku = new Map<string, number>();
    for (const line of lines) bySku.set(line.sku, (bySku.get(line.sku) ?? 0) + line.quantity);
    return bySku;
  };
  const delivered = sum(documents.delivery.lines);
  for (const [sku, quantity] of sum(documents.purchaseOrder.lines)) {
    if ((delivered.get(sku) ?? 0) < quantity) return true;
  }
  return false;
}

/** What the risk model reads from a receivable's documents. */
interface DocumentFacts {
  orderedAt: number;
  receivedAt: number;
  invoicedAt: number;
  shortDelivery: boolean;
}

// Every limit check rescores both parties from their whole history, and parsing each of their
// receivables' documents again cost ~0.4 s self time over a 240-registration bench whose debtor
// holds them all; reading every document's text, as large again. Documents are written once at
// submission and never change, and a receivable's document_hash is the keccak of their
// canonical JSON (documentHashOf), so the facts are kept by that hash: the documents are read
// only for receivables not seen yet. A row whose hash is not a 32-byte hash (hand-made test
// rows) is never kept. Bounded: once full, new facts are read each time and not kept. (It was
// FIFO at 20,000: a debtor owing more receivables than that missed on every row of every
// rescore, as each pass evicted what the next one needed first; at 25,000 a month-end
// confirmation to it took 0.6 s.) About 250 bytes a fact: 60 MB when full.
const documentFacts = new KeptValues<string, DocumentFacts>(250_000);

/** For tests: how many documents' facts are kept, and nothing kept yet. */
export function keepDocumentFacts(capacity: number): void {
  documentFacts.reset(capacity);
}
const isDocumentHash = (hash: string) => /^0x[0-9a-f]{64}$/i.test(hash);

function factsOf(documentsJson: string): DocumentFacts {
  const documents = JSON.parse(documentsJson) as ReceivableSubmission;
  return {
    orderedAt: toSeconds(documents.purchaseOrder.issuedAt),
    receivedAt: toSeconds(documents.delivery.receivedAt),
    invoicedAt: toSeconds(documents.invoice.issuedAt),
    shortDelivery: isShortDelivery(documents),
  };
}

/** The document facts of each row, in the rows' order: kept ones by hash, the others read now. */
export async function documentFactsOf(
  ctx: ServiceContext,
  rows: Array<{ id: string; document_hash: string }>,
): Promise<DocumentFacts[]> {
  // Only kept hashes are real hashes, so a hit needs no check of the hash's form (that check
  // on every row of a 25,000-receivable history cost more than the lookups).
  const facts = rows.map((row) => documentFacts.get(row.document_hash));
  const missing = new Map<string, number>(); // receivable id → its row
  facts.forEach((kept, i) => {
    if (!kept) missing.set(rows[i]!.id, i);
  });
  const read = await readInChunks([...missing.keys()], (chunk) =>
    ctx.db.selectFrom("receivables").select(["id", "documents"]).where("id", "in", chunk).execute(),
  );
  for (const { id, documents } of read) {
    const at = missing.get(id)!;
    facts[at] = factsOf(documents);
    const hash = rows[at]!.document_hash;
    if (isDocumentHash(hash)) documentFacts.keep(hash, facts[at]);
  }
  return facts as DocumentFacts[];
}

export const counterpartyOf = (party: PartyRecord, row: SubmittedRow): string =>
  row.seller_id === party.id ? row.debtor_id : row.seller_id;

/** The parties related to `party`: those it lists, and those of `counterpartyIds` that list it. */
export async function relatedPartiesOf(
  ctx: ServiceContext,
  party: PartyRecord,
  counterpartyIds: string[],
): Promise<Set<string>> {
  const related = new Set(party.relatedPartyIds);
  // The parties that name this one (few), not every counterparty's list (a core enterprise's
  // thousands of suppliers): party_relations is kept by triggers (migration 0024).
  const naming = await ctx.db
    .selectFrom("party_relations")
    .select("party_id")
    .where("related_id", "=", party.id)
    .execute();
  const counterparties = new Set(counterpartyIds);
  for (const { party_id } of naming) if (counterparties.has(party_id)) related.add(party_id);
  return related;
}

export function tradeOf(
  party: PartyRecord,
  row: SubmittedRow,
  facts: DocumentFacts,
  related: Set<string>,
): TradeRecord {
  const role = row.seller_id === party.id ? "seller" : "debtor";
  const counterpartyId = counterpartyOf(party, row);
  const { orderedAt, receivedAt, invoicedAt, shortDelivery } = facts;
  return {
    receivableId: row.id,
    role,
    counterpartyId,
    faceValue: BigInt(row.face_value),
    status: row.status,
    orderedAt,
    receivedAt,
    invoicedAt,
    shortDelivery,
    related: related.has(counterpartyId),
  };
}

export const debtOf = (row: OwedRow, repaidAt: Map<string, number>): DebtRecord => ({
  receivableId: row.id,
  faceValue: BigInt(row.face_value),
  repaidAmount: BigInt(row.repaid_amount),
  dueDate: row.due_date,
  status: row.status,
  repaidAt: repaidAt.get(row.id) ?? null,
});

/** The records of these rows: trades with their document facts and related flags, debts with their repayment times. */
export async function recordsOf(
  ctx: ServiceContext,
  party: PartyRecord,
  rows: HistoryRows,
): Promise<{ trades: TradeRecord[]; debts: DebtRecord[]; related: Set<string> }> {
  const related = await relatedPartiesOf(ctx, party, [...new Set(rows.submitted.map((r) => counterpartyOf(party, r)))]);
  const facts = await documentFactsOf(ctx, rows.submitted);
  const trades = rows.submitted.map((row, i) => tradeOf(party, row, facts[i]!, related));
  const repaidAt = await repaidAtOf(
    ctx,
    rows.owed.filter((r) => r.status === "repaid").map((r) => r.id),
  );
  return { trades, debts: rows.owed.map((row) => debtOf(row, repaidAt)), related };
}

export async function loadPartyHistory(
  ctx: ServiceContext,
  party: PartyRecord,
  now: Date = ctx.now(),
): Promise<PartyHistory> {
  const { trades, debts } = await recordsOf(ctx, party, await historyRowsOf(ctx.db, party));
  return {
    partyId: party.id,
    createdAt: toSeconds(party.createdAt),
    now: Math.floor(now.getTime() / 1000),
    trades,
    debts,
  };
}
