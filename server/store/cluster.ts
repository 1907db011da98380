// The replicas of one Tierline and the one among them that leads. Every process has an
// instance id; on PostgreSQL it holds, on a connection of its own, a session advisory lock
// named after that id (so any replica can ask "is the process that started this still
// alive?" from pg_locks), and the leader also holds the leader lock. The leader runs what
// must run once (the keeper, the indexer's poll, the risk monitor, the recovery of work a
// dead replica left half done). A follower tries the leader lock every interval: when the
// leader dies, PostgreSQL drops its connection and its locks, and a follower takes over
// within one interval. If the leader loses its own connection it steps down at once.
// On SQLite the single process is the leader, and only it is alive.
import { randomUUID } from "node:crypto";
import pg from "pg";
import type { Logger } from "../logging.js";
import { postgresDetails, type Db } from "./database.js";
import { LEADER_NAMESPACE, MEMBER_NAMESPACE, lockKey } from "./locks.js";

export type LeadershipListener = (leader: boolean) => void | Promise<void>;

const clusters = new WeakMap<Db, Cluster>();

/** The cluster `db` was joined with (a single-process cluster when none was started). */
export function clusterOf(db: Db): Cluster {
  let cluster = clusters.get(db);
  if (!cluster) {
    cluster = new Cluster(db, undefined, 1_000);
    clusters.set(db, cluster);
  }
  return cluster;
}

export class Cluster {
  readonly instanceId = randomUUID();
  readonly #postgres: { url: string } | undefined;
  #client: pg.Client | undefined;
  #leader = false;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #tick: Promise<void> = Promise.resolve();
  readonly #listeners: LeadershipListener[] = [];

  constructor(
    private readonly db: Db,
    private readonly log: Logger | undefined,
    private readonly intervalMs: number,
  ) {
    this.#postgres = postgresDetails(db);
  }

  /** Joins `db`'s cluster: registers this process and, on SQLite, makes it the leader. */
  static async join(db: Db, log: Logger, intervalMs: number): Promise<Cluster> {
    const cluster = new Cluster(db, log, intervalMs);
    clusters.set(db, cluster);
    if (cluster.#postgres) await cluster.#connect();
    return cluster;
  }

  get shared(): boolean {
    return this.#postgres !== undefined;
  }

  get isLeader(): boolean {
    return this.#postgres ? this.#leader : true;
  }

  /** Called with true when this process becomes the leader, false when it stops being it. */
  onLeadership(listener: LeadershipListener): void {
    this.#listeners.push(listener);
  }

  /** Starts campaigning (PostgreSQL) or leads at once (SQLite). */
  async start(): Promise<void> {
    this.#running = true;
    if (!this.#postgres) {
      await this.#become(true);
      return;
    }
    await this.#campaign();
    this.#schedule();
  }

  /** Steps down, waits for the listeners, and leaves the cluster. */
  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    await this.#tick;
    if (this.isLeader) await this.#become(false);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => {});
  }

  /** Is the process with this instance id still running (holding its liveness lock)? */
  async isAlive(instanceId: string | null | undefined): Promise<boolean> {
    if (!instanceId) return false;
    if (instanceId === this.instanceId) return true;
    if (!this.#postgres) return false;
    return livenessLockHeld(this.db, instanceId);
  }

  #schedule(): void {
    if (!this.#running) return;
    this.#timer = setTimeout(() => {
      this.#tick = this.#campaign().finally(() => this.#schedule());
    }, this.intervalMs);
  }

  async #campaign(): Promise<void> {
    try {
      if (!this.#client) await this.#connect();
      if (this.#leader) {
        await this.#client!.query("select 1");
        return;
      }
      const { rows } = await this.#client!.query<{ won: boolean }>("select pg_try_advisory_lock($1, 0) as won", [
        LEADER_NAMESPACE,
      ]);
      if (rows[0]?.won) await this.#become(true);
    } catch (error) {
      this.log?.warn({ err: error }, "lost the database connection that holds this replica's locks");
      await this.#lose();
    }
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#postgres!.url });
    client.on("error", () => void this.#lose());
    await client.connect();
    await client.query("select pg_advisory_lock($1, $2)", [MEMBER_NAMESPACE, lockKey(this.instanceId)]);
    this.#client = client;
  }

  async #lose(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    client?.end().catch(() => {});
    if (this.#leader) await this.#become(false);
  }

  async #become(leader: boolean): Promise<void> {
    if (this.#leader === leader && this.#postgres) return;
    this.#leader = leader;
    this.log?.info({ instanceId: this.instanceId }, leader ? "this replica leads" : "this replica no longer leads");
    for (const listener of this.#listeners) {
      try {
        await listener(leader);
      } catch (error) {
        this.log?.error({ err: error }, "a leadership change could not be applied");
      }
    }
  }
}

/** pg_locks as seen by any connection: is the liveness lock of `instanceId` held? */
async function livenessLockHeld(db: Db, instanceId: string): Promise<boolean> {
  const { lockPool } = postgresDetails(db)!;
  const result = await lockPool.query<{ alive: boolean }>(
    `select exists (select 1 from pg_locks where locktype = 'advisory' and granted
       and classid = $1 and objid = $2 and objsubid = 2) as alive`,
    [MEMBER_NAMESPACE, lockKey(instanceId)],
  );
  return result.rows[0]?.alive === true;
}
