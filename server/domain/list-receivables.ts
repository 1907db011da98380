// Use case for every signed-in party: the receivables it is the seller or the debtor of,
// newest first (a supplier's submissions with their verification reports; a debtor's
// payables awaiting its confirmation or falling due). Auditors and the operator may list
// any party's, or all. The web view's lists are built on it.
import { z } from "zod";
import type { ServiceContext } from "../context.js";
import { canSeeEverything, type Actor } from "../model/actor.js";
import { PageQuery, pageSchema, type Page } from "../model/page.js";
import type { SubmissionStatus } from "../model/row-statuses.js";
import { keysetPage, mapPage } from "../store/paginate.js";
import { requireAccess } from "../model/access-policy.js";
import { relationsToParty, roleRelations } from "../store/access-relations.js";
import { findPartyById } from "../store/parties-store.js";
import { getReceivableView, ReceivableViewSchema, type ReceivableView } from "./receivable-view.js";

const STATUSES = ReceivableViewSchema.shape.status.options;

const OFF_CHAIN: readonly SubmissionStatus[] = [
  "held_for_review",
  "awaiting_confirmation",
  "rejected",
  "declined",
  "withdrawn",
];
const isOffChain = (status: string): status is SubmissionStatus => (OFF_CHAIN as readonly string[]).includes(status);
const isoDate = z.iso.datetime({ offset: true }).or(z.iso.date());

export const ListReceivablesQuery = PageQuery.extend({
  partyId: z
    .string()
    .min(1)
    .max(80)
    .optional()
    .meta({ description: "Whose receivables (default: the caller's own; others' only for auditors and the operator)" }),
  as: z.enum(["seller", "debtor"]).optional().meta({ description: "Only those the party sold, or only those it owes" }),
  status: z.enum(STATUSES).optional(),
  counterpartyId: z
    .string()
    .min(1)
    .max(80)
    .optional()
    .meta({ description: "Only those with this party on the other side" }),
  dueFrom: isoDate.optional().meta({ description: "Due on or after this date" }),
  dueTo: isoDate.optional().meta({ description: "Due on or before this date" }),
});
export type ListReceivablesQuery = z.infer<typeof ListReceivablesQuery>;

const seconds = (date: string) => Math.floor(Date.parse(date) / 1000);

/** The ids of one page, newest first: a keyset read of one of the receivables indexes. */
export function receivableListQuery(ctx: ServiceContext, partyId: string | undefined, query: ListReceivablesQuery) {
  let rows = ctx.db
    .selectFrom("receivables as r")
    .leftJoin("onchain_receivables as c", "c.id", "r.id")
    .select(["r.id", "r.created_at"]);
  const cp = query.counterpartyId;
  if (partyId !== undefined) {
    if (query.as === "seller") {
      rows = rows.where("r.seller_id", "=", partyId);
      if (cp) rows = rows.where("r.debtor_id", "=", cp);
    } else if (query.as === "debtor") {
      rows = rows.where("r.debtor_id", "=", partyId);
      if (cp) rows = rows.where("r.seller_id", "=", cp);
    } else if (cp) {
      rows = rows.where((eb) =>
        eb.or([
          eb.and([eb("r.seller_id", "=", partyId), eb("r.debtor_id", "=", cp)]),
          eb.and([eb("r.debtor_id", "=", partyId), eb("r.seller_id", "=", cp)]),
        ]),
      );
    } else rows = rows.where((eb) => eb.or([eb("r.seller_id", "=", partyId), eb("r.debtor_id", "=", partyId)]));
  } else if (cp) {
    rows = rows.where((eb) => eb.or([eb("r.seller_id", "=", cp), eb("r.debtor_id", "=", cp)]));
  }
  if (query.status) {
    // Before the chain the status is the service's; after, the chain's (a confirmed row stays "confirming").
    if (query.status === "confirming") rows = rows.where("r.status", "=", "confirming").where("c.id", "is", null);
    else if (isOffChain(query.status)) rows = rows.where("r.status", "=", query.status);
    else rows = rows.where("c.status", "=", query.status);
  }
  if (query.dueFrom) rows = rows.where("r.due_date", ">=", seconds(query.dueFrom));
  if (query.dueTo) rows = rows.where("r.due_date", "<=", seconds(query.dueTo));
  return rows;
}

export const RECEIVABLE_ORDER = {
  columns: ["r.created_at", "r.id"],
  shape: ["s", "s"],
  direction: "desc",
  keyOf: (row: { id: string; created_at: string }) => [row.created_at, row.id],
} as const;

export async function listReceivables(
  ctx: ServiceContext,
  actor: Actor,
  query: ListReceivablesQuery,
): Promise<Page<ReceivableView>> {
  const everything = canSeeEverything(actor);
  const partyId = query.partyId ?? (everything ? undefined : actor.id);
  // A party's list of receivables is its book: the policy's exposure row says who may read it.
  if (partyId !== undefined && partyId !== actor.id) {
    const party = await findPartyById(ctx.db, partyId);
    const relations = party ? await relationsToParty(ctx.db, actor, party) : roleRelations(actor);
    requireAccess("exposure", relations, `party ${partyId}`);
  }
  const page = await keysetPage(receivableListQuery(ctx, partyId, query), RECEIVABLE_ORDER, query);
  return mapPage(page, async ({ id }) => {
    // A list carries the verification report, not the documents themselves (one GET away).
    const { documents: _documents, ...view } = await getReceivableView(ctx, actor, id);
    return view;
  });
}

export const ReceivableListSchema = pageSchema(ReceivableViewSchema)
  .extend({ receivables: z.array(ReceivableViewSchema).meta({ description: "The same items (deprecated name)" }) })
  .meta({ id: "ReceivableList" });
