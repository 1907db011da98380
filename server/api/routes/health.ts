// GET /health (readiness, in full), /health/live, /health/ready, /metrics, /v1/platform:
// what an operator's probes, dashboards and an integrator's first call read. No key needed.
// With several replicas on PostgreSQL each answers for itself: its own chain connection,
// the shared database and index cursor, and whether it is the leader (which runs the keeper).
import { readdirSync, lstatSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { platformInfo, readiness } from "../../domain/platform.js";
import { defineRoute, type RouteSpec } from "../route-spec.js";
import { engineOf } from "../../store/database.js";

const IndexerSchema = z.object({
  indexedBlock: z.number(),
  lagBlocks: z.number().nullable().describe("latest block minus indexed block; negative when the index is ahead"),
  aheadOfChain: z.boolean().describe("the index holds blocks the chain does not have: not ready"),
  lastError: z.string().nullable(),
});
const KeeperSchema = z.object({
  enabled: z.boolean().describe("the keeper runs in this process (configured on, and this replica leads)"),
  lastPassAt: z.string().nullable(),
  lastError: z.string().nullable(),
});

const ReplicaSchema = z
  .object({
    instanceId: z.string(),
    leader: z.boolean(),
  })
  .meta({
    description:
      "This process among the replicas; the leader runs the keeper, indexer poll and risk monitor (SQLite: always the leader)",
  });

const HealthSchema = z
  .object({
    status: z.enum(["ok", "degraded"]),
    problems: z.array(z.string()),
    chain: z.object({
      ok: z.boolean(),
      chainId: z.string(),
      latestBlock: z.number().nullable(),
      indexedBlock: z.number(),
      error: z.string().optional(),
    }),
    indexer: IndexerSchema,
    keeper: KeeperSchema,
    contracts: z.record(z.string(), z.string()),
    deploymentBlock: z.number(),
    database: z.object({ ok: z.boolean(), engine: z.enum(["sqlite", "postgres"]) }),
    replica: ReplicaSchema,
    dataDirectory: z.object({
      bytes: z.number().meta({ description: "Total size of the data directory (database, chain state, keys)" }),
    }),
  })
  .meta({ id: "Health" });

const ReadinessSchema = z
  .object({
    status: z.enum(["ready", "not_ready"]),
    problems: z.array(z.string()),
    chain: z.object({ ok: z.boolean(), latestBlock: z.number().nullable() }),
    indexer: IndexerSchema,
    keeper: KeeperSchema,
    database: z.object({ ok: z.boolean() }),
    replica: ReplicaSchema,
  })
  .meta({ id: "Readiness" });

const PlatformSchema = z
  .object({
    version: z.string(),
    settlement: z.object({
      currency: z.string().describe("the currency code receivables are denominated in"),
      token: z.string().describe("the settlement token's address"),
      symbol: z.string(),
      decimals: z.number().int().describe("amounts are integers of 10^-decimals of the currency"),
      localTestToken: z.boolean().describe("the local chain's test token, which the operator can mint"),
    }),
    chain: z.object({
      chainId: z.string(),
      deploymentBlock: z.number(),
      contracts: z.record(z.string(), z.string()),
    }),
  })
  .meta({ id: "Platform" });

/** Bytes under `dir` (files only; a directory that vanished counts 0). */
export function directorySize(dir: string): number {
  let total = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    const file = path.join(dir, name);
    try {
      const stat = lstatSync(file);
      if (stat.isDirectory()) total += directorySize(file);
      else if (stat.isFile()) total += stat.size;
    } catch {
      /* removed while counting */
    }
  }
  return total;
}

export const healthRoutes: RouteSpec[] = [
  defineRoute({
    method: "get",
    path: "/health",
    operationId: "getHealth",
    tag: "operations",
    summary: "Readiness in full: chain, index (lag, ahead of the chain), keeper, database, contracts",
    auth: false,
    responses: {
      200: { description: "all is well", schema: HealthSchema },
      503: { description: "chain or database down, or the index ahead of the chain", schema: HealthSchema },
    },
    errors: [],
  }).handle(async (ctx) => {
    const r = await readiness(ctx);
    return {
      status: r.ready ? 200 : 503,
      body: {
        status: r.ready ? "ok" : "degraded",
        problems: r.problems,
        chain: { ...r.chain, indexedBlock: r.indexer.indexedBlock },
        indexer: r.indexer,
        keeper: r.keeper,
        contracts: { ...ctx.chain.deployment.addresses },
        deploymentBlock: ctx.chain.deployment.deploymentBlock,
        database: { ...r.database, engine: engineOf(ctx.db) },
        replica: r.replica,
        dataDirectory: { bytes: directorySize(ctx.config.dataDir) },
      },
    };
  }),
  defineRoute({
    method: "get",
    path: "/health/live",
    operationId: "getLiveness",
    tag: "operations",
    summary: "Liveness: the process answers (restart it if not)",
    auth: false,
    responses: { 200: { description: "alive", schema: z.object({ status: z.literal("alive") }) } },
    errors: [],
  }).handle(async () => ({ status: 200, body: { status: "alive" } })),
  defineRoute({
    method: "get",
    path: "/health/ready",
    operationId: "getReadiness",
    tag: "operations",
    summary: "Readiness: send traffic here? (chain answers, database answers, index not ahead of the chain)",
    auth: false,
    responses: {
      200: { description: "ready", schema: ReadinessSchema },
      503: { description: "not ready; `problems` says why", schema: ReadinessSchema },
    },
    errors: [],
  }).handle(async (ctx) => {
    const r = await readiness(ctx);
    return {
      status: r.ready ? 200 : 503,
      body: {
        status: r.ready ? "ready" : "not_ready",
        problems: r.problems,
        chain: { ok: r.chain.ok, latestBlock: r.chain.latestBlock },
        indexer: r.indexer,
        keeper: r.keeper,
        database: r.database,
        replica: r.replica,
      },
    };
  }),
  defineRoute({
    method: "get",
    path: "/metrics",
    operationId: "getMetrics",
    tag: "operations",
    summary: "Prometheus metrics: requests by route and status, transactions by kind, indexer lag, keeper, gas",
    auth: false,
    responses: {
      200: {
        description: "the Prometheus text exposition format (version 0.0.4)",
        schema: z.string().describe("the Prometheus text exposition format"),
        text: ["text/plain"],
      },
    },
    errors: [],
  }).handle(async (ctx) => {
    const { contentType, text } = await ctx.telemetry.scrape();
    return { status: 200, body: text, contentType };
  }),
  defineRoute({
    method: "get",
    path: "/v1/platform",
    operationId: "getPlatform",
    tag: "operations",
    summary: "Settlement currency and decimals, chain id and contracts, version",
    auth: false,
    responses: { 200: { description: "the platform", schema: PlatformSchema } },
    errors: [],
  }).handle(async (ctx) => ({ status: 200, body: await platformInfo(ctx) })),
];
