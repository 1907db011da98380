// Who is calling: the party behind the API key, and what its roles let it do.
import { forbidden } from "./errors.js";
import type { PartyRecord, Role } from "./parties-schema.js";

export type Actor = PartyRecord;

export function requireRole(actor: Actor, ...roles: Role[]): void {
  if (!roles.some((role) => actor.roles.includes(role))) {
    throw forbidden(`this needs the ${roles.join(" or ")} role; party ${actor.id} has ${actor.roles.join(", ")}`, {
      required: roles,
      roles: actor.roles,
    });
  }
}

export const canSeeEverything = (actor: Actor): boolean =>
  actor.roles.includes("operator") || actor.roles.includes("auditor");
