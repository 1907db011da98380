// Financing quotes: what a certificate is worth to a financier today, with every component.
//   discount rate   = base rate + risk premium (debtor's band) + concentration premium
//                     (the holder's claims by debtor, HHI) + tenor premium (per started 30 days)
//   discounted price = floor(face x (1 - discountRate x tenorDays / 365))
//   max advance      = floor(face x allowed advance rate)     (limits.ts)
//   price            = min(discounted price, max advance)
// face is what the certificate still has to receive (face value less payouts so far).
import { z } from "zod";
import type { ServiceContext } from "../context.js";
import { forbidden, notFound } from "../model/errors.js";
import { canSeeEverything, type Actor } from "../model/actor.js";
import { findPartyByAddress } from "../store/parties-store.js";
import { chainNowSeconds } from "../chain/chain-time.js";
import { advanceRateFor, creditTerms, maxTenorDaysFor, tenorDaysOf, type AdvanceRate } from "./limits.js";
import { BPS, ceilDiv, divRound, hhiBps } from "./math.js";
import { RISK_POLICY, type ScoreBand } from "./policy.js";

const Q = RISK_POLICY.quote;

export interface QuoteInputs {
  faceValue: bigint;
  tenorDays: number;
  debtorBand: ScoreBand;
  debtorIndustryStressed: boolean;
  holderClaimsHhiBps: number;
}

export interface QuoteComponents {
  discountRate: {
    baseRateBps: number;
    riskPremiumBps: number;
    concentrationPremiumBps: number;
    tenorPremiumBps: number;
    totalBps: number;
  };
  discount: bigint;
  discountedPrice: bigint;
  advanceRate: AdvanceRate;
  maxAdvance: bigint;
  price: bigint;
  binding: "discount" | "advanceRate";
}

export function concentrationPremiumBps(hhi: number): number {
  if (hhi <= Q.concentrationFloorBps) return 0;
  return divRound(Q.concentrationPremiumMaxBps * (hhi - Q.concentrationFloorBps), BPS - Q.concentrationFloorBps);
}

export const tenorPremiumBps = (tenorDays: number): number => Q.tenorPremiumBpsPer30Days * ceilDiv(tenorDays, 30);

/** The quote's arithmetic (pure): every component, and the price. */
export function computeQuote(input: QuoteInputs): QuoteComponents {
  const baseRateBps = Q.baseRateBps;
  const riskPremiumBps = Q.riskPremiumBps[input.debtorBand];
  const concentration = concentrationPremiumBps(input.holderClaimsHhiBps);
  const tenor = tenorPremiumBps(input.tenorDays);
  const totalBps = baseRateBps + riskPremiumBps + concentration + tenor;
  const yearBps = BigInt(BPS * Q.daysPerYear);
  const kept = yearBps - BigInt(totalBps) * BigInt(input.tenorDays);
  const discountedPrice = kept <= 0n ? 0n : (input.faceValue * kept) / yearBps; // rounded down
  const advanceRate = advanceRateFor(input.debtorBand, input.debtorIndustryStressed);
  const maxAdvance = (input.faceValue * BigInt(advanceRate.allowedBps)) / BigInt(BPS);
  const binding = maxAdvance < discountedPrice ? "advanceRate" : "discount";
  return {
    discountRate: {
      baseRateBps,
      riskPremiumBps,
      concentrationPremiumBps: concentration,
      tenorPremiumBps: tenor,
      totalBps,
    },
    discount: input.faceValue - discountedPrice,
    discountedPrice,
    advanceRate,
    maxAdvance,
    price: binding === "advanceRate" ? maxAdvance : discountedPrice,
    binding,
  };
}

/* ------------------------------------------------------------------ */
/*                                 Views                              */
/* ------------------------------------------------------------------ */

export const QuoteSchema = z
  .object({
    certificateId: z.string(),
    receivableId: z.string(),
    asOf: z.string(),
    faceValue: z
      .string()
      .meta({ description: "What the certificate still has to receive: face value less payouts so far" }),
    dueDate: z.string(),
    tenorDays: z.number().int().meta({ description: "Days to the due date, a started day counting as a day" }),
    debtor: z.object({
      id: z.string().nullable(),
      address: z.string(),
      score: z.number().int(),
      band: z.string(),
      industry: z.string().nullable(),
      industryOverThreshold: z.boolean(),
    }),
    holder: z.object({
      id: z.string().nullable(),
      address: z.string(),
      claimsHhiBps: z.number().int().meta({ description: "HHI of its live claims by debtor, this one included" }),
    }),
    discountRate: z
      .object({
        baseRateBps: z.number().int(),
        riskPremiumBps: z.number().int(),
        concentrationPremiumBps: z.number().int(),
        tenorPremiumBps: z.number().int(),
        totalBps: z.number().int().meta({ description: "Per year" }),
      })
      .meta({ description: "Annual discount rate and its components, basis points" }),
    discount: z.string(),
    discountedPrice: z.string().meta({ description: "floor(face x (1 - rate x tenorDays / 365))" }),
    advanceRate: z.object({
      bandRateBps: z.number().int(),
      industryCutBps: z.number().int(),
      allowedBps: z.number().int(),
    }),
    maxAdvance: z.string().meta({ description: "floor(face x allowed advance rate): the most a request may ask" }),
    price: z.string().meta({ description: "min(discountedPrice, maxAdvance)" }),
    binding: z.enum(["discount", "advanceRate"]).meta({ description: "Which of the two sets the price" }),
    maxTenorDays: z.number().int(),
    tenorWithinLimit: z.boolean(),
    request: z
      .object({
        id: z.string(),
        kind: z.string(),
        status: z.string(),
        price: z.string(),
        advanceRateBps: z
          .number()
          .int()
          .meta({ description: "The request's price / face value, basis points, rounded down" }),
        withinAdvanceRate: z.boolean(),
        priceVsQuote: z
          .string()
          .meta({ description: "The request's price less the quoted price (negative: asks less)" }),
      })
      .nullable(),
  })
  .meta({ id: "FinancingQuote" });
export type Quote = z.infer<typeof QuoteSchema>;

/** The HHI, by debtor, of the claims `holder` has (live and locked certificates), with `claim` on `debtor` counted once. */
async function holderClaimsHhi(
  ctx: ServiceContext,
  holder: string,
  certificateId: string,
  debtor: string,
  claim: bigint,
): Promise<number> {
  const held = await ctx.db
    .selectFrom("onchain_certificates as c")
    .innerJoin("onchain_receivables as r", "r.id", "c.receivable_id")
    .select(["c.id", "c.face_value", "c.paid_out", "r.debtor"])
    .where("c.holder", "=", holder)
    .where("c.state", "in", ["live", "locked"])
    .where("r.status", "!=", "repaid")
    .execute();
  const byDebtor = new Map<string, bigint>([[debtor, claim]]);
  for (const c of held) {
    if (c.id === certificateId) continue;
    const owed = BigInt(c.face_value) - BigInt(c.paid_out);
    if (owed > 0n) byDebtor.set(c.debtor, (byDebtor.get(c.debtor) ?? 0n) + owed);
  }
  return hhiBps(byDebtor.values());
}

/** A quote for `certificateId` as financed by `holderAddress` (its holder unless given). */
export async function quoteCertificate(
  ctx: ServiceContext,
  certificateId: string,
  holderAddress?: string,
): Promise<Quote> {
  const certificate = await ctx.db
    .selectFrom("onchain_certificates")
    .selectAll()
    .where("id", "=", certificateId)
    .executeTakeFirst();
  if (!certificate) throw notFound("Certificate", certificateId);
  const receivable = await ctx.db
    .selectFrom("onchain_receivables")
    .select(["id", "debtor", "due_date"])
    .where("id", "=", certificate.receivable_id)
    .executeTakeFirstOrThrow();
  const holder = holderAddress ?? certificate.holder;
  // One clock: the tenor counts from the chain's time, as the contracts and statuses do.
  const nowSeconds = await chainNowSeconds(ctx);
  const now = new Date(nowSeconds * 1000);
  const tenorDays = tenorDaysOf(receivable.due_date, nowSeconds);
  const claim = BigInt(certificate.face_value) - BigInt(certificate.paid_out);

  const debtorParty = await findPartyByAddress(ctx.db, receivable.debtor);
  let band: ScoreBand = "C";
  let score: number = RISK_POLICY.score.base;
  let stressed = false;
  let industry: string | null = null;
  if (debtorParty) {
    const terms = await creditTerms(ctx, debtorParty, "read");
    band = terms.score.band;
    score = terms.score.score;
    stressed = terms.industry.overThreshold;
    industry = terms.industry.industry;
  }
  const hhi = await holderClaimsHhi(ctx, holder, certificate.id, receivable.debtor, claim);
  const quote = computeQuote({
    faceValue: claim,
    tenorDays,
    debtorBand: band,
    debtorIndustryStressed: stressed,
    holderClaimsHhiBps: hhi,
  });
  const maxTenorDays = maxTenorDaysFor(stressed);
  return {
    certificateId: certificate.id,
    receivableId: certificate.receivable_id,
    asOf: now.toISOString(),
    faceValue: claim.toString(),
    dueDate: new Date(receivable.due_date * 1000).toISOString(),
    tenorDays,
    debtor: {
      id: debtorParty?.id ?? null,
      address: receivable.debtor,
      score,
      band,
      industry,
      industryOverThreshold: stressed,
    },
    holder: { id: (await findPartyByAddress(ctx.db, holder))?.id ?? null, address: holder, claimsHhiBps: hhi },
    discountRate: quote.discountRate,
    discount: quote.discount.toString(),
    discountedPrice: quote.discountedPrice.toString(),
    advanceRate: quote.advanceRate,
    maxAdvance: quote.maxAdvance.toString(),
    price: quote.price.toString(),
    binding: quote.binding,
    maxTenorDays,
    tenorWithinLimit: tenorDays <= maxTenorDays,
    request: null,
  };
}

/** GET /v1/certificates/:id/quote: the holder, financiers, the operator and auditors. */
export async function quoteForCertificate(ctx: ServiceContext, actor: Actor, certificateId: string): Promise<Quote> {
  const certificate = await ctx.db
    .selectFrom("onchain_certificates")
    .select("holder")
    .where("id", "=", certificateId)
    .executeTakeFirst();
  if (!certificate) throw notFound("Certificate", certificateId);
  if (!canSeeEverything(actor) && !actor.roles.includes("financier") && certificate.holder !== actor.address) {
    throw forbidden(`party ${actor.id} may quote only certificates it holds`, { certificateId });
  }
  return quoteCertificate(ctx, certificateId);
}
