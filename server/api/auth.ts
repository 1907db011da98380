// Bearer API keys. Keys are stored hashed; the caller acts only as its own party.
import type { ServiceContext } from "../context.js";
import type { Actor } from "../model/actor.js";
import { hashApiKey } from "../domain/api-keys.js";
import { AppError, unauthorized } from "../model/errors.js";
import { findPartyByApiKeyHash, type PartyRecord } from "../store/parties-store.js";

const BEARER = /^Bearer\s+(\S+)$/i;

/**
 * A request's key, looked up once: the rate limiter reads it first (to count per party), and
 * authenticate answers from the same lookup rather than hashing and reading the key again.
 */
export interface BearerLookup {
  header: string | undefined;
  party: PartyRecord | undefined;
}

/** The party a Bearer header names: undefined for no header, a malformed one or an unknown key. */
export async function lookUpBearer(ctx: ServiceContext, header: string | undefined): Promise<BearerLookup> {
  const match = header ? BEARER.exec(header) : null;
  const party = match ? await findPartyByApiKeyHash(ctx.db, hashApiKey(match[1]!)) : undefined;
  return { header, party };
}

/**
 * The actor behind the request's Authorization header. `known` is this request's lookup of the
 * same header (by the rate limiter); without it, or for another header, the key is read here.
 */
export async function authenticate(
  ctx: ServiceContext,
  header: string | undefined,
  known?: BearerLookup,
): Promise<Actor> {
  if (!header) throw unauthorized("send Authorization: Bearer <apiKey>");
  if (!BEARER.test(header)) throw unauthorized("the Authorization header must be Bearer <apiKey>");
  const { party } = known !== undefined && known.header === header ? known : await lookUpBearer(ctx, header);
  if (!party) throw unauthorized("unknown API key");
  if (party.status === "suspended") throw new AppError("PARTY_SUSPENDED", 403, `party ${party.id} is suspended`);
  return party;
}
