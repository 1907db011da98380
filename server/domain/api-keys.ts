// API keys: random, shown once, stored only as a SHA-256 hash.
import { createHash, randomBytes } from "node:crypto";
import type { Db } from "../store/database.js";

export const newApiKey = (): string => `tl_${randomBytes(24).toString("base64url")}`;
export const hashApiKey = (apiKey: string): string => createHash("sha256").update(apiKey).digest("hex");
export const newId = (prefix: string): string => `${prefix}_${randomBytes(9).toString("base64url")}`;

/** Gives the party a fresh key (the one it had stops working) and returns it: shown once. */
export async function replaceApiKey(db: Db, partyId: string): Promise<string> {
  const apiKey = newApiKey();
  await db
    .updateTable("parties")
    .set({ api_key_hash: hashApiKey(apiKey) })
    .where("id", "=", partyId)
    .execute();
  return apiKey;
}
