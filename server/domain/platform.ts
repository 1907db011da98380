// What an integrator needs before its first call: the settlement currency and its decimals,
// the chain and the contracts, the service's version; and the service's own health, split
// into liveness (the process answers) and readiness (chain, index, keeper, database).
import { readFileSync } from "node:fs";
import { sql } from "kysely";
import type { ServiceContext } from "../context.js";
import { clusterOf } from "../store/cluster.js";

const VERSION = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
).version;

export interface PlatformInfo {
  version: string;
  settlement: { currency: string; token: string; symbol: string; decimals: number; localTestToken: boolean };
  chain: { chainId: string; deploymentBlock: number; contracts: Record<string, string> };
}

const tokenFacts = new WeakMap<object, { symbol: string; decimals: number }>();

export async function platformInfo(ctx: ServiceContext): Promise<PlatformInfo> {
  const { deployment, contracts } = ctx.chain;
  // The token's symbol and decimals never change: read once per deployment.
  let facts = tokenFacts.get(deployment);
  if (!facts) {
    facts = { symbol: await contracts.token.symbol(), decimals: Number(await contracts.token.decimals()) };
    tokenFacts.set(deployment, facts);
  }
  return {
    version: VERSION,
    settlement: {
      currency: ctx.config.TIERLINE_CURRENCY,
      token: deployment.addresses.settlementToken,
      symbol: facts.symbol,
      decimals: facts.decimals,
      localTestToken: deployment.localToken,
    },
    chain: {
      chainId: deployment.chainId,
      deploymentBlock: deployment.deploymentBlock,
      contracts: { ...deployment.addresses },
    },
  };
}

export interface Readiness {
  ready: boolean;
  /** Why not ready, one line each. */
  problems: string[];
  chain: { ok: boolean; chainId: string; latestBlock: number | null; error?: string };
  indexer: {
    indexedBlock: number;
    lagBlocks: number | null;
    /** The index has blocks the chain does not: it was built from another chain, or the chain lost blocks. */
    aheadOfChain: boolean;
    lastError: string | null;
  };
  keeper: { enabled: boolean; lastPassAt: string | null; lastError: string | null };
  database: { ok: boolean };
  /** This process among the replicas (PostgreSQL); on SQLite the one process, always the leader. */
  replica: { instanceId: string; leader: boolean };
}

export async function readiness(ctx: ServiceContext): Promise<Readiness> {
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
  const indexedBlock = databaseOk ? await ctx.indexer.indexedBlock() : -1;
  const aheadOfChain = latestBlock !== null && indexedBlock > latestBlock;
  const problems = [
    ...(latestBlock === null ? [`the chain does not answer: ${chainError ?? "no answer"}`] : []),
    ...(databaseOk ? [] : ["the database does not answer"]),
    ...(aheadOfChain
      ? [`the index is ahead of the chain (indexed block ${indexedBlock} > latest block ${latestBlock})`]
      : []),
    ...(ctx.indexer.recoveringFromReorg ? [ctx.indexer.recoveringFromReorg] : []),
  ];
  return {
    ready: problems.length === 0,
    problems,
    chain: {
      ok: latestBlock !== null,
      chainId: ctx.chain.deployment.chainId,
      latestBlock,
      ...(chainError ? { error: chainError } : {}),
    },
    indexer: {
      indexedBlock,
      lagBlocks: latestBlock === null ? null : latestBlock - indexedBlock,
      aheadOfChain,
      lastError: ctx.indexer.lastError ?? null,
    },
    keeper: { ...ctx.telemetry.keeper },
    database: { ok: databaseOk },
    replica: { instanceId: clusterOf(ctx.db).instanceId, leader: clusterOf(ctx.db).isLeader },
  };
}
