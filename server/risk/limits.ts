// Credit limits and the financing terms they allow, and the checks that enforce them.
//   limit        = floor(base x bandMultiplier x industryCut)   (per party, as debtor and as supplier)
//   advance rate = advanceRate(debtor's band) - 10 points if the debtor's industry is stressed
//   max tenor    = 180 days, 90 if the debtor's industry is stressed
// "Stressed": the industry's risk index is above its threshold (industry.ts). Base limits
// are the policy's defaults until the operator sets one (POST /v1/risk/limits/:partyId).
// Registration (confirm) and financing (open request) call one assert each; a refusal is a
// 422 naming the limit and the numbers.
import { z } from "zod";
import type { ServiceContext } from "../context.js";
import { notFound, unprocessable } from "../model/errors.js";
import { requireRole, type Actor } from "../model/actor.js";
import { AmountString } from "../model/money.js";
import { nowIso } from "../store/database.js";
import { findPartyByAddress, findPartyById, type PartyRecord } from "../store/parties-store.js";
import { debtorExposure, financingExposure, supplierExposure } from "./exposure.js";
import { industryRisk, type IndustryRisk } from "./industry.js";
import { BPS, ceilDiv } from "./math.js";
import { RISK_POLICY, type ScoreBand } from "./policy.js";
import { refreshRisk } from "./refresh.js";
import type { ScoreResult } from "./scoring.js";

export const LIMIT_KINDS = ["debtor", "supplier"] as const;
export type LimitKind = (typeof LIMIT_KINDS)[number];

const DAY = 86_400;

/* ------------------------------------------------------------------ */
/*                         The rules, as pure functions               */
/* ------------------------------------------------------------------ */

export interface LimitLine {
  kind: LimitKind;
  base: bigint;
  source: "default" | "operator";
  bandMultiplierBps: number;
  industryCutBps: number;
  limit: bigint;
}

/** floor(base x bandMultiplier x industryCut), one division at the end. */
export function effectiveLimit(
  base: bigint,
  band: ScoreBand,
  industryStressed: boolean,
): { bandMultiplierBps: number; industryCutBps: number; limit: bigint } {
  const bandMultiplierBps = RISK_POLICY.limits.bandMultiplierBps[band];
  const industryCutBps = industryStressed ? RISK_POLICY.limits.industryCutBps : BPS;
  return {
    bandMultiplierBps,
    industryCutBps,
    limit: (base * BigInt(bandMultiplierBps) * BigInt(industryCutBps)) / BigInt(BPS * BPS),
  };
}

export interface AdvanceRate {
  bandRateBps: number;
  industryCutBps: number;
  allowedBps: number;
}

export function advanceRateFor(band: ScoreBand, industryStressed: boolean): AdvanceRate {
  const bandRateBps = RISK_POLICY.financing.advanceRateBps[band];
  const industryCutBps = industryStressed ? RISK_POLICY.financing.industryAdvanceCutBps : 0;
  return { bandRateBps, industryCutBps, allowedBps: Math.max(0, bandRateBps - industryCutBps) };
}

export const maxTenorDaysFor = (industryStressed: boolean): number =>
  industryStressed ? RISK_POLICY.financing.maxTenorDaysIndustryStressed : RISK_POLICY.financing.maxTenorDays;

/** Whole days from `nowSeconds` to the due date, a started day counting as a day; 0 once due. */
export const tenorDaysOf = (dueDate: number, nowSeconds: number): number =>
  Math.max(0, ceilDiv(dueDate - nowSeconds, DAY));

/* ------------------------------------------------------------------ */
/*                      A party's terms, as of now                    */
/* ------------------------------------------------------------------ */

export interface CreditTerms {
  score: ScoreResult;
  industry: IndustryRisk;
  debtor: LimitLine;
  supplier: LimitLine;
  /** What financiers may advance on claims on this party (as the debtor). */
  advanceRate: AdvanceRate;
  maxTenorDays: number;
}

async function baseLimit(
  ctx: ServiceContext,
  partyId: string,
  kind: LimitKind,
): Promise<{ base: bigint; source: "default" | "operator" }> {
  const row = await ctx.db
    .selectFrom("credit_limits")
    .select("limit_amount")
    .where("party_id", "=", partyId)
    .where("kind", "=", kind)
    .executeTakeFirst();
  return row
    ? { base: BigInt(row.limit_amount), source: "operator" }
    : { base: RISK_POLICY.limits.defaultBase[kind], source: "default" };
}

/** The party's score (refreshed now) and the limits and financing terms it gives. */
export async function creditTerms(
  ctx: ServiceContext,
  party: PartyRecord,
  reason: "read" | "limit-check" = "limit-check",
): Promise<CreditTerms> {
  const score = (await refreshRisk(ctx, [party.id], reason)).get(party.id)!;
  const industry = await industryRisk(ctx, party.industry);
  const line = async (kind: LimitKind): Promise<LimitLine> => {
    const { base, source } = await baseLimit(ctx, party.id, kind);
    return { kind, base, source, ...effectiveLimit(base, score.band, industry.overThreshold) };
  };
  return {
    score,
    industry,
    debtor: await line("debtor"),
    supplier: await line("supplier"),
    advanceRate: advanceRateFor(score.band, industry.overThreshold),
    maxTenorDays: maxTenorDaysFor(industry.overThreshold),
  };
}

/* ------------------------------------------------------------------ */
/*                              Enforcement                           */
/* ------------------------------------------------------------------ */

function limitExceeded(
  limit: "debtor" | "supplier" | "financing",
  party: PartyRecord,
  terms: CreditTerms,
  exposure: bigint,
  requested: bigint,
  what: string,
) {
  const line = limit === "debtor" ? terms.debtor : terms.supplier;
  return unprocessable(
    "CREDIT_LIMIT_EXCEEDED",
    `${what} would take party ${party.id}'s ${limit === "financing" ? "financing outstanding" : `${limit} exposure`} to ${exposure + requested}, over its ${limit} limit of ${line.limit}`,
    {
      limit,
      partyId: party.id,
      limitAmount: line.limit.toString(),
      exposure: exposure.toString(),
      requested: requested.toString(),
      baseLimit: line.base.toString(),
      bandMultiplierBps: line.bandMultiplierBps,
      industryCutBps: line.industryCutBps,
      score: terms.score.score,
      band: terms.score.band,
    },
  );
}

/**
 * Registration (debtor confirmation): the debtor's exposure plus the face value must stay
 * within its debtor limit, and the seller's within its supplier limit. Throws 422
 * CREDIT_LIMIT_EXCEEDED with { limit, partyId, limitAmount, exposure, requested }.
 */
export async function assertRegistrationWithinLimits(
  ctx: ServiceContext,
  receivable: { id: string; seller_id: string; debtor_id: string; face_value: string },
): Promise<void> {
  const requested = BigInt(receivable.face_value);
  const debtor = (await findPartyById(ctx.db, receivable.debtor_id))!;
  const seller = (await findPartyById(ctx.db, receivable.seller_id))!;

  const debtorTerms = await creditTerms(ctx, debtor);
  const owed = (await debtorExposure(ctx, debtor, receivable.id)).total;
  if (owed + requested > debtorTerms.debtor.limit) {
    throw limitExceeded("debtor", debtor, debtorTerms, owed, requested, `registering receivable ${receivable.id}`);
  }
  const sellerTerms = await creditTerms(ctx, seller);
  const sold = (await supplierExposure(ctx, seller, receivable.id)).total;
  if (sold + requested > sellerTerms.supplier.limit) {
    throw limitExceeded("supplier", seller, sellerTerms, sold, requested, `registering receivable ${receivable.id}`);
  }
}

/** The debtor's terms, or neutral terms for a debtor registered by another platform (no profile here). */
async function debtorTermsOf(
  ctx: ServiceContext,
  debtorAddress: string,
): Promise<{ party: PartyRecord | undefined; advanceRate: AdvanceRate; maxTenorDays: number; terms?: CreditTerms }> {
  const party = await findPartyByAddress(ctx.db, debtorAddress);
  if (!party) {
    const neutral = advanceRateFor("C", false);
    return { party, advanceRate: neutral, maxTenorDays: maxTenorDaysFor(false) };
  }
  const terms = await creditTerms(ctx, party);
  return { party, advanceRate: terms.advanceRate, maxTenorDays: terms.maxTenorDays, terms };
}

/**
 * Financing (open request): the tenor within the debtor's allowed tenor (422
 * TENOR_EXCEEDS_LIMIT), price / face within the advance rate the debtor's risk and
 * industry allow (422 ADVANCE_RATE_EXCEEDED), and the holder's financing outstanding plus
 * the price within its financing limit, which is its supplier limit (422 CREDIT_LIMIT_EXCEEDED).
 */
export async function assertFinancingWithinLimits(
  ctx: ServiceContext,
  request: {
    holder: PartyRecord;
    certificate: { id: string; receivable_id: string; face_value: string };
    price: bigint;
  },
): Promise<void> {
  const { holder, certificate, price } = request;
  const receivable = await ctx.db
    .selectFrom("onchain_receivables")
    .select(["debtor", "due_date"])
    .where("id", "=", certificate.receivable_id)
    .executeTakeFirst();
  if (!receivable) throw notFound("Receivable", certificate.receivable_id);
  const debtor = await debtorTermsOf(ctx, receivable.debtor);
  const debtorId = debtor.party?.id ?? receivable.debtor;

  const tenorDays = tenorDaysOf(receivable.due_date, Math.floor(ctx.now().getTime() / 1000));
  if (tenorDays > debtor.maxTenorDays) {
    throw unprocessable(
      "TENOR_EXCEEDS_LIMIT",
      `certificate ${certificate.id} is due in ${tenorDays} days; financing on debtor ${debtorId} allows at most ${debtor.maxTenorDays} days` +
        (debtor.terms?.industry.overThreshold
          ? ` (its industry "${debtor.terms.industry.industry}" is above its risk threshold)`
          : ""),
      {
        limit: "tenor",
        partyId: debtorId,
        maxTenorDays: debtor.maxTenorDays,
        tenorDays,
        industryOverThreshold: debtor.terms?.industry.overThreshold ?? false,
      },
    );
  }

  const face = BigInt(certificate.face_value);
  const maxPrice = (face * BigInt(debtor.advanceRate.allowedBps)) / BigInt(BPS);
  if (price > maxPrice) {
    throw unprocessable(
      "ADVANCE_RATE_EXCEEDED",
      `a price of ${price} on a face value of ${face} is an advance above the ${debtor.advanceRate.allowedBps} bps debtor ${debtorId}'s risk allows (at most ${maxPrice})`,
      {
        limit: "advanceRate",
        partyId: debtorId,
        allowedBps: debtor.advanceRate.allowedBps,
        bandRateBps: debtor.advanceRate.bandRateBps,
        industryCutBps: debtor.advanceRate.industryCutBps,
        requestedBps: Number((price * BigInt(BPS)) / face),
        price: price.toString(),
        faceValue: face.toString(),
        maxPrice: maxPrice.toString(),
        band: debtor.terms?.score.band ?? null,
      },
    );
  }

  const holderTerms = await creditTerms(ctx, holder);
  const financed = (await financingExposure(ctx, holder)).total;
  if (financed + price > holderTerms.supplier.limit) {
    throw limitExceeded(
      "financing",
      holder,
      holderTerms,
      financed,
      price,
      `financing certificate ${certificate.id} at ${price}`,
    );
  }
}

/* ------------------------------------------------------------------ */
/*                          The operator's base limits                */
/* ------------------------------------------------------------------ */

export const SetLimitSchema = z
  .object({
    kind: z
      .enum(LIMIT_KINDS)
      .meta({ description: "debtor: what the party may owe; supplier: what it may sell and finance" }),
    limit: AmountString.meta({
      description: "The base limit in minor units, before the score band and industry multipliers",
    }),
  })
  .strict()
  .meta({ id: "SetCreditLimit" });

export const CreditLimitSchema = z
  .object({
    partyId: z.string(),
    kind: z.enum(LIMIT_KINDS),
    base: z.string(),
    source: z.enum(["default", "operator"]),
    bandMultiplierBps: z.number().int(),
    industryCutBps: z.number().int(),
    limit: z.string().meta({ description: "The limit in force: floor(base x bandMultiplier x industryCut)" }),
  })
  .meta({ id: "CreditLimit" });

export type CreditLimit = z.infer<typeof CreditLimitSchema>;

/** POST /v1/risk/limits/:partyId: sets the base limit and answers the limit now in force. */
export async function setBaseLimit(
  ctx: ServiceContext,
  actor: Actor,
  partyId: string,
  input: z.infer<typeof SetLimitSchema>,
): Promise<CreditLimit> {
  requireRole(actor, "operator");
  const party = await findPartyById(ctx.db, partyId);
  if (!party) throw notFound("Party", partyId);
  const values = { limit_amount: input.limit, source: "operator", updated_by: actor.id, updated_at: nowIso() };
  await ctx.db
    .insertInto("credit_limits")
    .values({ party_id: partyId, kind: input.kind, ...values })
    .onConflict((oc) => oc.columns(["party_id", "kind"]).doUpdateSet(values))
    .execute();
  ctx.log.info({ partyId, kind: input.kind, limit: input.limit, operator: actor.id }, "base credit limit set");
  const line = (await creditTerms(ctx, party, "read"))[input.kind];
  return {
    partyId,
    kind: input.kind,
    base: line.base.toString(),
    source: line.source,
    bandMultiplierBps: line.bandMultiplierBps,
    industryCutBps: line.industryCutBps,
    limit: line.limit.toString(),
  };
}
