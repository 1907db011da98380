// Industry risk indices, set by the operator: an index from 0 (calm) to 1000 and a
// threshold; above it, every limit of the industry's parties is cut, financing tenors
// on their debts are shortened and advance rates lowered (see limits.ts).
import { z } from "zod";
import type { ServiceContext } from "../context.js";
import { nowIso } from "../store/database.js";
import type { Actor } from "../model/actor.js";
import { requireRole } from "../model/actor.js";
import { industryKey } from "../model/industry-key.js";

export const INDUSTRY_INDEX_MAX = 1_000;

export const IndustryParam = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[\p{L}\p{N}][\p{L}\p{N} &._\-/]*$/u, "letters, digits, space and & . _ - / only")
  .meta({
    description: "An industry as parties record it (case and surrounding spaces do not matter)",
    example: "metals",
  });

export const SetIndustryRiskSchema = z
  .object({
    index: z
      .number()
      .int()
      .min(0)
      .max(INDUSTRY_INDEX_MAX)
      .meta({ description: "The industry risk index, 0 (calm) .. 1000" }),
    threshold: z
      .number()
      .int()
      .min(0)
      .max(INDUSTRY_INDEX_MAX)
      .meta({ description: "Above this index the industry's limits, tenors and advance rates are cut" }),
  })
  .strict()
  .meta({ id: "SetIndustryRisk" });

export const IndustryRiskSchema = z
  .object({
    industry: z.string(),
    index: z.number().int().nullable().meta({ description: "null: never set (no cut)" }),
    threshold: z.number().int().nullable(),
    overThreshold: z.boolean(),
    updatedAt: z.string().nullable(),
    updatedBy: z.string().nullable(),
  })
  .meta({ id: "IndustryRisk" });

export type IndustryRisk = z.infer<typeof IndustryRiskSchema>;

export const IndustryRiskSetSchema = IndustryRiskSchema.extend({
  parties: z.number().int().meta({ description: "Parties recorded in this industry" }),
}).meta({ id: "IndustryRiskSet" });
export type IndustryRiskSet = z.infer<typeof IndustryRiskSetSchema>;

export async function industryRisk(ctx: ServiceContext, industry: string): Promise<IndustryRisk> {
  const key = industryKey(industry);
  const row = await ctx.db.selectFrom("industry_risk").selectAll().where("industry", "=", key).executeTakeFirst();
  if (!row)
    return { industry: key, index: null, threshold: null, overThreshold: false, updatedAt: null, updatedBy: null };
  return {
    industry: key,
    index: row.index_value,
    threshold: row.threshold,
    overThreshold: row.index_value > row.threshold,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
  };
}

export async function listIndustryRisks(ctx: ServiceContext): Promise<IndustryRisk[]> {
  const rows = await ctx.db.selectFrom("industry_risk").select("industry").orderBy("industry").execute();
  return Promise.all(rows.map((r) => industryRisk(ctx, r.industry)));
}

export async function setIndustryRisk(
  ctx: ServiceContext,
  actor: Actor,
  industry: string,
  input: z.infer<typeof SetIndustryRiskSchema>,
): Promise<IndustryRiskSet> {
  requireRole(actor, "operator");
  const key = industryKey(industry);
  const before = await industryRisk(ctx, key);
  const values = { index_value: input.index, threshold: input.threshold, updated_by: actor.id, updated_at: nowIso() };
  await ctx.db
    .insertInto("industry_risk")
    .values({ industry: key, ...values })
    .onConflict((oc) => oc.column("industry").doUpdateSet(values))
    .execute();
  const after = await industryRisk(ctx, key);
  // Counted from parties_by_industry_key (migration 0028), not by reading every party.
  const counted = await ctx.db
    .selectFrom("parties")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("industry_key", "=", key)
    .executeTakeFirst();
  const parties = Number(counted?.n ?? 0);
  const log = before.overThreshold !== after.overThreshold ? ctx.log.warn.bind(ctx.log) : ctx.log.info.bind(ctx.log);
  log(
    {
      industry: key,
      index: input.index,
      threshold: input.threshold,
      overThreshold: after.overThreshold,
      parties,
      operator: actor.id,
    },
    after.overThreshold
      ? "industry risk index above its threshold: limits, tenors and advance rates cut"
      : "industry risk index set",
  );
  return { ...after, parties };
}
