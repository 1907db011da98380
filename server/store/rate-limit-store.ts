// express-rate-limit's counters in the database, so every replica counts a client's requests
// against one budget. One upsert per request: it opens a new window when the old one ended
// and otherwise adds one, atomically (PostgreSQL's INSERT … ON CONFLICT takes the row lock).
// PostgreSQL rather than Redis: the replicas share it already, and one round trip on an
// indexed key is small beside what a request costs; a separate Redis would be one more
// process to run for no measured need.
import { sql } from "kysely";
import type { ClientRateLimitInfo, Options, Store } from "express-rate-limit";
import type { Db } from "./database.js";

export class DatabaseRateLimitStore implements Store {
  #windowMs = 60_000;
  /** Replicas with the same policy share a client's counter; another policy counts apart. */
  #prefix = "";
  readonly localKeys = false;

  /**
   * `policy` names the limits when they are chosen per request (a function, as the per-IP and
   * per-key buckets are), so a change of either limit still counts apart.
   */
  constructor(
    private readonly db: Db,
    private readonly options: { policy?: string } = {},
  ) {}

  init(options: Options): void {
    this.#windowMs = options.windowMs;
    const limit = typeof options.limit === "number" ? String(options.limit) : (this.options.policy ?? "dynamic");
    this.#prefix = `${options.windowMs}/${limit}:`;
  }

  async increment(clientKey: string): Promise<ClientRateLimitInfo> {
    const key = this.#prefix + clientKey;
    const now = Date.now();
    const resetAt = now + this.#windowMs;
    const { rows } = await sql<{ hits: number; reset_at: number }>`
      insert into rate_limits (key, hits, reset_at) values (${key}, 1, ${resetAt})
      on conflict (key) do update set
        hits = case when rate_limits.reset_at <= ${now} then 1 else rate_limits.hits + 1 end,
        reset_at = case when rate_limits.reset_at <= ${now} then ${resetAt} else rate_limits.reset_at end
      returning hits, reset_at`.execute(this.db);
    const row = rows[0]!;
    return { totalHits: Number(row.hits), resetTime: new Date(Number(row.reset_at)) };
  }

  async decrement(clientKey: string): Promise<void> {
    const key = this.#prefix + clientKey;
    await this.db
      .updateTable("rate_limits")
      .set((eb) => ({ hits: eb("hits", "-", 1) }))
      .where("key", "=", key)
      .where("hits", ">", 0)
      .execute();
  }

  async resetKey(clientKey: string): Promise<void> {
    await this.db
      .deleteFrom("rate_limits")
      .where("key", "=", this.#prefix + clientKey)
      .execute();
  }
}
