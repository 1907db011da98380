// GET /v1/risk/parties/:id: one party's risk in one answer — score and the factors behind
// it, the score's history, its limits with what counts against them, the financing terms
// claims on it get, its industry's index, and its alerts. Computed fresh on every read.
import { z } from "zod";
import type { ServiceContext } from "../context.js";
import { notFound } from "../model/errors.js";
import type { Actor } from "../model/actor.js";
import { requireAccess } from "../model/access-policy.js";
import { relationsToParty, roleRelations } from "../store/access-relations.js";
import { ROLES } from "../model/parties-schema.js";
import { findPartyById } from "../store/parties-store.js";
import { AlertSchema, listAlerts } from "./alerts.js";
import { debtorExposure, financingExposure, supplierExposure } from "./exposure.js";
import { FACTOR_NAMES } from "./factors.js";
import { IndustryRiskSchema } from "./industry.js";
import { creditTerms, type LimitLine } from "./limits.js";
import { SCORE_BANDS } from "./policy.js";

const Amount = z.string();

const FactorSchema = z
  .object({
    name: z.enum(FACTOR_NAMES),
    label: z.string(),
    applies: z.boolean().meta({ description: "false: not enough history yet; contributes 0" }),
    inputs: z.record(z.string(), z.union([z.number(), z.string()])),
    formula: z.string(),
    contribution: z.number().int().meta({ description: "Points added to (or taken from) the base score" }),
    explanation: z.string(),
  })
  .meta({ id: "RiskFactor" });

const LimitSchema = z.object({
  base: Amount,
  source: z.enum(["default", "operator"]),
  bandMultiplierBps: z.number().int(),
  industryCutBps: z.number().int(),
  limit: Amount.meta({ description: "floor(base x bandMultiplier x industryCut)" }),
  exposure: Amount,
  available: Amount.meta({ description: "max(0, limit - exposure)" }),
});

export const PartyRiskSchema = z
  .object({
    party: z.object({ id: z.string(), name: z.string(), industry: z.string(), roles: z.array(z.enum(ROLES)) }),
    asOf: z.string(),
    score: z.object({
      value: z.number().int().meta({ description: "0..1000" }),
      band: z.enum(SCORE_BANDS),
      base: z.number().int(),
      unclamped: z.number().int().meta({ description: "base + sum of contributions, before clamping to 0..1000" }),
      factors: z.array(FactorSchema),
    }),
    history: z
      .array(
        z.object({
          score: z.number().int(),
          band: z.string(),
          overdueShareBps: z.number().int(),
          computedAt: z.string(),
          reason: z.string(),
        }),
      )
      .meta({
        description: "Score changes, newest first (last 20)",
      }),
    overdueShareBps: z
      .number()
      .int()
      .meta({ description: "Outstanding as a debtor that is overdue or defaulted, basis points" }),
    industry: IndustryRiskSchema,
    limits: z.object({
      debtor: LimitSchema.extend({ exposureParts: z.object({ outstanding: Amount, pending: Amount }) }),
      supplier: LimitSchema.extend({
        exposureParts: z.object({
          originated: Amount,
          throughTiers: Amount,
          recourse: Amount.meta({ description: "Open recourse claims on it as a guarantor (issue 16)" }),
          collateralShortfall: Amount.meta({
            description:
              "Its pledges' collateral shortfalls (issue 16): what credit notes left its pledgees unsecured on it",
          }),
          pending: Amount,
        }),
      }),
      financing: z.object({
        limit: Amount.meta({ description: "The supplier limit" }),
        exposure: Amount,
        available: Amount,
        exposureParts: z.object({ open: Amount, pledged: Amount, sold: Amount }),
      }),
    }),
    financingOnItsDebts: z
      .object({
        advanceRate: z.object({
          bandRateBps: z.number().int(),
          industryCutBps: z.number().int(),
          allowedBps: z.number().int(),
        }),
        maxTenorDays: z.number().int(),
      })
      .meta({ description: "What financing requests on certificates owed by this party may ask" }),
    alerts: z.array(AlertSchema).meta({ description: "Newest first (last 50)" }),
  })
  .meta({ id: "PartyRisk" });
export type PartyRisk = z.infer<typeof PartyRiskSchema>;

const line = (l: LimitLine, exposure: bigint) => ({
  base: l.base.toString(),
  source: l.source,
  bandMultiplierBps: l.bandMultiplierBps,
  industryCutBps: l.industryCutBps,
  limit: l.limit.toString(),
  exposure: exposure.toString(),
  available: (l.limit > exposure ? l.limit - exposure : 0n).toString(),
});

export async function partyRiskView(ctx: ServiceContext, actor: Actor, partyId: string): Promise<PartyRisk> {
  const party = await findPartyById(ctx.db, partyId);
  // The policy's riskView row: the party itself, the platform, and financiers weighing or holding its paper.
  requireAccess(
    "riskView",
    party ? await relationsToParty(ctx.db, actor, party) : roleRelations(actor),
    `party ${partyId}`,
  );
  if (!party) throw notFound("Party", partyId);
  const terms = await creditTerms(ctx, party, "read");
  const owes = await debtorExposure(ctx, party);
  const sells = await supplierExposure(ctx, party);
  const financed = await financingExposure(ctx, party);
  const history = await ctx.db
    .selectFrom("risk_score_history")
    .selectAll()
    .where("party_id", "=", partyId)
    .orderBy("id", "desc")
    .limit(20)
    .execute();
  return {
    party: { id: party.id, name: party.name, industry: party.industry, roles: party.roles },
    asOf: ctx.now().toISOString(),
    score: {
      value: terms.score.score,
      band: terms.score.band,
      base: terms.score.base,
      unclamped: terms.score.unclamped,
      factors: terms.score.factors,
    },
    history: history.map((h) => ({
      score: h.score,
      band: h.band,
      overdueShareBps: h.overdue_share_bps,
      computedAt: h.computed_at,
      reason: h.reason,
    })),
    overdueShareBps: terms.score.overdueShareBps,
    industry: terms.industry,
    limits: {
      debtor: {
        ...line(terms.debtor, owes.total),
        exposureParts: { outstanding: owes.outstanding.toString(), pending: owes.pending.toString() },
      },
      supplier: {
        ...line(terms.supplier, sells.total),
        exposureParts: {
          originated: sells.originated.toString(),
          throughTiers: sells.throughTiers.toString(),
          recourse: sells.recourse.toString(),
          collateralShortfall: sells.collateralShortfall.toString(),
          pending: sells.pending.toString(),
        },
      },
      financing: {
        limit: terms.supplier.limit.toString(),
        exposure: financed.total.toString(),
        available: (terms.supplier.limit > financed.total ? terms.supplier.limit - financed.total : 0n).toString(),
        exposureParts: {
          open: financed.open.toString(),
          pledged: financed.pledged.toString(),
          sold: financed.sold.toString(),
        },
      },
    },
    financingOnItsDebts: { advanceRate: terms.advanceRate, maxTenorDays: terms.maxTenorDays },
    alerts: await listAlerts(ctx, { partyId, limit: 50 }),
  };
}
