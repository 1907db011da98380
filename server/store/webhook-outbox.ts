// The webhook outbox: an event is written here in the same database transaction as the
// change it reports (the indexer's projection transaction for chain events, the use case's
// transaction for off-chain ones), so a crash can neither lose nor invent one. The
// dispatcher (server/keeper/webhook-dispatcher.ts) delivers from here.
import { randomBytes } from "node:crypto";
import type { Kysely, Transaction } from "kysely";
import type { WebhookEvent } from "../model/webhook-events.js";
import type { Database } from "./schema.js";

type Writer = Transaction<Database> | Kysely<Database>;

/** A fresh event id for an off-chain change. */
export const newEventId = (): string => `evt_${randomBytes(12).toString("hex")}`;

/** Writes the event once (an id already there is left alone: replaying chain events invents nothing). */
export async function enqueueWebhookEvent(trx: Writer, event: WebhookEvent): Promise<void> {
  await trx
    .insertInto("webhook_outbox")
    .values({
      id: event.id,
      type: event.type,
      payload: JSON.stringify({ type: event.type, timestamp: event.occurredAt, data: event.data }),
      party_ids: JSON.stringify([...new Set(event.partyIds)]),
      fanned_out: 0,
      created_at: event.occurredAt,
    })
    .onConflict((oc) => oc.column("id").doNothing())
    .execute();
}

/** Party ids of these addresses (unknown addresses are left out). */
export async function partyIdsOfAddresses(trx: Writer, addresses: Array<string | null | undefined>): Promise<string[]> {
  const wanted = [...new Set(addresses.filter((a): a is string => typeof a === "string" && a.length > 0))];
  if (wanted.length === 0) return [];
  const rows = await trx.selectFrom("parties").select("id").where("address", "in", wanted).execute();
  return rows.map((r) => r.id);
}
