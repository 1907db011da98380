// Use case for auditors and risk teams: one party's credit exposure. What it is owed as
// the holder of live and locked leaf certificates (face value less what settlement paid
// out already), directly at tier 1 and through the deeper tiers, by debtor and by
// maturity; what it owes as a debtor; and, as a financier, its pledges outstanding and
// the certificates it bought. All from the service's index. The totals count every row of the
// party; each list is its first page, the rest are paged by exposure-lists.ts (issue 12).
import { z } from "zod";
import type { ServiceContext } from "../../context.js";
import type { Actor } from "../../model/actor.js";
import { ROLES } from "../../model/parties-schema.js";
import { PartyRefSchema } from "../../model/party-refs.js";
import { collateralShortfallOf } from "../../model/collateral-shortfall.js";
import { DEFAULT_PAGE_LIMIT, PageQuery } from "../../model/page.js";
import {
  Amount,
  asStrings,
  ByMaturitySchema,
  claimOf,
  emptyByMaturity,
  maturityBucket,
  type MaturityBucket,
} from "./maturity.js";
import {
  exposedParty,
  exposureReader,
  FinancierPledgeSchema,
  FinancierPurchaseSchema,
  fundedRequestsQuery,
  heldCertificatesPage,
  heldCertificatesQuery,
  outstandingOf,
  OwedCertificateSchema,
  OwedReceivableSchema,
  owedReceivablesPage,
  owedReceivablesQuery,
  owesByDueDate,
  pledgesPage,
  purchasesPage,
  stillHeldBy,
} from "./exposure-lists.js";

export { MATURITY_BUCKETS, maturityBucket, type MaturityBucket } from "./maturity.js";

/** The report's one parameter: how many items the first page of each list holds. */
export const ExposureQuery = z.object({ limit: PageQuery.shape.limit });
export type ExposureQuery = z.infer<typeof ExposureQuery>;

const nextCursor = (list: string) =>
  z
    .string()
    .nullable()
    .meta({
      description: `Pass as ?cursor= to /v1/audit/parties/{id}/exposure/${list} for the page after this first one; null when the list is complete`,
    });

export const RecourseClaimSchema = z
  .object({
    claimId: z.string(),
    kind: z.enum(["dilution", "default"]),
    status: z.enum(["open", "paid"]),
    leafId: z.string(),
    receivableId: z.string().nullable(),
    creditor: PartyRefSchema,
    guarantor: PartyRefSchema,
    guarantorCertificateId: z.string(),
    amount: Amount,
    parentClaimId: z.string().nullable(),
    openedTxHash: z.string(),
    paidTxHash: z.string().nullable(),
  })
  .meta({ id: "RecourseClaim" });

export const ExposureSchema = z
  .object({
    party: z.object({ id: z.string(), name: z.string(), address: z.string(), roles: z.array(z.enum(ROLES)) }),
    asOf: z.string(),
    asOfBlock: z.number(),
    owed: z.object({
      total: Amount,
      direct: Amount.meta({ description: "Tier-1 certificates: claims on the debtor without an intermediary" }),
      throughTiers: Amount.meta({ description: "Certificates at tier 2 and deeper, passed down the chain" }),
      byTier: z.array(z.object({ tier: z.number(), amount: Amount, certificates: z.number() })),
      byDebtor: z.array(
        z.object({ debtor: PartyRefSchema, amount: Amount, certificates: z.number(), byMaturity: ByMaturitySchema }),
      ),
      byMaturity: ByMaturitySchema,
      count: z.number().meta({ description: "How many certificates the totals count" }),
      certificates: z.array(OwedCertificateSchema).meta({ description: "The first page of the certificates" }),
      certificatesNextCursor: nextCursor("certificates"),
    }),
    owes: z.object({
      total: Amount,
      byMaturity: ByMaturitySchema,
      count: z.number().meta({ description: "How many receivables the totals count" }),
      receivables: z.array(OwedReceivableSchema).meta({ description: "The first page of the receivables" }),
      receivablesNextCursor: nextCursor("receivables"),
    }),
    asFinancier: z.object({
      pledgesOutstanding: Amount,
      collateralShortfall: Amount.meta({
        description:
          "Sum of its pledges' collateral shortfalls (issue 16): owed by pledgors beyond what the pledged claims cover, unsecured",
      }),
      pledgeCount: z.number().meta({ description: "How many pledges the totals count" }),
      pledges: z.array(FinancierPledgeSchema).meta({ description: "The first page of the pledges" }),
      pledgesNextCursor: nextCursor("pledges"),
      certificatesBought: z.object({
        count: z.number(),
        pricePaid: Amount,
        faceValue: Amount,
        stillHeldOwed: Amount.meta({
          description: "Claim (face less credit-note cuts) less payouts of the bought certificates it still holds",
        }),
      }),
      purchases: z.array(FinancierPurchaseSchema).meta({ description: "The first page of the purchases" }),
      purchasesNextCursor: nextCursor("purchases"),
    }),
    recourse: z
      .object({
        owesAsGuarantor: Amount.meta({ description: "Open recourse claims on it: pieces it passed with recourse" }),
        owedAsCreditor: Amount.meta({ description: "Open recourse claims it holds on earlier endorsers" }),
        claims: z.array(RecourseClaimSchema),
      })
      .meta({ description: "Recourse claims (issue 16): open ones count; paid ones are listed" }),
  })
  .meta({ id: "Exposure" });

export type Exposure = z.infer<typeof ExposureSchema>;

const compareIds = (a: string, b: string) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0);

export async function partyExposure(
  ctx: ServiceContext,
  actor: Actor,
  partyId: string,
  query: ExposureQuery = { limit: DEFAULT_PAGE_LIMIT },
): Promise<Exposure> {
  const party = await exposedParty(ctx, actor, partyId);
  const asOfBlock = await ctx.indexer.indexedBlock();
  // One clock: maturity is measured against the chain's time, as statuses and the contracts are.
  const reader = await exposureReader(ctx, party);
  const { nowSeconds, refs } = reader;
  const firstPage = { limit: query.limit };

  // --- owed: leaf certificates it holds -------------------------------------------------
  let owedTotal = 0n;
  let direct = 0n;
  let heldCount = 0;
  const byTier = new Map<number, { amount: bigint; certificates: number }>();
  const byDebtor = new Map<
    string,
    { amount: bigint; certificates: number; byMaturity: Record<MaturityBucket, bigint> }
  >();
  const owedByMaturity = emptyByMaturity();
  for (const c of await heldCertificatesQuery(ctx.db, party.address).execute()) {
    const owed = claimOf(c) - BigInt(c.paid_out);
    const bucket = maturityBucket(c.due_date, nowSeconds);
    heldCount += 1;
    owedTotal += owed;
    if (c.tier === 1) direct += owed;
    const tier = byTier.get(c.tier) ?? { amount: 0n, certificates: 0 };
    byTier.set(c.tier, { amount: tier.amount + owed, certificates: tier.certificates + 1 });
    const debtor = byDebtor.get(c.debtor) ?? { amount: 0n, certificates: 0, byMaturity: emptyByMaturity() };
    debtor.amount += owed;
    debtor.certificates += 1;
    debtor.byMaturity[bucket] += owed;
    byDebtor.set(c.debtor, debtor);
    owedByMaturity[bucket] += owed;
  }
  const certificates = await heldCertificatesPage(reader, firstPage);

  // --- owes: its receivables as the debtor ------------------------------------------------
  let owesTotal = 0n;
  let owesCount = 0;
  const owesByMaturity = emptyByMaturity();
  // Kept per due date (a row per date, not per receivable); where SQLite could not keep them
  // exactly, summed from the receivables.
  const byDueDate =
    (await owesByDueDate(ctx.db, party.address)) ??
    (await owedReceivablesQuery(ctx.db, party.address).execute())
      .map((r) => ({ dueDate: r.due_date, amount: outstandingOf(r), count: 1 }))
      .filter((r) => r.amount > 0n);
  for (const { dueDate, amount, count } of byDueDate) {
    owesCount += count;
    owesTotal += amount;
    owesByMaturity[maturityBucket(dueDate, nowSeconds)] += amount;
  }
  const receivables = await owedReceivablesPage(reader, firstPage);

  // --- as financier ---------------------------------------------------------------------------
  let pledgesOutstanding = 0n;
  let unsecured = 0n;
  let pledgeCount = 0;
  let purchaseCount = 0;
  let pricePaid = 0n;
  let boughtFace = 0n;
  let stillHeldOwed = 0n;
  for (const f of await fundedRequestsQuery(ctx.db, party.address).execute()) {
    if (f.kind === "pledge" && f.status === "pledged") {
      pledgeCount += 1;
      pledgesOutstanding += BigInt(f.outstanding);
      unsecured += collateralShortfallOf(f);
    } else if (f.kind === "discount" && f.status === "sold") {
      purchaseCount += 1;
      pricePaid += BigInt(f.price);
      boughtFace += BigInt(f.face_value);
      if (stillHeldBy(party.address, f))
        stillHeldOwed += BigInt(f.face_value) - BigInt(f.reduction) - BigInt(f.paid_out);
    }
  }
  const pledges = await pledgesPage(reader, firstPage);
  const purchases = await purchasesPage(reader, firstPage);
  // --- recourse: claims on it as a guarantor and claims it holds as a creditor -----------------
  const recourseRows = await ctx.db
    .selectFrom("onchain_recourse_claims")
    .selectAll()
    .where((eb) => eb.or([eb("guarantor", "=", party.address), eb("creditor", "=", party.address)]))
    .execute();
  let owesAsGuarantor = 0n;
  let owedAsCreditor = 0n;
  const recourseClaims: Exposure["recourse"]["claims"] = [];
  for (const r of recourseRows.sort((a, b) => compareIds(a.id, b.id))) {
    if (r.status === "open" && r.guarantor === party.address) owesAsGuarantor += BigInt(r.amount);
    if (r.status === "open" && r.creditor === party.address) owedAsCreditor += BigInt(r.amount);
    recourseClaims.push({
      claimId: r.id,
      kind: r.kind as "dilution" | "default",
      status: r.status as "open" | "paid",
      leafId: r.leaf_id,
      receivableId: r.receivable_id,
      creditor: await refs.of(r.creditor),
      guarantor: await refs.of(r.guarantor),
      guarantorCertificateId: r.guarantor_certificate_id,
      amount: r.amount,
      parentClaimId: r.parent_claim_id,
      openedTxHash: r.opened_tx_hash,
      paidTxHash: r.paid_tx_hash,
    });
  }

  return {
    party: { id: party.id, name: party.name, address: party.address, roles: party.roles },
    asOf: new Date(nowSeconds * 1000).toISOString(),
    asOfBlock,
    owed: {
      total: owedTotal.toString(),
      direct: direct.toString(),
      throughTiers: (owedTotal - direct).toString(),
      byTier: [...byTier.entries()]
        .sort(([a], [b]) => a - b)
        .map(([tier, t]) => ({ tier, amount: t.amount.toString(), certificates: t.certificates })),
      byDebtor: await Promise.all(
        [...byDebtor.entries()]
          .sort(([, a], [, b]) => (a.amount > b.amount ? -1 : a.amount < b.amount ? 1 : 0))
          .map(async ([address, d]) => ({
            debtor: await refs.of(address),
            amount: d.amount.toString(),
            certificates: d.certificates,
            byMaturity: asStrings(d.byMaturity),
          })),
      ),
      byMaturity: asStrings(owedByMaturity),
      count: heldCount,
      certificates: certificates.items,
      certificatesNextCursor: certificates.nextCursor,
    },
    owes: {
      total: owesTotal.toString(),
      byMaturity: asStrings(owesByMaturity),
      count: owesCount,
      receivables: receivables.items,
      receivablesNextCursor: receivables.nextCursor,
    },
    asFinancier: {
      pledgesOutstanding: pledgesOutstanding.toString(),
      collateralShortfall: unsecured.toString(),
      pledgeCount,
      pledges: pledges.items,
      pledgesNextCursor: pledges.nextCursor,
      certificatesBought: {
        count: purchaseCount,
        pricePaid: pricePaid.toString(),
        faceValue: boughtFace.toString(),
        stillHeldOwed: stillHeldOwed.toString(),
      },
      purchases: purchases.items,
      purchasesNextCursor: purchases.nextCursor,
    },
    recourse: {
      owesAsGuarantor: owesAsGuarantor.toString(),
      owedAsCreditor: owedAsCreditor.toString(),
      claims: recourseClaims,
    },
  };
}
