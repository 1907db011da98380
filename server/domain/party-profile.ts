// Use case: read a party's public profile, as the access policy's partyProfile row allows.
import type { ServiceContext } from "../context.js";
import { requireAccess } from "../model/access-policy.js";
import type { Actor } from "../model/actor.js";
import { notFound } from "../model/errors.js";
import type { Party } from "../model/parties-schema.js";
import { relationsToParty, roleRelations } from "../store/access-relations.js";
import { findPartyById, publicParty } from "../store/parties-store.js";

export async function readPartyProfile(ctx: ServiceContext, actor: Actor, partyId: string): Promise<Party> {
  const party = await findPartyById(ctx.db, partyId);
  requireAccess(
    "partyProfile",
    party ? await relationsToParty(ctx.db, actor, party) : roleRelations(actor),
    `party ${partyId}`,
  );
  if (!party) throw notFound("Party", partyId);
  return publicParty(party);
}
