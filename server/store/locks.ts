// Named locks that hold across every replica of the service. Work that must not interleave
// (submissions checked against each other, party creation, one signer's nonces, one
// debtor's repayments, risk refreshes) runs inside withLock(db, name, fn):
// - in this process, a queue per name (concurrency 1), as before;
// - on PostgreSQL, also a session advisory lock on a connection of the lock pool, held
//   for the whole of fn, so another replica's holder of the same name waits. If this
//   process dies, PostgreSQL drops the connection and the lock with it.
// On SQLite there is one process by design (its data directory is its own), so the queue is the lock.
import { createHash } from "node:crypto";
import PQueue from "p-queue";
import { postgresDetails, type Db } from "./database.js";

/** The first key of every advisory lock Tierline takes (its second names the lock). */
export const LOCK_NAMESPACE = 0x7431; // "t1"
/** The namespace of the per-replica liveness locks and of the leader lock (cluster.ts). */
export const MEMBER_NAMESPACE = 0x7432;
export const LEADER_NAMESPACE = 0x7433;

/** A lock name as PostgreSQL's second advisory-lock key: 31 bits of its SHA-256. A
 * collision only makes two unrelated names wait for each other. */
export function lockKey(name: string): number {
  return createHash("sha256").update(name).digest().readUInt32BE(0) & 0x7fffffff;
}

const lanes = new WeakMap<Db, Map<string, PQueue>>();

function laneOf(db: Db, name: string): PQueue {
  let byName = lanes.get(db);
  if (!byName) {
    byName = new Map();
    lanes.set(db, byName);
  }
  let lane = byName.get(name);
  if (!lane) {
    lane = new PQueue({ concurrency: 1 });
    byName.set(name, lane);
  }
  return lane;
}

/** Runs fn while holding the lock `name` in this process and, on PostgreSQL, in every replica. */
export function withLock<T>(db: Db, name: string, fn: () => Promise<T>): Promise<T> {
  const lane = laneOf(db, name);
  const held = lane.add(async () => {
    const postgres = postgresDetails(db);
    if (!postgres) return fn();
    const client = await postgres.lockPool.connect();
    try {
      await client.query("select pg_advisory_lock($1, $2)", [LOCK_NAMESPACE, lockKey(name)]);
    } catch (error) {
      client.release(true);
      throw error;
    }
    try {
      return await fn();
    } finally {
      try {
        await client.query("select pg_advisory_unlock($1, $2)", [LOCK_NAMESPACE, lockKey(name)]);
        client.release();
      } catch {
        // The connection is gone, and the lock with it: discard the client.
        client.release(true);
      }
    }
  });
  // Many names are a party's or an address's own: an idle lane goes, or one would stay for
  // every party and address ever seen. A caller that took it before is queued (pending or
  // size > 0), so an idle lane has nobody; the next caller makes a new one.
  const prune = () => {
    const byName = lanes.get(db);
    if (lane.size === 0 && lane.pending === 0 && byName?.get(name) === lane) byName.delete(name);
  };
  held.then(prune, prune);
  return held;
}

/** How many callers in this process wait for the lock `name` behind its holder (for the race tests). */
export function lockWaiters(db: Db, name: string): number {
  return lanes.get(db)?.get(name)?.size ?? 0;
}

/** How many lock names this process keeps a queue for (idle ones are dropped; for the tests). */
export function lockLanes(db: Db): number {
  return lanes.get(db)?.size ?? 0;
}

/** Waits until every queued holder of every lock of `db` in this process is done. */
export async function locksIdle(db: Db): Promise<void> {
  for (const lane of lanes.get(db)?.values() ?? []) await lane.onIdle();
}
