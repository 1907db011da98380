// Delivers the webhook outbox (server/store/webhook-outbox.ts) to the endpoints that want
// each event, signed per Standard Webhooks (webhook-id / webhook-timestamp /
// webhook-signature). Fan-out first (one delivery row per event and endpoint, a batch of
// events in one transaction with marking them fanned out), then every due delivery is POSTed; a
// non-2xx answer or a network error is retried with exponential backoff up to a maximum
// number of attempts, and every attempt is logged. Delivery is at least once: a crash after
// the receiver answered and before the delivery is marked sends it again with the same
// webhook-id, which receivers deduplicate on.
// With several replicas on one PostgreSQL database the dispatcher runs on the leader only
// (boot.ts starts it on taking the lead and stops it on losing it), and each pass holds the
// advisory lock "webhooks:dispatch": a leader that lost its place mid-pass finishes that pass
// before the next leader's first one reads the due deliveries, so no delivery is sent by two
// replicas at once.
import { Webhook } from "standardwebhooks";
import { fetch, type Agent } from "undici";
import type { ServiceContext } from "../context.js";
import { crashPoint } from "../faults.js";
import { nowIso } from "../store/database.js";
import { withLock } from "../store/locks.js";
import { publicOnlyAgent, refusedAddressLiteral } from "../domain/webhook-target.js";

const FAN_OUT_BATCH = 100;
// Nine values a row: 500 rows stay far below SQLite's 32,766 bound values a statement.
const DELIVERY_ROWS_PER_INSERT = 500;
const DELIVERY_BATCH = 20;
const MAX_BACKOFF_MS = 60 * 60_000;
const MAX_ERROR_LENGTH = 500;
const DISPATCH_LOCK = "webhooks:dispatch";

/** The delay before attempt `attempts + 1`: base × 2^(attempts − 1), capped at an hour. */
export const backoffMs = (baseMs: number, attempts: number): number =>
  Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.max(0, attempts - 1));

interface OutboxEvent {
  type: string;
  created_at: string;
  /** The parties it concerns (party_ids). */
  concerned: ReadonlySet<string>;
}

/** An active endpoint, and which events it wants. */
function listenerOf(endpoint: {
  id: string;
  party_id: string;
  event_types: string | null;
  created_at: string;
  roles: string;
}): { endpointId: string; hears(event: OutboxEvent): boolean } {
  const roles = JSON.parse(endpoint.roles) as string[];
  const seesAll = roles.includes("operator") || roles.includes("auditor");
  const types = endpoint.event_types ? new Set(JSON.parse(endpoint.event_types) as string[]) : undefined;
  return {
    endpointId: endpoint.id,
    hears(event) {
      // An endpoint hears what happens after it exists (both stamps are nowIso text).
      if (endpoint.created_at > event.created_at) return false;
      if (types && !types.has(event.type)) return false;
      return seesAll || event.concerned.has(endpoint.party_id);
    },
  };
}

export class WebhookDispatcher {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  /** Made at the first send unless the operator allows private targets (TIERLINE_WEBHOOK_PRIVATE_TARGETS=allow). */
  #publicOnlyAgent: Agent | undefined;

  constructor(private readonly ctx: ServiceContext) {}

  #publicOnly(): Agent | undefined {
    if (this.ctx.config.TIERLINE_WEBHOOK_PRIVATE_TARGETS === "allow") return undefined;
    return (this.#publicOnlyAgent ??= publicOnlyAgent());
  }

  start(intervalMs: number): void {
    if (this.#timer !== undefined) return;
    const tick = async () => {
      try {
        this.#running = this.runOnce();
        await this.#running;
      } catch (error) {
        this.ctx.log.error({ err: error }, "webhook dispatch failed");
      } finally {
        this.#running = undefined;
        if (this.#timer !== undefined) this.#timer = setTimeout(tick, intervalMs);
      }
    };
    this.#timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  /** One pass: fan out new events, then send what is due; one pass at a time across replicas. */
  runOnce(): Promise<void> {
    return withLock(this.ctx.db, DISPATCH_LOCK, async () => {
      await this.fanOut();
      await this.deliverDue();
    });
  }

  /**
   * Turns a batch of new events into delivery rows. The batch is one transaction with one read
   * of the endpoints: one of each per event made three transactions (three fsyncs on SQLite)
   * and three reads of every endpoint per registration. All or nothing, as an event was: a
   * crash before the commit fans the same events out again.
   */
  async fanOut(): Promise<number> {
    const { db } = this.ctx;
    const events = await db
      .selectFrom("webhook_outbox")
      .select(["seq", "id", "type", "party_ids", "created_at"])
      .where("fanned_out", "=", 0)
      .orderBy("seq")
      .limit(FAN_OUT_BATCH)
      .execute();
    if (events.length === 0) return 0;
    const latest = events.reduce((at, event) => (event.created_at > at ? event.created_at : at), events[0]!.created_at);
    await db.transaction().execute(async (trx) => {
      const endpoints = await trx
        .selectFrom("webhook_endpoints as e")
        .innerJoin("parties as p", "p.id", "e.party_id")
        .select(["e.id", "e.party_id", "e.event_types", "e.created_at", "p.roles"])
        .where("e.status", "=", "active")
        .where("e.created_at", "<=", latest)
        .execute();
      const listeners = endpoints.map(listenerOf);
      const createdAt = nowIso();
      const deliveries = events.flatMap((event) => {
        const heard = { ...event, concerned: new Set(JSON.parse(event.party_ids) as string[]) };
        return listeners
          .filter((listener) => listener.hears(heard))
          .map((listener) => ({
            event_id: event.id,
            endpoint_id: listener.endpointId,
            state: "pending",
            attempts: 0,
            next_attempt_at: Date.now(),
            last_status: null,
            last_error: null,
            delivered_at: null,
            created_at: createdAt,
          }));
      });
      for (let i = 0; i < deliveries.length; i += DELIVERY_ROWS_PER_INSERT) {
        await trx
          .insertInto("webhook_deliveries")
          .values(deliveries.slice(i, i + DELIVERY_ROWS_PER_INSERT))
          .onConflict((oc) => oc.columns(["event_id", "endpoint_id"]).doNothing())
          .execute();
      }
      const seqs = events.map((event) => event.seq);
      await trx.updateTable("webhook_outbox").set({ fanned_out: 1 }).where("seq", "in", seqs).execute();
    });
    return events.length;
  }

  async deliverDue(): Promise<number> {
    const { db } = this.ctx;
    const due = await db
      .selectFrom("webhook_deliveries as d")
      .innerJoin("webhook_outbox as o", "o.id", "d.event_id")
      .innerJoin("webhook_endpoints as e", "e.id", "d.endpoint_id")
      .select(["d.id", "d.event_id", "d.attempts", "o.payload", "e.url", "e.secret", "e.status as endpointStatus"])
      .where("d.state", "=", "pending")
      .where("d.next_attempt_at", "<=", Date.now())
      .orderBy("d.next_attempt_at")
      .orderBy("d.id")
      .limit(DELIVERY_BATCH)
      .execute();
    for (const delivery of due) await this.#deliver(delivery);
    return due.length;
  }

  async #deliver(delivery: {
    id: number;
    event_id: string;
    attempts: number;
    payload: string;
    url: string;
    secret: string;
    endpointStatus: string;
  }): Promise<void> {
    const { db, config, log, vault } = this.ctx;
    if (delivery.endpointStatus !== "active") {
      await db
        .updateTable("webhook_deliveries")
        .set({ state: "failed", last_error: "the endpoint was deleted" })
        .where("id", "=", delivery.id)
        .execute();
      return;
    }
    // The change and its outbox row are committed; nothing has been sent yet.
    crashPoint("webhook:before-send");
    const attempt = delivery.attempts + 1;
    const started = Date.now();
    const timestamp = new Date();
    let status: number | null = null;
    let error: string | null = null;
    try {
      const signature = new Webhook(vault.decrypt(delivery.secret)).sign(
        delivery.event_id,
        timestamp,
        delivery.payload,
      );
      // Public addresses only (webhook-target.ts): a literal here, a name as it is dialled.
      const publicOnly = this.#publicOnly();
      const refused = publicOnly ? refusedAddressLiteral(delivery.url) : undefined;
      if (refused) throw new Error(`refused: ${refused}`);
      const response = await fetch(delivery.url, {
        dispatcher: publicOnly,
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "Tierline-Webhooks/1",
          "webhook-id": delivery.event_id,
          "webhook-timestamp": String(Math.floor(timestamp.getTime() / 1000)),
          "webhook-signature": signature,
        },
        body: delivery.payload,
        redirect: "manual",
        signal: AbortSignal.timeout(config.TIERLINE_WEBHOOK_TIMEOUT_MS),
      });
      status = response.status;
      await response.body?.cancel();
      if (status < 200 || status >= 300) error = `the endpoint answered ${status}`;
    } catch (caught) {
      // fetch says only "fetch failed"; its cause says why (refused, unreachable, timed out).
      const cause = (caught as Error & { cause?: unknown }).cause;
      const message = (caught as Error).message || String(caught);
      error = (cause instanceof Error ? `${message}: ${cause.message}` : message).slice(0, MAX_ERROR_LENGTH);
    }
    if (error === null) crashPoint("webhook:delivered-before-recorded");
    const delivered = error === null;
    const exhausted = !delivered && attempt >= config.TIERLINE_WEBHOOK_MAX_ATTEMPTS;
    await db.transaction().execute(async (trx) => {
      await trx
        .insertInto("webhook_attempts")
        .values({
          delivery_id: delivery.id,
          attempt,
          at: timestamp.toISOString(),
          status_code: status,
          error,
          duration_ms: Date.now() - started,
        })
        .execute();
      await trx
        .updateTable("webhook_deliveries")
        .set({
          state: delivered ? "delivered" : exhausted ? "failed" : "pending",
          attempts: attempt,
          last_status: status,
          last_error: error,
          delivered_at: delivered ? nowIso() : null,
          next_attempt_at:
            delivered || exhausted ? 0 : Date.now() + backoffMs(config.TIERLINE_WEBHOOK_RETRY_BASE_MS, attempt),
        })
        .where("id", "=", delivery.id)
        .execute();
    });
    this.ctx.telemetry.webhookAttempts.inc({ outcome: delivered ? "delivered" : exhausted ? "gave_up" : "retrying" });
    if (!delivered)
      log.warn({ deliveryId: delivery.id, eventId: delivery.event_id, attempt, error }, "webhook delivery failed");
  }
}
