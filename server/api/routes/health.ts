// GET /health: is the chain reachable, which contracts, is the database answering.
import { readdirSync, lstatSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { sql } from "kysely";
import { defineRoute, type RouteSpec } from "../route-spec.js";
import { engineOf } from "../../store/database.js";
import { clusterOf } from "../../store/cluster.js";

const HealthSchema = z
  .object({
    status: z.enum(["ok", "degraded"]),
    chain: z.object({
      ok: z.boolean(),
      chainId: z.string(),
      latestBlock: z.number().nullable(),
      indexedBlock: z.number(),
      error: z.string().optional(),
    }),
    contracts: z.record(z.string(), z.string()),
    deploymentBlock: z.number(),
    database: z.object({ ok: z.boolean(), engine: z.enum(["sqlite", "postgres"]) }),
    replica: z
      .object({
        instanceId: z.string(),
        leader: z.boolean(),
      })
      .meta({
        description: "This process among the replicas; the leader runs the keeper, indexer poll and risk monitor",
      }),
    dataDirectory: z.object({
      bytes: z.number().meta({ description: "Total size of the data directory (database, chain state, keys)" }),
    }),
  })
  .meta({ id: "Health" });

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
    summary: "Chain id, latest and indexed block, contract addresses, database status",
    auth: false,
    responses: {
      200: { description: "all is well", schema: HealthSchema },
      503: { description: "chain or database down", schema: HealthSchema },
    },
    errors: [],
  }).handle(async (ctx) => {
    let latestBlock: number | null = null;
    let chainError: string | undefined;
    try {
      latestBlock = await ctx.chain.provider.getBlockNumber();
    } catch (error) {
      chainError = (error as Error).message.slice(0, 200);
    }
    let databaseOk = true;
    try {
      await sql`select 1`.execute(ctx.db);
    } catch {
      databaseOk = false;
    }
    const ok = latestBlock !== null && databaseOk;
    return {
      status: ok ? 200 : 503,
      body: {
        status: ok ? "ok" : "degraded",
        chain: {
          ok: latestBlock !== null,
          chainId: ctx.chain.deployment.chainId,
          latestBlock,
          indexedBlock: await ctx.indexer.indexedBlock(),
          ...(chainError ? { error: chainError } : {}),
        },
        contracts: { ...ctx.chain.deployment.addresses },
        deploymentBlock: ctx.chain.deployment.deploymentBlock,
        database: { ok: databaseOk, engine: engineOf(ctx.db) },
        replica: { instanceId: clusterOf(ctx.db).instanceId, leader: clusterOf(ctx.db).isLeader },
        dataDirectory: { bytes: directorySize(ctx.config.dataDir) },
      },
    };
  }),
];
