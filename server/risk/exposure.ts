// What counts against a party's limits, from the index (and the registrations under way):
// - as a debtor: the outstanding (face - credited - repaid: credit notes lower what it owes,
//   issue 16) of every receivable it owes that is not repaid, whatever tier its pieces sit at now, plus confirmations not yet on-chain;
// - as a supplier: the outstanding of the receivables it sold (tier 1, whoever holds the
//   pieces now) plus what it is still owed on pieces it received deeper down the chain
//   (tier 2 and below, each piece's claim after credit notes), plus its confirmations under
//   way, plus the open recourse claims on it as a guarantor (an endorser that passed a piece
//   with recourse owes the loss it covers until it pays), plus its pledges' collateral
//   shortfalls (a credit note cut a leaf it pledged below what the pledgee is owed: the gap is
//   the pledgee's unsecured exposure to it, owed by the pledgor whatever the leaf pays);
// - as a borrower (financing): open requests at their price, pledges at what is still owed
//   to the pledgee, certificates it sold at their price until they are settled, and the
//   reservations of openings under way (risk/limits.ts).
// Each function reads through `scope.db`, so the limit checks can run them inside their
// transaction. On PostgreSQL that transaction is READ COMMITTED: each statement sees what
// was committed when it began, and the indexer commits between them. So the work under way
// is read before the index: something moving from one to the other in between is then
// counted twice for one check (refusing a little early), never missed (letting a
// registration or an opening past its limit). The move is one way: a confirmation leaves
// "confirming" only once indexed, a financing reservation is released only once indexed.
import type { ServiceContext } from "../context.js";

/** What the exposure functions read: the service's database or a transaction on it. */
type Scope = Pick<ServiceContext, "db">;
import type { PartyRecord } from "../store/parties-store.js";
import type { PartySumKind } from "../store/schema.js";
import { isExactKept, keptAmountIsInteger, keptAmountText } from "../store/kept-amounts.js";
import { collateralShortfallOf } from "../model/collateral-shortfall.js";

export interface DebtorExposure {
  outstanding: bigint;
  pending: bigint;
  total: bigint;
}

export interface SupplierExposure {
  originated: bigint;
  throughTiers: bigint;
  /** Open recourse claims on it as a guarantor (issue 16). */
  recourse: bigint;
  /** Its pledges' collateral shortfalls (issue 16): owed to pledgees beyond the pledged claims. */
  collateralShortfall: bigint;
  pending: bigint;
  total: bigint;
}

export interface FinancingExposure {
  reserved: bigint;
  open: bigint;
  pledged: bigint;
  sold: bigint;
  total: bigint;
}

const sum = (values: Iterable<bigint>) => [...values].reduce((a, b) => a + b, 0n);

/** Confirmations started but not yet in the index: they are about to count. */
async function pendingRegistrations(
  ctx: Scope,
  column: "seller_id" | "debtor_id",
  partyId: string,
  exclude?: string,
): Promise<bigint> {
  let query = ctx.db
    .selectFrom("receivables as r")
    .leftJoin("onchain_receivables as o", "o.id", "r.id")
    .select("r.face_value")
    .where(`r.${column}`, "=", partyId)
    .where("r.status", "=", "confirming")
    .where("o.id", "is", null);
  if (exclude) query = query.where("r.id", "!=", exclude);
  return sum((await query.execute()).map((r) => BigInt(r.face_value)));
}

export async function debtorExposure(
  ctx: Scope,
  party: PartyRecord,
  excludeReceivableId?: string,
): Promise<DebtorExposure> {
  const pending = await pendingRegistrations(ctx, "debtor_id", party.id, excludeReceivableId); // first: see the header
  const outstanding = await stillOwed(ctx, "debtor", party.address);
  return { outstanding, pending, total: outstanding + pending };
}

export async function supplierExposure(
  ctx: Scope,
  party: PartyRecord,
  excludeReceivableId?: string,
): Promise<SupplierExposure> {
  const pending = await pendingRegistrations(ctx, "seller_id", party.id, excludeReceivableId); // first: see the header
  const originated = await stillOwed(ctx, "seller", party.address);
  const kept = await keptSums(ctx, party.address, ["through_tiers", "pledge_shortfall"]);
  const throughTiers = kept?.through_tiers ?? (await summedThroughTiers(ctx, party.address));
  const recourse = await openRecourseOn(ctx, party.address);
  const collateralShortfall = kept?.pledge_shortfall ?? (await collateralShortfallOwedBy(ctx, party.address));
  return {
    originated,
    throughTiers,
    recourse,
    collateralShortfall,
    pending,
    total: originated + throughTiers + recourse + collateralShortfall + pending,
  };
}

/**
 * What `holder` is still owed on its live and locked pieces at tier 2 and deeper, row by row:
 * each piece's claim after credit notes less what it was paid, until its receivable's row says
 * repaid (store/party-tiers-triggers.ts keeps the same sum; `npm run bench:exposure`'s "before").
 */
export async function summedThroughTiers(ctx: Scope, holder: string): Promise<bigint> {
  const deeper = await ctx.db
    .selectFrom("onchain_certificates as c")
    .leftJoin("onchain_receivables as r", "r.id", "c.receivable_id")
    .select(["c.face_value", "c.reduction", "c.paid_out"])
    .where("c.holder", "=", holder)
    .where("c.tier", ">=", 2)
    .where("c.state", "in", ["live", "locked"])
    .where((eb) => eb.or([eb("r.status", "is", null), eb("r.status", "!=", "repaid")]))
    .execute();
  return sum(deeper.map((c) => BigInt(c.face_value) - BigInt(c.reduction) - BigInt(c.paid_out)).filter((v) => v > 0n));
}

/** What the debtor still owes on a receivable: face less credit notes less what it repaid. */
const owedOf = (r: { face_value: string; credited: string; repaid_amount: string }): bigint =>
  BigInt(r.face_value) - BigInt(r.credited) - BigInt(r.repaid_amount);

/**
 * What is still owed, above zero, on the receivables not repaid that `party` owes (debtor) or
 * sold (seller). Triggers keep the sum (store/party-owed-triggers.ts), so the limit check on
 * the debtor that owes the whole book reads one row (issue 12: summing the rows took 7 ms at
 * 25,000 and 47 ms at 100,000, inside the transaction that holds the write lock). PostgreSQL
 * keeps it in numeric; SQLite in 64-bit integers, and where an amount or the sum does not fit
 * the party's rows are summed here instead.
 */
async function stillOwed(ctx: Scope, side: "debtor" | "seller", address: string): Promise<bigint> {
  const kept = await ctx.db
    .selectFrom("party_owed")
    .select([keptAmountText("owed").as("owed"), "wide", keptAmountIsInteger(ctx.db, "owed").as("exact")])
    .where("address", "=", address)
    .where("side", "=", side)
    .executeTakeFirst();
  if (!kept) return 0n;
  if (isExactKept(kept)) return BigInt(kept.owed);
  const rows = await ctx.db
    .selectFrom("onchain_receivables")
    .select(["face_value", "credited", "repaid_amount"])
    .where(side, "=", address)
    .where("status", "!=", "repaid")
    .execute();
  return sum(rows.map(owedOf).filter((v) => v > 0n));
}

/** Open recourse claims on `guarantor` (issue 16): what it owes holders it passed pieces to with recourse. */
export async function openRecourseOn(ctx: Scope, guarantor: string): Promise<bigint> {
  const rows = await ctx.db
    .selectFrom("onchain_recourse_claims")
    .select("amount")
    .where("guarantor", "=", guarantor)
    .where("status", "=", "open")
    .execute();
  return sum(rows.map((r) => BigInt(r.amount)));
}

/**
 * What `pledgor` owes its pledgees beyond the claims of the leaves it pledged (issue 16): each
 * live pledge's outstanding less the leaf's claim after credit notes, when above zero. Summed
 * from its pledges; store/party-shortfall-triggers.ts keeps the same sum for the limit check.
 */
export async function collateralShortfallOwedBy(ctx: Scope, pledgor: string): Promise<bigint> {
  const rows = await ctx.db
    .selectFrom("onchain_financing_requests as f")
    .innerJoin("onchain_certificates as c", "c.id", "f.certificate_id")
    .select(["f.kind", "f.status", "f.outstanding", "c.face_value", "c.reduction"])
    .where("f.holder", "=", pledgor)
    .where("f.status", "=", "pledged")
    .execute();
  return sum(rows.map(collateralShortfallOf));
}

export async function financingExposure(ctx: Scope, party: PartyRecord): Promise<FinancingExposure> {
  // First the reservations (released only after the opening is indexed), then the index: see the header.
  const reservations = await ctx.db
    .selectFrom("limit_reservations")
    .select("amount")
    .where("party_id", "=", party.id)
    .where("kind", "=", "financing")
    .where("expires_at", ">", new Date().toISOString())
    .execute();
  const reserved = sum(reservations.map((r) => BigInt(r.amount)));
  const { open, pledged, sold } =
    (await keptFinanced(ctx, party.address)) ?? (await summedFinanced(ctx, party.address));
  return { reserved, open, pledged, sold, total: reserved + open + pledged + sold };
}

type Financed = { open: bigint; pledged: bigint; sold: bigint };

/**
 * Sums of `kinds` for `address` as triggers keep them in party_sums
 * (store/party-financed-triggers.ts, store/party-tiers-triggers.ts): a row each, however long
 * the party's history. Undefined where SQLite could not keep one exactly (an amount past 18
 * digits, or a sum past 64 bits): the caller sums the rows instead.
 */
async function keptSums<K extends PartySumKind>(
  ctx: Scope,
  address: string,
  kinds: readonly K[],
): Promise<Record<K, bigint> | undefined> {
  const rows = await ctx.db
    .selectFrom("party_sums")
    .select(["kind", keptAmountText("amount").as("amount"), "wide", keptAmountIsInteger(ctx.db, "amount").as("exact")])
    .where("address", "=", address)
    .where("kind", "in", kinds)
    .execute();
  const sums = Object.fromEntries(kinds.map((kind) => [kind, 0n])) as Record<K, bigint>;
  for (const row of rows) {
    if (!isExactKept(row)) return undefined;
    sums[row.kind as K] = BigInt(row.amount);
  }
  return sums;
}

async function keptFinanced(ctx: Scope, address: string): Promise<Financed | undefined> {
  const kept = await keptSums(ctx, address, ["financing_open", "financing_pledged", "financing_sold"]);
  return kept && { open: kept.financing_open, pledged: kept.financing_pledged, sold: kept.financing_sold };
}

/** The same sums from the holder's requests, row by row (and `npm run bench:exposure`'s "before"). */
export async function summedFinanced(ctx: Scope, address: string): Promise<Financed> {
  const rows = await ctx.db
    .selectFrom("onchain_financing_requests as f")
    .leftJoin("onchain_certificates as c", "c.id", "f.certificate_id")
    .select(["f.status", "f.price", "f.outstanding", "c.state"])
    .where("f.holder", "=", address)
    .where("f.status", "in", ["open", "pledged", "sold"])
    .execute();
  const financed: Financed = { open: 0n, pledged: 0n, sold: 0n };
  for (const r of rows) {
    if (r.status === "open") financed.open += BigInt(r.price);
    else if (r.status === "pledged") financed.pledged += BigInt(r.outstanding);
    else if (r.state !== "settled") financed.sold += BigInt(r.price);
  }
  return financed;
}
