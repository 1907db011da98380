// What an operator watches: Prometheus metrics (prom-client, one registry per service so
// that tests running several services in one process do not mix their figures) and the
// liveness of the background workers that /health reports. Counters are bumped where things
// happen (requests, idempotency replays, keeper passes); figures that live elsewhere (the
// transaction journal, the indexer's lag, the registrar's gas) are read when scraped.
// Metrics are per process: with several replicas on PostgreSQL, Prometheus scrapes each one
// (its `instance` label tells them apart) and sums the counters. The figures read from the
// shared database (the journal, the index cursor) are the same from every replica.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export interface ScrapeSources {
  /** The chain head and the index cursor, for the lag. */
  blocks(): Promise<{ latest: number | null; indexed: number }>;
  /** The transaction journal's rows by kind and state (sent, mined, failed, unconfirmed). */
  transactions(): Promise<Array<{ kind: string; state: string; count: number }>>;
  /** The registrar's native balance, wei. */
  registrarBalance(): Promise<bigint>;
}

export interface WorkerStatus {
  enabled: boolean;
  /** ISO time of the last pass that finished (well or not). */
  lastPassAt: string | null;
  lastError: string | null;
}

export class Telemetry {
  readonly registry = new Registry();
  readonly keeper: WorkerStatus = { enabled: false, lastPassAt: null, lastError: null };
  #sources: ScrapeSources | undefined;

  readonly httpRequests = new Counter({
    name: "tierline_http_requests_total",
    help: "HTTP requests answered, by method, route (its path pattern) and status",
    labelNames: ["method", "route", "status"] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: "tierline_http_request_duration_seconds",
    help: "Time to answer an HTTP request, by method, route and status",
    labelNames: ["method", "route", "status"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly idempotencyReplays = new Counter({
    name: "tierline_idempotency_replays_total",
    help: "Write requests answered from a stored answer because their Idempotency-Key was seen before",
    registers: [this.registry],
  });
  readonly keeperRuns = new Counter({
    name: "tierline_keeper_runs_total",
    help: "Keeper passes, by outcome (ok, failed)",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });
  readonly webhookAttempts = new Counter({
    name: "tierline_webhook_attempts_total",
    help: "Webhook delivery attempts, by outcome (delivered; retrying: failed, tried again later; gave_up: failed, attempts exhausted)",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });
  readonly keeperBacklog = new Gauge({
    name: "tierline_keeper_backlog",
    help: "Receivables the last keeper pass found work on (overdue or default marks due, settlement due)",
    registers: [this.registry],
  });

  readonly leader = new Gauge({
    name: "tierline_replica_leader",
    help: "1 when this process leads (runs the keeper, indexer poll and risk monitor), else 0; SQLite: always 1",
    registers: [this.registry],
  });

  constructor() {
    const sources = () => this.#sources;
    new Gauge({
      name: "tierline_indexer_lag_blocks",
      help: "Blocks between the chain head and the last indexed block (negative: the index is ahead of the chain)",
      registers: [this.registry],
      async collect() {
        const s = sources();
        if (!s) return;
        const { latest, indexed } = await s.blocks();
        if (latest !== null) this.set(latest - indexed);
      },
    });
    new Gauge({
      name: "tierline_transactions",
      help: "Transactions the service sent (all replicas: the journal is shared), by kind and journal state (sent = awaiting its receipt, mined, failed, unconfirmed)",
      labelNames: ["kind", "state"] as const,
      registers: [this.registry],
      async collect() {
        const s = sources();
        if (!s) return;
        this.reset();
        for (const row of await s.transactions()) this.set({ kind: row.kind, state: row.state }, row.count);
      },
    });
    new Gauge({
      name: "tierline_registrar_gas_balance_wei",
      help: "The registrar's balance of the chain's native coin, wei (it pays every custodial transaction's gas)",
      registers: [this.registry],
      async collect() {
        const s = sources();
        if (!s) return;
        // A gauge is a double: exact below 2^53 wei, close enough above for an alert.
        this.set(Number(await s.registrarBalance()));
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: "tierline_" });
  }

  /** Called once the chain, the index and the database are up. */
  observe(sources: ScrapeSources): void {
    this.#sources = sources;
  }

  recordRequest(method: string, route: string, status: number, seconds: number): void {
    const labels = { method, route, status: String(status) };
    this.httpRequests.inc(labels);
    this.httpDuration.observe(labels, seconds);
  }

  recordKeeperPass(outcome: "ok" | "failed", error?: string): void {
    this.keeperRuns.inc({ outcome });
    this.keeper.lastPassAt = new Date().toISOString();
    this.keeper.lastError = error ?? null;
  }

  /** The Prometheus text exposition format. */
  async scrape(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}
