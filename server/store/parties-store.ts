// Reading and writing parties. Rows hold JSON arrays as text; this module turns them
// into domain objects.
import type { Db } from "./database.js";
import type { PartyTable } from "./schema.js";
import type { Party, PartyRecord, Role } from "../model/parties-schema.js";

export type { PartyRecord };

export function toParty(row: PartyTable): PartyRecord {
  return {
    id: row.id,
    name: row.name,
    registryId: row.registry_id,
    industry: row.industry,
    roles: JSON.parse(row.roles) as Role[],
    address: row.address,
    custodial: row.custodial === 1,
    status: row.status as Party["status"],
    relatedPartyIds: JSON.parse(row.related_party_ids) as string[],
    createdAt: row.created_at,
    legalIdHash: row.legal_id_hash,
    encryptedKey: row.encrypted_key,
  };
}

/** The public face of a party: never the key material. */
export function publicParty(party: PartyRecord): Party {
  const { legalIdHash: _l, encryptedKey: _e, ...rest } = party;
  return rest;
}

export async function findPartyById(db: Db, id: string): Promise<PartyRecord | undefined> {
  const row = await db.selectFrom("parties").selectAll().where("id", "=", id).executeTakeFirst();
  return row ? toParty(row) : undefined;
}

export async function findPartyByAddress(db: Db, address: string): Promise<PartyRecord | undefined> {
  const row = await db.selectFrom("parties").selectAll().where("address", "=", address).executeTakeFirst();
  return row ? toParty(row) : undefined;
}

export async function findPartyByApiKeyHash(db: Db, apiKeyHash: string): Promise<PartyRecord | undefined> {
  const row = await db.selectFrom("parties").selectAll().where("api_key_hash", "=", apiKeyHash).executeTakeFirst();
  return row ? toParty(row) : undefined;
}

export async function listParties(db: Db): Promise<PartyRecord[]> {
  const rows = await db.selectFrom("parties").selectAll().orderBy("created_at").execute();
  return rows.map(toParty);
}
