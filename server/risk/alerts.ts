// Early warning. Each refresh compares a party's new score with the one stored before it:
// a score falling from at or above the threshold to below it raises SCORE_BELOW_THRESHOLD;
// an overdue share (outstanding overdue or defaulted, as a debtor) that rises above its
// threshold raises OVERDUE_SHARE_ROSE. A party never scored counts as the base score with
// nothing overdue. Alerts are stored, logged, listed by GET /v1/risk/alerts and shown in
// the party's risk view. Transitions fire once: the same state again raises nothing.
import { z } from "zod";
import type { Transaction } from "kysely";
import type { ServiceContext } from "../context.js";
import { canSeeEverything, requireRole, type Actor } from "../model/actor.js";
import type { Database } from "../store/schema.js";
import { keysetPage } from "../store/paginate.js";
import { PageQuery, pageSchema, type Page } from "../model/page.js";
import { RISK_POLICY } from "./policy.js";
import type { ScoreResult } from "./scoring.js";

export const ALERT_KINDS = ["SCORE_BELOW_THRESHOLD", "OVERDUE_SHARE_ROSE"] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export interface AlertDraft {
  kind: AlertKind;
  message: string;
  details: Record<string, number | string>;
}

export interface PreviousState {
  score: number;
  overdueShareBps: number;
}

/** The alerts a move from `previous` to `next` raises (pure). */
export function detectAlerts(
  previous: PreviousState | undefined,
  next: Pick<ScoreResult, "partyId" | "score" | "band" | "overdueShareBps">,
): AlertDraft[] {
  const before = previous ?? { score: RISK_POLICY.score.base, overdueShareBps: 0 };
  const drafts: AlertDraft[] = [];
  const threshold = RISK_POLICY.alerts.scoreThreshold;
  if (before.score >= threshold && next.score < threshold) {
    drafts.push({
      kind: "SCORE_BELOW_THRESHOLD",
      message: `party ${next.partyId}'s credit score fell from ${before.score} to ${next.score}, below the alert threshold ${threshold} (band ${next.band})`,
      details: { scoreBefore: before.score, scoreAfter: next.score, threshold, band: next.band },
    });
  }
  const shareThreshold = RISK_POLICY.alerts.overdueShareThresholdBps;
  if (next.overdueShareBps > before.overdueShareBps && next.overdueShareBps > shareThreshold) {
    drafts.push({
      kind: "OVERDUE_SHARE_ROSE",
      message: `party ${next.partyId}'s overdue share rose from ${before.overdueShareBps} to ${next.overdueShareBps} bps of what it owes`,
      details: {
        overdueShareBpsBefore: before.overdueShareBps,
        overdueShareBpsAfter: next.overdueShareBps,
        thresholdBps: shareThreshold,
      },
    });
  }
  return drafts;
}

export async function recordAlerts(
  trx: Transaction<Database>,
  partyId: string,
  drafts: AlertDraft[],
  at: string,
): Promise<void> {
  for (const draft of drafts) {
    await trx
      .insertInto("risk_alerts")
      .values({
        party_id: partyId,
        kind: draft.kind,
        message: draft.message,
        details: JSON.stringify(draft.details),
        created_at: at,
      })
      .execute();
  }
}

export const AlertSchema = z
  .object({
    id: z.number().int(),
    partyId: z.string(),
    partyName: z.string().nullable(),
    kind: z.enum(ALERT_KINDS),
    message: z.string(),
    details: z.record(z.string(), z.union([z.number(), z.string()])),
    createdAt: z.string(),
  })
  .meta({ id: "RiskAlert" });
export type AlertView = z.infer<typeof AlertSchema>;

export const ListAlertsQuery = z.object({
  partyId: z.string().min(1).max(80).optional().meta({ description: "Only this party's alerts" }),
  kind: z.enum(ALERT_KINDS).optional(),
  since: z.iso.datetime({ offset: true }).optional().meta({ description: "Only alerts raised at or after this time" }),
  cursor: PageQuery.shape.cursor,
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

/** Newest first; the id is unique and rising, so it alone is the page key. */
export const ALERTS_ORDER = {
  columns: ["a.id"],
  shape: ["n"],
  direction: "desc",
  keyOf: (row: { id: number }) => [row.id],
} as const;

export const AlertsPageSchema = pageSchema(AlertSchema)
  .extend({ alerts: z.array(AlertSchema).meta({ description: "The same items (deprecated name)" }) })
  .meta({ id: "AlertsPage" });

/** The statement one page of alerts runs (exported for the query-plan test). */
export function alertsListQuery(ctx: Pick<ServiceContext, "db">, filter: z.infer<typeof ListAlertsQuery>) {
  let query = ctx.db
    .selectFrom("risk_alerts as a")
    .leftJoin("parties as p", "p.id", "a.party_id")
    .select(["a.id", "a.party_id", "p.name", "a.kind", "a.message", "a.details", "a.created_at"]);
  if (filter.partyId) query = query.where("a.party_id", "=", filter.partyId);
  if (filter.kind) query = query.where("a.kind", "=", filter.kind);
  if (filter.since) query = query.where("a.created_at", ">=", new Date(filter.since).toISOString());
  return query;
}

/** One page of alerts, newest first. */
export async function listAlertsPage(
  ctx: ServiceContext,
  filter: z.infer<typeof ListAlertsQuery>,
): Promise<Page<AlertView>> {
  const page = await keysetPage(alertsListQuery(ctx, filter), ALERTS_ORDER, filter);
  return {
    items: page.items.map((r) => ({
      id: r.id,
      partyId: r.party_id,
      partyName: r.name,
      kind: r.kind as AlertKind,
      message: r.message,
      details: JSON.parse(r.details) as AlertView["details"],
      createdAt: r.created_at,
    })),
    nextCursor: page.nextCursor,
  };
}

/** The newest alerts, as the party's risk view shows them. */
export async function listAlerts(ctx: ServiceContext, filter: z.infer<typeof ListAlertsQuery>): Promise<AlertView[]> {
  return (await listAlertsPage(ctx, filter)).items;
}

/** Alerts are for the platform's risk readers: the operator, auditors and financiers. */
export function requireAlertReader(actor: Actor): void {
  if (!canSeeEverything(actor)) requireRole(actor, "financier");
}
