// Credit limits and the financing terms they allow, and the checks that enforce them.
//   limit        = floor(base x bandMultiplier x industryCut)   (per party, as debtor and as supplier)
//   advance rate = advanceRate(debtor's band) - 10 points if the debtor's industry is stressed
//   max tenor    = 180 days, 90 if the debtor's industry is stressed
// "Stressed": the industry's risk index is above its threshold (industry.ts). Base limits
// are the policy's defaults until the operator sets one (POST /v1/risk/limits/:partyId).
// Registration (confirm) and financing (open request) each check and reserve headroom in one
// atomic step (a DB transaction holding the parties' rows); a refusal is a 422 naming the limit
// and the numbers.
import { z } from "zod";
import type { ServiceContext } from "../context.js";
import { sql } from "kysely";
import { conflict, notFound, unprocessable } from "../model/errors.js";
import { requireRole, type Actor } from "../model/actor.js";
import { AmountString } from "../model/money.js";
import { nowIso } from "../store/database.js";
import { findPartyByAddress, findPartyById, type PartyRecord } from "../store/parties-store.js";
import { chainNowSeconds } from "../chain/chain-time.js";
import { debtorExposure, financingExposure, supplierExposure } from "./exposure.js";
import { industryRisk, type IndustryRisk } from "./industry.js";
import { BPS, ceilDiv } from "./math.js";
import { RISK_POLICY, type ScoreBand } from "./policy.js";
import { sharedRefresh } from "./shared-refresh.js";
import type { ScoreResult } from "./scoring.js";
import type { PartyStatus, SubmissionStatus } from "../model/row-statuses.js";

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
  const score = (await sharedRefresh(ctx, party.id, reason))!;
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

/** A limit check's view of the database: the service's, or a transaction's. */
type DbScope = Pick<ServiceContext, "db">;

/**
 * Serialises check-and-reserve per party: the first statements of the transaction lock the
 * parties' rows, in a fixed order, with an update that changes nothing (SQLite: it takes the
 * database write lock; PostgreSQL: the rows' locks, as SELECT … FOR UPDATE would), so
 * concurrent reservations on the same party wait for each other and each one sees the
 * reservations committed before it.
 */
async function lockParties(scope: DbScope, partyIds: string[]): Promise<void> {
  for (const partyId of [...new Set(partyIds)].sort()) {
    await scope.db
      .updateTable("parties")
      .set({ status: sql<PartyStatus>`status` })
      .where("id", "=", partyId)
      .execute();
  }
}

/** Statuses a receivable's confirmation may start (or resume) from. */
const CONFIRMABLE: SubmissionStatus[] = ["awaiting_confirmation", "confirming"];

/**
 * Registration (debtor confirmation): the debtor's exposure plus the face value must stay
 * within its debtor limit, and the seller's within its supplier limit. The check and the
 * reservation are one atomic step: inside one transaction that holds both parties' limit
 * rows, the exposures are read (confirmations under way included) and the receivable moves
 * to `confirming`, which is what makes it count for the next check. Throws 422
 * CREDIT_LIMIT_EXCEEDED with { limit, partyId, limitAmount, exposure, requested }, or 409
 * RECEIVABLE_NOT_CONFIRMABLE when the receivable left the confirmable statuses meanwhile.
 * The reservation is released by `releaseRegistration` when the attempt fails.
 */
export async function reserveRegistrationWithinLimits(
  ctx: ServiceContext,
  receivable: { id: string; seller_id: string; debtor_id: string; face_value: string },
): Promise<void> {
  const requested = BigInt(receivable.face_value);
  const debtor = (await findPartyById(ctx.db, receivable.debtor_id))!;
  const seller = (await findPartyById(ctx.db, receivable.seller_id))!;
  // The limits themselves (scores, industry) are computed outside the transaction: they
  // refresh scores, and nothing else may touch the database while it is held.
  const debtorTerms = await creditTerms(ctx, debtor);
  const sellerTerms = await creditTerms(ctx, seller);

  await ctx.db.transaction().execute(async (trx) => {
    const scope = { ...ctx, db: trx };
    await lockParties(scope, [debtor.id, seller.id]);
    const owed = (await debtorExposure(scope, debtor, receivable.id)).total;
    if (owed + requested > debtorTerms.debtor.limit) {
      throw limitExceeded("debtor", debtor, debtorTerms, owed, requested, `registering receivable ${receivable.id}`);
    }
    const sold = (await supplierExposure(scope, seller, receivable.id)).total;
    if (sold + requested > sellerTerms.supplier.limit) {
      throw limitExceeded("supplier", seller, sellerTerms, sold, requested, `registering receivable ${receivable.id}`);
    }
    const reserved = await trx
      .updateTable("receivables")
      .set({ status: "confirming", updated_at: nowIso() })
      .where("id", "=", receivable.id)
      .where("status", "in", CONFIRMABLE)
      .executeTakeFirst();
    if (reserved.numUpdatedRows === 0n) {
      throw conflict("RECEIVABLE_NOT_CONFIRMABLE", `receivable ${receivable.id} is no longer awaiting confirmation`, {
        receivableId: receivable.id,
      });
    }
  });
}

/** Gives the headroom back: the confirmation did not reach the chain, the debtor may try again. */
export async function releaseRegistration(ctx: ServiceContext, receivableId: string): Promise<void> {
  await ctx.db
    .updateTable("receivables")
    .set({ status: "awaiting_confirmation", updated_at: nowIso() })
    .where("id", "=", receivableId)
    .where("status", "=", "confirming")
    .execute();
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
 * The last check and the reservation of the price are one atomic step (a reservation row
 * written in the transaction that holds the holder's party row); the caller releases
 * the reservation with `releaseFinancingReservation` once the opening ended, either way.
 */
export async function reserveFinancingWithinLimits(
  ctx: ServiceContext,
  request: {
    holder: PartyRecord;
    certificate: { id: string; receivable_id: string; face_value: string };
    price: bigint;
  },
): Promise<{ reservationId: number }> {
  const { holder, certificate, price } = request;
  const receivable = await ctx.db
    .selectFrom("onchain_receivables")
    .select(["debtor", "due_date"])
    .where("id", "=", certificate.receivable_id)
    .executeTakeFirst();
  if (!receivable) throw notFound("Receivable", certificate.receivable_id);
  const debtor = await debtorTermsOf(ctx, receivable.debtor);
  const debtorId = debtor.party?.id ?? receivable.debtor;

  const tenorDays = tenorDaysOf(receivable.due_date, await chainNowSeconds(ctx));
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
  return ctx.db.transaction().execute(async (trx) => {
    const scope = { ...ctx, db: trx };
    await lockParties(scope, [holder.id]);
    const financed = (await financingExposure(scope, holder)).total;
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
    const reservation = await trx
      .insertInto("limit_reservations")
      .values({
        party_id: holder.id,
        kind: "financing",
        ref: certificate.id,
        amount: price.toString(),
        expires_at: new Date(Date.now() + RESERVATION_TTL_MS).toISOString(),
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    return { reservationId: reservation.id };
  });
}

/**
 * How long a financing reservation holds headroom if the service dies before releasing it:
 * longer than any opening takes (the request is in the index by then and counts on its own).
 */
export const RESERVATION_TTL_MS = 10 * 60_000;

/** Gives a financing reservation's headroom back (the opening ended, either way). */
export async function releaseFinancingReservation(ctx: ServiceContext, reservation: { reservationId: number }) {
  await ctx.db.deleteFrom("limit_reservations").where("id", "=", reservation.reservationId).execute();
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
