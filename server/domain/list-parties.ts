// Use case for operators and auditors: every party, page by page in id order, optionally
// only those of one status or role.
import { z } from "zod";
import type { ServiceContext } from "../context.js";
import { requireRole, type Actor } from "../model/actor.js";
import { PageQuery, pageSchema, type Page } from "../model/page.js";
import { PartySchema, ROLES, type Party } from "../model/parties-schema.js";
import { publicParty, toParty } from "../store/parties-store.js";
import { keysetPage } from "../store/paginate.js";

export const ListPartiesQuery = PageQuery.extend({
  status: z.enum(["active", "suspended"]).optional(),
  role: z.enum(ROLES).optional().meta({ description: "Only parties with this role" }),
});
export const PartyPageSchema = pageSchema(PartySchema).meta({ id: "PartyPage" });

export async function listPartiesPage(
  ctx: ServiceContext,
  actor: Actor,
  query: z.infer<typeof ListPartiesQuery>,
): Promise<Page<Party>> {
  requireRole(actor, "operator", "auditor");
  let rows = ctx.db.selectFrom("parties").selectAll();
  if (query.status) rows = rows.where("status", "=", query.status);
  // Roles are a JSON array; the quoted name cannot match inside another role's name.
  if (query.role) rows = rows.where("roles", "like", `%"${query.role}"%`);
  const page = await keysetPage(rows, { columns: ["id"], shape: ["s"], direction: "asc", keyOf: (r) => [r.id] }, query);
  return { items: page.items.map((row) => publicParty(toParty(row))), nextCursor: page.nextCursor };
}
