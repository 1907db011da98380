// Bearer API keys. Keys are stored hashed; the caller acts only as its own party.
import type { ServiceContext } from "../context.js";
import type { Actor } from "../model/actor.js";
import { hashApiKey } from "../domain/api-keys.js";
import { AppError, unauthorized } from "../model/errors.js";
import { findPartyByApiKeyHash } from "../store/parties-store.js";

export async function authenticate(ctx: ServiceContext, header: string | undefined): Promise<Actor> {
  if (!header) throw unauthorized("send Authorization: Bearer <apiKey>");
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw unauthorized("the Authorization header must be Bearer <apiKey>");
  const party = await findPartyByApiKeyHash(ctx.db, hashApiKey(match[1]!));
  if (!party) throw unauthorized("unknown API key");
  if (party.status === "suspended") throw new AppError("PARTY_SUSPENDED", 403, `party ${party.id} is suspended`);
  return party;
}

/**
 * The party a request's API key belongs to, for rate limiting only: undefined for no key,
 * a malformed header or an unknown key (those count per IP). Refusals are authenticate's job.
 */
export async function rateLimitSubject(ctx: ServiceContext, header: string | undefined): Promise<string | undefined> {
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (!match) return undefined;
  return (await findPartyByApiKeyHash(ctx.db, hashApiKey(match[1]!)))?.id;
}
