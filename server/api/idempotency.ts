// Idempotency-Key: the same key and body from the same party gets the first answer again,
// never a second execution. Responses are stored encrypted (they may carry an API key).
// A key left "in progress" by a crash is taken over by the next attempt after a restart;
// a key whose attempt failed with a 5xx is "interrupted", and its retry first looks for
// the transactions that attempt sent. With several replicas, an "in progress" key is taken
// over only when the process that owns it is gone (store/cluster.ts), never from a live one.
import { createHash } from "node:crypto";
import type { ServiceContext } from "../context.js";
import { AppError, badRequest, conflict, unprocessable } from "../model/errors.js";
import { nowIso } from "../store/database.js";
import { clusterOf } from "../store/cluster.js";
import { canonicalJson } from "../model/receivable-schema.js";
import type { HandlerResult } from "./route-spec.js";
import { errorEnvelope } from "./schemas.js";
import { retryInterruptedAttempt, type InterruptedAttempt } from "../domain/interrupted-attempt.js";

const processStartedAt = nowIso();

export async function withIdempotency(
  ctx: ServiceContext,
  partyId: string,
  key: string | undefined,
  request: { method: string; path: string; body: unknown },
  run: () => Promise<HandlerResult>,
): Promise<HandlerResult & { replayed?: boolean }> {
  if (key === undefined) return run();
  if (!/^[\x21-\x7e]{1,128}$/.test(key))
    throw badRequest("INVALID_IDEMPOTENCY_KEY", "Idempotency-Key must be 1 to 128 printable ASCII characters");
  const requestHash = createHash("sha256")
    .update(`${request.method} ${request.path} ${canonicalJson(request.body ?? null)}`)
    .digest("hex");

  const cluster = clusterOf(ctx.db);
  const startedAt = nowIso();
  const inserted = await ctx.db
    .insertInto("idempotency")
    .values({
      party_id: partyId,
      key,
      method: request.method,
      path: request.path,
      request_hash: requestHash,
      state: "in_progress",
      status_code: null,
      response: null,
      created_at: startedAt,
      first_started_at: startedAt,
      owner: cluster.instanceId,
    })
    .onConflict((oc) => oc.doNothing())
    .executeTakeFirst();
  let interrupted: InterruptedAttempt | undefined;
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0) {
    const existing = await ctx.db
      .selectFrom("idempotency")
      .selectAll()
      .where("party_id", "=", partyId)
      .where("key", "=", key)
      .executeTakeFirstOrThrow();
    if (existing.request_hash !== requestHash) {
      throw unprocessable("IDEMPOTENCY_KEY_REUSED", "this Idempotency-Key was used for a different request", {
        idempotencyKey: key,
      });
    }
    if (existing.state === "done") {
      return { status: existing.status_code!, body: JSON.parse(ctx.vault.decrypt(existing.response!)), replayed: true };
    }
    // "interrupted": an earlier attempt failed with a 5xx, perhaps after sending a transaction.
    // "in_progress" from before this process started: the service died during that attempt.
    const failedEarlier = existing.state === "interrupted";
    const ownerAlive = cluster.shared ? await cluster.isAlive(existing.owner) : existing.created_at >= processStartedAt;
    if (!failedEarlier && ownerAlive) {
      throw conflict("IDEMPOTENCY_IN_PROGRESS", "a request with this Idempotency-Key is still being processed", {
        idempotencyKey: key,
      });
    }
    // A key left unfinished by a version before migration 0030 does not know when its first
    // attempt began (a takeover may have moved created_at): what it sent cannot be told apart
    // from earlier requests, so it is not run again blind.
    if (existing.first_started_at === null) {
      throw conflict(
        "IDEMPOTENCY_KEY_PREDATES_UPGRADE",
        "this Idempotency-Key's request was interrupted before the service was upgraded; check whether it took effect, then send it again with a new key",
        { idempotencyKey: key },
      );
    }
    // Claim it with a compare-and-set, so two retries racing cannot both take it over.
    const claimed = await ctx.db
      .updateTable("idempotency")
      .set({ state: "in_progress", created_at: nowIso(), owner: cluster.instanceId })
      .where("party_id", "=", partyId)
      .where("key", "=", key)
      .where("state", "=", existing.state)
      .where("created_at", "=", existing.created_at)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) {
      throw conflict("IDEMPOTENCY_IN_PROGRESS", "a request with this Idempotency-Key is still being processed", {
        idempotencyKey: key,
      });
    }
    ctx.log.warn(
      { idempotencyKey: key, partyId, failedEarlier },
      "retrying a request whose earlier attempt was interrupted",
    );
    interrupted = {
      // From the first attempt, not this key's last owner: a retry that took the key over and
      // failed too must not hide what the attempt before it sent (it would be sent again).
      startedAt: existing.first_started_at,
      endedBy: failedEarlier || cluster.shared ? nowIso() : processStartedAt,
    };
  }

  let result: HandlerResult;
  try {
    result = await (interrupted ? retryInterruptedAttempt(interrupted, run) : run());
  } catch (error) {
    if (error instanceof AppError && error.status < 500) {
      // A refusal is an answer too: the same request gets the same refusal.
      await store(ctx, partyId, key, error.status, errorEnvelope(error));
    } else {
      // Transient, but a transaction may have gone out before it (the chain dropped while
      // we waited for the receipt): keep the key, so a retry answers from what was sent
      // instead of sending it again (see chain/interrupted-attempt.ts).
      await ctx.db
        .updateTable("idempotency")
        .set({ state: "interrupted" })
        .where("party_id", "=", partyId)
        .where("key", "=", key)
        .execute();
    }
    throw error;
  }
  await store(ctx, partyId, key, result.status, result.body);
  return result;
}

async function store(ctx: ServiceContext, partyId: string, key: string, status: number, body: unknown): Promise<void> {
  await ctx.db
    .updateTable("idempotency")
    .set({ state: "done", status_code: status, response: ctx.vault.encrypt(JSON.stringify(body)) })
    .where("party_id", "=", partyId)
    .where("key", "=", key)
    .execute();
}
