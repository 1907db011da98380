// Use case for auditors and risk teams: one party's credit exposure. What it is owed as
// the holder of live and locked leaf certificates (face value less what settlement paid
// out already), directly at tier 1 and through the deeper tiers, by debtor and by
// maturity; what it owes as a debtor; and, as a financier, its pledges outstanding and
// the certificates it bought. All from the service's index.
import { z } from "zod";
import { chainNowSeconds } from "../../chain/chain-time.js";
import type { ServiceContext } from "../../context.js";
import { notFound } from "../../model/errors.js";
import { findPartyById } from "../../store/parties-store.js";
import type { Actor } from "../../model/actor.js";
import { requireAccess } from "../../model/access-policy.js";
import { relationsToParty, roleRelations } from "../../store/access-relations.js";
import { ROLES } from "../../model/parties-schema.js";
import { PartyRefSchema } from "../../model/party-refs.js";
import { PartyRefs } from "../../store/party-refs.js";
import { collateralShortfallOf } from "../../model/collateral-shortfall.js";

export const MATURITY_BUCKETS = ["overdue", "0-30", "31-60", "61-90", "91-180", ">180"] as const;
export type MaturityBucket = (typeof MATURITY_BUCKETS)[number];

const DAY = 86_400;

/** Whole days to maturity, rounded up: due tomorrow 09:00 is "1 day". Due now or before: overdue. */
export function maturityBucket(dueDate: number, nowSeconds: number): MaturityBucket {
  if (dueDate <= nowSeconds) return "overdue";
  const days = Math.ceil((dueDate - nowSeconds) / DAY);
  if (days <= 30) return "0-30";
  if (days <= 60) return "31-60";
  if (days <= 90) return "61-90";
  if (days <= 180) return "91-180";
  return ">180";
}

const Amount = z.string();
const ByMaturitySchema = z
  .object(Object.fromEntries(MATURITY_BUCKETS.map((b) => [b, Amount])) as Record<MaturityBucket, typeof Amount>)
  .meta({
    id: "ByMaturity",
    description: "Amounts by days to maturity; overdue: the due date has passed",
  });
type ByMaturity = Record<MaturityBucket, string>;

const OwedCertificateSchema = z.object({
  certificateId: z.string(),
  receivableId: z.string(),
  tier: z.number(),
  state: z.enum(["live", "locked"]),
  faceValue: Amount,
  paidOut: Amount,
  claim: Amount.meta({ description: "faceValue less what credit notes cut from it" }),
  owed: Amount.meta({ description: "claim - paidOut (after an early discharge: the discounted share - paidOut)" }),
  debtor: PartyRefSchema,
  dueDate: z.string(),
  maturity: z.enum(MATURITY_BUCKETS),
  receivableStatus: z.string(),
  pledge: z
    .object({
      requestId: z.string(),
      pledgee: PartyRefSchema.nullable(),
      outstanding: Amount,
      collateralShortfall: Amount.meta({
        description:
          "By how much the claim is below what the pledgee is owed (issue 16): what it owes the pledgee unsecured",
      }),
    })
    .nullable()
    .meta({ description: "A pledge on the certificate is paid first, up to its outstanding amount" }),
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
      certificates: z.array(OwedCertificateSchema),
    }),
    owes: z.object({
      total: Amount,
      byMaturity: ByMaturitySchema,
      receivables: z.array(
        z.object({
          receivableId: z.string(),
          seller: PartyRefSchema,
          faceValue: Amount,
          creditedAmount: Amount.meta({ description: "credit notes applied: the debtor owes face - credited" }),
          repaidAmount: Amount,
          outstanding: Amount,
          dueDate: z.string(),
          maturity: z.enum(MATURITY_BUCKETS),
          status: z.string(),
        }),
      ),
    }),
    asFinancier: z.object({
      pledgesOutstanding: Amount,
      collateralShortfall: Amount.meta({
        description:
          "Sum of its pledges' collateral shortfalls (issue 16): owed by pledgors beyond what the pledged claims cover, unsecured",
      }),
      pledges: z.array(
        z.object({
          requestId: z.string(),
          certificateId: z.string(),
          receivableId: z.string(),
          pledgor: PartyRefSchema,
          debtor: PartyRefSchema.nullable(),
          lent: Amount,
          repayAmount: Amount,
          outstanding: Amount,
          collateralShortfall: Amount.meta({
            description: "outstanding - the certificate's claim after credit notes, when above 0 (issue 16)",
          }),
          dueDate: z.string().nullable(),
          maturity: z.enum(MATURITY_BUCKETS).nullable(),
        }),
      ),
      certificatesBought: z.object({
        count: z.number(),
        pricePaid: Amount,
        faceValue: Amount,
        stillHeldOwed: Amount.meta({
          description: "Claim (face less credit-note cuts) less payouts of the bought certificates it still holds",
        }),
      }),
      purchases: z.array(
        z.object({
          requestId: z.string(),
          certificateId: z.string(),
          receivableId: z.string(),
          seller: PartyRefSchema.meta({ description: "Who sold the certificate" }),
          price: Amount,
          faceValue: Amount,
          paidOut: Amount,
          state: z.string(),
          stillHeld: z.boolean(),
          fundedTxHash: z.string().nullable(),
        }),
      ),
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

const emptyByMaturity = (): Record<MaturityBucket, bigint> =>
  Object.fromEntries(MATURITY_BUCKETS.map((b) => [b, 0n])) as Record<MaturityBucket, bigint>;
const asStrings = (m: Record<MaturityBucket, bigint>): ByMaturity =>
  Object.fromEntries(MATURITY_BUCKETS.map((b) => [b, m[b].toString()])) as ByMaturity;
const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
/**
 * What a leaf will receive in all: its face value, except once the receivable is closed as
 * repaid below face (discharged early at a discount), when settlement pays
 * floor(repaid x face / receivable face), as the escrow does.
 */
function claimOf(c: {
  face_value: string;
  reduction: string;
  status: string;
  receivable_face: string;
  credited: string;
  repaid_amount: string;
}): bigint {
  // Credit notes cut the leaf first (issue 16): its claim is face - reduction, and the escrow
  // shares what was repaid over face - credited.
  const claim = BigInt(c.face_value) - BigInt(c.reduction);
  if (c.status !== "repaid") return claim;
  const owedInAll = BigInt(c.receivable_face) - BigInt(c.credited);
  return owedInAll === 0n ? 0n : (BigInt(c.repaid_amount) * claim) / owedInAll;
}

const compareIds = (a: string, b: string) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0);

export async function partyExposure(ctx: ServiceContext, actor: Actor, partyId: string): Promise<Exposure> {
  const party = await findPartyById(ctx.db, partyId);
  requireAccess(
    "exposure",
    party ? await relationsToParty(ctx.db, actor, party) : roleRelations(actor),
    `party ${partyId}`,
  );
  if (!party) throw notFound("Party", partyId);
  const asOfBlock = await ctx.indexer.indexedBlock();
  // One clock: maturity is measured against the chain's time, as statuses and the contracts are.
  const nowSeconds = await chainNowSeconds(ctx);
  const now = new Date(nowSeconds * 1000);
  const refs = new PartyRefs(ctx.db);

  // --- owed: leaf certificates it holds -------------------------------------------------
  const held = (
    await ctx.db
      .selectFrom("onchain_certificates as c")
      .innerJoin("onchain_receivables as r", "r.id", "c.receivable_id")
      .select([
        "c.id",
        "c.receivable_id",
        "c.tier",
        "c.state",
        "c.face_value",
        "c.reduction",
        "c.paid_out",
        "r.debtor",
        "r.due_date",
        "r.status",
        "r.face_value as receivable_face",
        "r.credited",
        "r.repaid_amount",
      ])
      .where("c.holder", "=", party.address)
      .where("c.state", "in", ["live", "locked"])
      .execute()
  ).sort((a, b) => compareIds(a.id, b.id));
  const pledgesOn = new Map(
    held.length
      ? (
          await ctx.db
            .selectFrom("onchain_financing_requests")
            .select(["id", "kind", "status", "certificate_id", "financier", "outstanding"])
            .where(
              "certificate_id",
              "in",
              held.map((c) => c.id),
            )
            .where("status", "=", "pledged")
            .execute()
        ).map((p) => [p.certificate_id, p])
      : [],
  );

  let owedTotal = 0n;
  let direct = 0n;
  const byTier = new Map<number, { amount: bigint; certificates: number }>();
  const byDebtor = new Map<
    string,
    { amount: bigint; certificates: number; byMaturity: Record<MaturityBucket, bigint> }
  >();
  const owedByMaturity = emptyByMaturity();
  const certificates: Exposure["owed"]["certificates"] = [];
  for (const c of held) {
    const owed = claimOf(c) - BigInt(c.paid_out);
    const bucket = maturityBucket(c.due_date, nowSeconds);
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
    const pledge = pledgesOn.get(c.id);
    certificates.push({
      certificateId: c.id,
      receivableId: c.receivable_id,
      tier: c.tier,
      state: c.state as "live" | "locked",
      faceValue: c.face_value,
      claim: (BigInt(c.face_value) - BigInt(c.reduction)).toString(),
      paidOut: c.paid_out,
      owed: owed.toString(),
      debtor: await refs.of(c.debtor),
      dueDate: iso(c.due_date),
      maturity: bucket,
      receivableStatus: c.status,
      pledge: pledge
        ? {
            requestId: pledge.id,
            pledgee: await refs.ofNullable(pledge.financier),
            outstanding: pledge.outstanding,
            collateralShortfall: collateralShortfallOf({
              ...pledge,
              face_value: c.face_value,
              reduction: c.reduction,
            }).toString(),
          }
        : null,
    });
  }

  // --- owes: its receivables as the debtor ------------------------------------------------
  const debts = (
    await ctx.db
      .selectFrom("onchain_receivables")
      .selectAll()
      .where("debtor", "=", party.address)
      .where("status", "!=", "repaid")
      .orderBy("due_date")
      .orderBy("id")
      .execute()
  ).filter((r) => BigInt(r.face_value) - BigInt(r.credited) > BigInt(r.repaid_amount));
  let owesTotal = 0n;
  const owesByMaturity = emptyByMaturity();
  const receivables: Exposure["owes"]["receivables"] = [];
  for (const r of debts) {
    const outstanding = BigInt(r.face_value) - BigInt(r.credited) - BigInt(r.repaid_amount);
    const bucket = maturityBucket(r.due_date, nowSeconds);
    owesTotal += outstanding;
    owesByMaturity[bucket] += outstanding;
    receivables.push({
      receivableId: r.id,
      seller: await refs.of(r.seller),
      faceValue: r.face_value,
      creditedAmount: r.credited,
      repaidAmount: r.repaid_amount,
      outstanding: outstanding.toString(),
      dueDate: iso(r.due_date),
      maturity: bucket,
      status: r.status,
    });
  }

  // --- as financier ---------------------------------------------------------------------------
  const funded = (
    await ctx.db
      .selectFrom("onchain_financing_requests as f")
      .innerJoin("onchain_certificates as c", "c.id", "f.certificate_id")
      .leftJoin("onchain_receivables as r", "r.id", "c.receivable_id")
      .select([
        "f.id",
        "f.kind",
        "f.status",
        "f.certificate_id",
        "f.holder",
        "f.price",
        "f.repay_amount",
        "f.outstanding",
        "f.funded_tx_hash",
        "c.receivable_id",
        "c.face_value",
        "c.reduction",
        "c.paid_out",
        "c.state",
        "c.holder as current_holder",
        "r.debtor",
        "r.due_date",
      ])
      .where("f.financier", "=", party.address)
      .execute()
  ).sort((a, b) => compareIds(a.id, b.id));

  let pledgesOutstanding = 0n;
  let unsecured = 0n;
  const pledges: Exposure["asFinancier"]["pledges"] = [];
  for (const f of funded.filter((f) => f.kind === "pledge" && f.status === "pledged")) {
    pledgesOutstanding += BigInt(f.outstanding);
    const collateralShortfall = collateralShortfallOf(f);
    unsecured += collateralShortfall;
    pledges.push({
      requestId: f.id,
      certificateId: f.certificate_id,
      receivableId: f.receivable_id,
      pledgor: await refs.of(f.holder),
      debtor: await refs.ofNullable(f.debtor),
      lent: f.price,
      repayAmount: f.repay_amount,
      outstanding: f.outstanding,
      collateralShortfall: collateralShortfall.toString(),
      dueDate: f.due_date === null ? null : iso(f.due_date),
      maturity: f.due_date === null ? null : maturityBucket(f.due_date, nowSeconds),
    });
  }

  let pricePaid = 0n;
  let boughtFace = 0n;
  let stillHeldOwed = 0n;
  const purchases: Exposure["asFinancier"]["purchases"] = [];
  for (const f of funded.filter((f) => f.kind === "discount" && f.status === "sold")) {
    const stillHeld = f.current_holder === party.address && (f.state === "live" || f.state === "locked");
    pricePaid += BigInt(f.price);
    boughtFace += BigInt(f.face_value);
    if (stillHeld) stillHeldOwed += BigInt(f.face_value) - BigInt(f.reduction) - BigInt(f.paid_out);
    purchases.push({
      requestId: f.id,
      certificateId: f.certificate_id,
      receivableId: f.receivable_id,
      seller: await refs.of(f.holder),
      price: f.price,
      faceValue: f.face_value,
      paidOut: f.paid_out,
      state: f.state,
      stillHeld,
      fundedTxHash: f.funded_tx_hash,
    });
  }

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
    asOf: now.toISOString(),
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
      certificates,
    },
    owes: { total: owesTotal.toString(), byMaturity: asStrings(owesByMaturity), receivables },
    asFinancier: {
      pledgesOutstanding: pledgesOutstanding.toString(),
      collateralShortfall: unsecured.toString(),
      pledges,
      certificatesBought: {
        count: purchases.length,
        pricePaid: pricePaid.toString(),
        faceValue: boughtFace.toString(),
        stillHeldOwed: stillHeldOwed.toString(),
      },
      purchases,
    },
    recourse: {
      owesAsGuarantor: owesAsGuarantor.toString(),
      owedAsCreditor: owedAsCreditor.toString(),
      claims: recourseClaims,
    },
  };
}
