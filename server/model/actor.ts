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

/**
 * A route's role check (RouteSpec.authorize), made before the request is read: a caller that can
 * never do this is refused FORBIDDEN whatever it sent, and learns nothing of the request's shape.
 */
export const byRole =
  (...roles: Role[]) =>
  (actor: Actor): void =>
    requireRole(actor, ...roles);

export const canSeeEverything = (actor: Actor): boolean =>
  actor.roles.includes("operator") || actor.roles.includes("auditor");
