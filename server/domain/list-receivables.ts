// Use case for every signed-in party: the receivables it is the seller or the debtor of,
// newest first (a supplier's submissions with their verification reports; a debtor's
// payables awaiting its confirmation or falling due). Auditors and the operator may list
// any party's, or all. The web view's lists are built on it.
import { sql } from "kysely";
import { z } from "zod";
import type { ServiceContext } from "../context.js";
import { canSeeEverything, type Actor } from "../model/actor.js";
import { requireAccess } from "../model/access-policy.js";
import { relationsToParty, roleRelations } from "../store/access-relations.js";
import { findPartyById } from "../store/parties-store.js";
import { getReceivableView, ReceivableViewSchema, type ReceivableView } from "./receivable-view.js";

const STATUSES = ReceivableViewSchema.shape.status.options;

export const ListReceivablesQuery = z.object({
  partyId: z
    .string()
    .min(1)
    .max(80)
    .optional()
    .meta({ description: "Whose receivables (default: the caller's own; others' only for auditors and the operator)" }),
  as: z.enum(["seller", "debtor"]).optional().meta({ description: "Only those the party sold, or only those it owes" }),
  status: z.enum(STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export type ListReceivablesQuery = z.infer<typeof ListReceivablesQuery>;

export async function listReceivables(
  ctx: ServiceContext,
  actor: Actor,
  query: ListReceivablesQuery,
): Promise<ReceivableView[]> {
  const everything = canSeeEverything(actor);
  const partyId = query.partyId ?? (everything ? undefined : actor.id);
  // A party's list of receivables is its book: the policy's exposure row says who may read it.
  if (partyId !== undefined && partyId !== actor.id) {
    const party = await findPartyById(ctx.db, partyId);
    const relations = party ? await relationsToParty(ctx.db, actor, party) : roleRelations(actor);
    requireAccess("exposure", relations, `party ${partyId}`);
  }
  let rows = ctx.db
    .selectFrom("receivables as r")
    .leftJoin("onchain_receivables as c", "c.id", "r.id")
    .select("r.id")
    .orderBy("r.created_at", "desc")
    .orderBy("r.id")
    .limit(query.limit);
  if (partyId !== undefined) {
    if (query.as === "seller") rows = rows.where("r.seller_id", "=", partyId);
    else if (query.as === "debtor") rows = rows.where("r.debtor_id", "=", partyId);
    else rows = rows.where((eb) => eb.or([eb("r.seller_id", "=", partyId), eb("r.debtor_id", "=", partyId)]));
  }
  if (query.status) rows = rows.where(sql<string>`coalesce(c.status, r.status)`, "=", query.status);
  const views: ReceivableView[] = [];
  for (const { id } of await rows.execute()) {
    // A list carries the verification report, not the documents themselves (one GET away).
    const { documents: _documents, ...view } = await getReceivableView(ctx, actor, id);
    views.push(view);
  }
  return views;
}

export const ReceivableListSchema = z
  .object({ receivables: z.array(ReceivableViewSchema) })
  .meta({ id: "ReceivableList" });
