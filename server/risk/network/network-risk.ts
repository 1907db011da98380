// Use cases for the credit network: the risk hubs (betweenness and exposure) and a stress
// run (who loses what if these parties default, and who falls next). Operators, auditors
// and financiers read the whole network; amounts are decimal strings in JSON.
import { z } from "zod";
import type { ServiceContext } from "../../context.js";
import type { Db } from "../../store/database.js";
import { AppError } from "../../errors.js";
import { requireRole, type Actor } from "../../domain/actor.js";
import { AmountString, toAmount } from "../../domain/money.js";
import { PartyRefSchema, type PartyRef } from "../../domain/audit/party-refs.js";
import { loadCreditNetwork, type CreditGraph, type CreditNetwork } from "./build-graph.js";
import { runStress } from "./contagion.js";
import { rankHubs, type Hubs } from "./hubs.js";

const READERS = ["operator", "auditor", "financier"] as const;
/** Hubs are ranked once per index state up to this many; `top` slices it. */
export const MAX_TOP = 100;
/** At most this many parties in a stress run's `defaulted` and in its `capital`. */
export const MAX_STRESS_PARTIES = 1_000;

// --- schemas -------------------------------------------------------------------------------

export const HubsQuerySchema = z.object({
  top: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_TOP)
    .default(10)
    .meta({ description: "How many parties per ranking (1-100, default 10)" }),
});

export const StressBodySchema = z
  .object({
    defaulted: z
      .array(z.string().min(1).max(64))
      .min(1)
      .max(MAX_STRESS_PARTIES)
      .meta({ description: "Party ids that default first" }),
    recoveryRate: z
      .number()
      .min(0)
      .max(1)
      .meta({ description: "Share of what a defaulted party owes that its creditors still recover, 0..1" }),
    capital: z
      .record(z.string().min(1).max(64), AmountString)
      .refine(
        (capital) => Object.keys(capital).length <= MAX_STRESS_PARTIES,
        `at most ${MAX_STRESS_PARTIES.toLocaleString("en-US")} parties`,
      )
      .optional()
      .meta({
        description:
          "Outside capital per party id, in minor units (at most 1,000 parties; 0 for a party left out): a party's buffer is capital + what it is owed - what it owes",
        example: { pty_example: "25000000" },
      }),
  })
  .strict()
  .meta({ id: "StressRequest" });

const Amount = z.string();

export const HubsSchema = z
  .object({
    nodes: z.number(),
    edges: z.number(),
    method: z.enum(["exact", "sampled"]),
    samples: z.number().optional().meta({ description: "Sources sampled (sampled method only)" }),
    errorBound: z
      .object({ method: z.literal("hoeffding-union"), epsilon: z.number(), confidence: z.number() })
      .optional()
      .meta({
        description: "With this confidence every node's normalized betweenness is within epsilon of the exact value",
      }),
    byBetweenness: z.array(
      PartyRefSchema.extend({
        betweenness: z.number().meta({
          description: "Normalized betweenness, 0..1: share of ordered pairs' shortest credit paths through the party",
        }),
        pairs: z.number().meta({ description: "The same as a count of ordered pairs (normalized × (n-1)(n-2))" }),
        standardError: z.number().optional().meta({
          description:
            "Sampled only: standard error of this estimate (sample variance over the sources, finite-population corrected)",
        }),
      }),
    ),
    byExposure: z.array(
      PartyRefSchema.extend({
        owes: Amount.meta({ description: "Outstanding credit others hold on it: what its default puts at risk" }),
        owed: Amount.meta({ description: "Outstanding credit it holds on others" }),
        creditors: z.number(),
        debtors: z.number(),
      }),
    ),
  })
  .meta({ id: "NetworkHubs" });

export const StressSchema = z
  .object({
    recoveryRate: z.number(),
    defaulted: z.array(PartyRefSchema).meta({ description: "Every party that defaults, in order of rounds" }),
    rounds: z.array(
      z.object({ round: z.number(), defaulting: z.array(PartyRefSchema), certificates: z.number(), loss: Amount }),
    ),
    certificates: z.array(
      z.object({
        certificateId: z.string(),
        tier: z.number(),
        holder: PartyRefSchema,
        debtor: PartyRefSchema,
        receivableId: z.string(),
        outstanding: Amount,
        loss: Amount,
        round: z.number(),
        pledgedTo: PartyRefSchema.nullable().meta({
          description: "A pledgee is paid first out of what is recovered; the loss stays the holder's",
        }),
      }),
    ),
    parties: z.array(
      PartyRefSchema.extend({
        claims: Amount,
        payables: Amount,
        capital: Amount.meta({ description: "The outside capital the request gave it, 0 if none" }),
        buffer: Amount.meta({ description: "capital + claims - payables before the stress" }),
        loss: Amount,
        remaining: Amount.meta({ description: "buffer - loss; below zero after a loss: defaults in the next round" }),
        defaultedInRound: z.number().nullable(),
      }),
    ),
    byTier: z.array(z.object({ tier: z.number(), certificates: z.number(), outstanding: Amount, loss: Amount })),
    totalLoss: Amount,
  })
  .meta({ id: "StressResult" });

export type HubsView = z.infer<typeof HubsSchema>;
export type StressView = z.infer<typeof StressSchema>;

// --- hubs ------------------------------------------------------------------------------------

/**
 * Betweenness at 100k parties costs seconds, so the ranking is kept per database and
 * recomputed only when the index has new events.
 */
const hubsCache = new WeakMap<Db, { stamp: string; hubs: Hubs }>();

async function indexStamp(db: Db): Promise<string> {
  const row = await db
    .selectFrom("chain_events")
    .select((eb) => [eb.fn.countAll<number>().as("events"), eb.fn.max("block_number").as("block")])
    .executeTakeFirst();
  return `${row?.events ?? 0}:${row?.block ?? -1}`;
}

export async function networkHubs(ctx: ServiceContext, actor: Actor, top: number): Promise<HubsView> {
  requireRole(actor, ...READERS);
  const stamp = await indexStamp(ctx.db);
  let cached = hubsCache.get(ctx.db);
  if (!cached || cached.stamp !== stamp) {
    const { graph } = await loadCreditNetwork(ctx.db);
    const started = performance.now();
    cached = { stamp, hubs: rankHubs(graph, MAX_TOP) };
    hubsCache.set(ctx.db, cached);
    ctx.log.info(
      {
        nodes: graph.order,
        edges: graph.size,
        method: cached.hubs.method,
        ms: Math.round(performance.now() - started),
      },
      "network hubs ranked",
    );
  }
  const { hubs } = cached;
  return {
    ...hubs,
    byBetweenness: hubs.byBetweenness.slice(0, top),
    byExposure: hubs.byExposure.slice(0, top).map((h) => ({ ...h, owes: h.owes.toString(), owed: h.owed.toString() })),
  };
}

// --- stress ----------------------------------------------------------------------------------

export async function stressNetwork(
  ctx: ServiceContext,
  actor: Actor,
  body: z.infer<typeof StressBodySchema>,
): Promise<StressView> {
  requireRole(actor, ...READERS);
  const capitalById = Object.entries(body.capital ?? {});
  const ids = [...new Set([...body.defaulted, ...capitalById.map(([id]) => id)])];
  const found = await ctx.db.selectFrom("parties").select(["id", "address"]).where("id", "in", ids).execute();
  const addressOf = new Map(found.map((p) => [p.id, p.address]));
  const unknown = ids.filter((id) => !addressOf.has(id));
  if (unknown.length > 0)
    throw new AppError("NOT_FOUND", 404, `party ${unknown.join(", ")} does not exist`, { parties: unknown });

  const capital = new Map(capitalById.map(([id, amount]) => [addressOf.get(id)!, toAmount(amount)]));
  const network = await loadCreditNetwork(ctx.db);
  const result = runStress(
    network.exposures,
    [...new Set(body.defaulted)].map((id) => addressOf.get(id)!),
    body.recoveryRate,
    { capitalOf: (address) => capital.get(address) ?? 0n },
  );
  const ref = refsOf(network.graph);
  const pledges = await pledgeesOf(ctx.db, network);

  return {
    recoveryRate: body.recoveryRate,
    defaulted: result.defaulted.map(ref),
    rounds: result.rounds.map((r) => ({
      round: r.round,
      defaulting: r.defaulting.map(ref),
      certificates: r.certificates,
      loss: r.loss.toString(),
    })),
    certificates: result.certificates.map((c) => ({
      certificateId: c.certificateId,
      tier: c.tier,
      holder: ref(c.holder),
      debtor: ref(c.debtor),
      receivableId: c.receivableId,
      outstanding: c.outstanding.toString(),
      loss: c.loss.toString(),
      round: c.round,
      pledgedTo: pledges.has(c.certificateId) ? ref(pledges.get(c.certificateId)!) : null,
    })),
    parties: result.parties.map((p) => ({
      ...ref(p.address),
      claims: p.claims.toString(),
      payables: p.payables.toString(),
      capital: p.capital.toString(),
      buffer: p.buffer.toString(),
      loss: p.loss.toString(),
      remaining: p.remaining.toString(),
      defaultedInRound: p.defaultedInRound,
    })),
    byTier: result.byTier.map((t) => ({
      tier: t.tier,
      certificates: t.certificates,
      outstanding: t.outstanding.toString(),
      loss: t.loss.toString(),
    })),
    totalLoss: result.totalLoss.toString(),
  };
}

function refsOf(graph: CreditGraph): (address: string) => PartyRef {
  return (address) => {
    if (!graph.hasNode(address)) return { address, partyId: null, name: null };
    const { partyId, name } = graph.getNodeAttributes(address);
    return { address, partyId, name };
  };
}

/** Locked certificates under a live pledge, and their pledgee. */
async function pledgeesOf(db: Db, network: CreditNetwork): Promise<Map<string, string>> {
  if (!network.exposures.length) return new Map();
  const rows = await db
    .selectFrom("onchain_financing_requests")
    .select(["certificate_id", "financier"])
    .where("status", "=", "pledged")
    .execute();
  return new Map(rows.filter((r) => r.financier !== null).map((r) => [r.certificate_id, r.financier!]));
}
