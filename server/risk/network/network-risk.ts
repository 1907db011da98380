// Use cases for the credit network: the risk hubs (betweenness and exposure) and a stress
// run (who loses what if these parties default, and who falls next). Operators, auditors
// and financiers read the whole network; amounts are decimal strings in JSON.
import { z } from "zod";
import type { ServiceContext } from "../../context.js";
import type { Db } from "../../store/database.js";
import { AppError } from "../../model/errors.js";
import { requireRole, type Actor } from "../../model/actor.js";
import { AmountString, toAmount } from "../../model/money.js";
import { PartyRefSchema, type PartyRef } from "../../model/party-refs.js";
import { loadCreditNetwork, type CreditExposure, type CreditGraph, type CreditNetwork } from "./build-graph.js";
import { runStressReading, type OpenRecourseClaim, type StressResult } from "./contagion.js";
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
        bearer: PartyRefSchema.meta({
          description:
            "Who bears the loss at the end: the holder, or the nearest endorser with recourse that did not default (issue 16)",
        }),
        guarantors: z.array(PartyRefSchema).meta({
          description:
            "Endorsers that guarantee the piece to its holder, nearest first (empty: passed without recourse)",
        }),
      }),
    ),
    recourseClaims: z
      .array(
        z.object({
          claimId: z.string(),
          leafId: z.string(),
          creditor: PartyRefSchema,
          guarantor: PartyRefSchema,
          amount: Amount,
          loss: Amount.meta({ description: "ceil(amount × (1 - recoveryRate)): the creditor's loss" }),
          round: z.number(),
        }),
      )
      .meta({ description: "Open recourse claims on-chain whose guarantor defaults in the stress" }),
    parties: z.array(
      PartyRefSchema.extend({
        claims: Amount.meta({ description: "Outstanding certificates it holds, and open recourse claims it holds" }),
        payables: Amount.meta({
          description: "Outstanding certificates on it, and open recourse claims on it as a guarantor",
        }),
        capital: Amount.meta({ description: "The outside capital the request gave it, 0 if none" }),
        buffer: Amount.meta({ description: "capital + claims - payables before the stress" }),
        loss: Amount,
        remaining: Amount.meta({ description: "buffer - loss; below zero after a loss: defaults in the next round" }),
        recourseLoss: Amount.meta({
          description: "The part of loss charged to it as the endorser of pieces it passed with recourse",
        }),
        passedOn: Amount.meta({
          description: "Guarantees it could not honour because it defaulted: moved to the next endorser above",
        }),
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
  const { exposures, openClaims, takenOver } = await withOpenRecourseClaims(ctx.db, network.exposures);
  const result = await stressWithRecourse(ctx.db, exposures, takenOver, (guarantorsOf, beforeRound) =>
    runStressReading(
      exposures,
      [...new Set(body.defaulted)].map((id) => addressOf.get(id)!),
      body.recoveryRate,
      { capitalOf: (address) => capital.get(address) ?? 0n, guarantorsOf, openClaims },
      beforeRound,
    ),
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
      bearer: ref(c.bearer),
      guarantors: c.guarantors.map(ref),
    })),
    recourseClaims: result.recourseClaims.map((c) => ({
      claimId: c.claimId,
      leafId: c.leafId,
      creditor: ref(c.creditor),
      guarantor: ref(c.guarantor),
      amount: c.amount.toString(),
      loss: c.loss.toString(),
      round: c.round,
    })),
    parties: result.parties.map((p) => ({
      ...ref(p.address),
      claims: p.claims.toString(),
      payables: p.payables.toString(),
      capital: p.capital.toString(),
      buffer: p.buffer.toString(),
      loss: p.loss.toString(),
      remaining: p.remaining.toString(),
      recourseLoss: p.recourseLoss.toString(),
      passedOn: p.passedOn.toString(),
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

// --- recourse (issue 16) -------------------------------------------------------------------

/** Receivable ids per query: well below SQLite's bound on parameters. */
const CHUNK = 500;

/**
 * The open recourse claims (read through their status index), and the leaves with an open
 * default claim moved to their guarantor: it receives the leaf when it pays, so the creditor's
 * claim is on the guarantor now and the leaf's debtor risk is the guarantor's.
 */
export async function withOpenRecourseClaims(
  db: Db,
  exposures: CreditExposure[],
): Promise<{ exposures: CreditExposure[]; openClaims: OpenRecourseClaim[]; takenOver: Map<string, string> }> {
  const rows = await db
    .selectFrom("onchain_recourse_claims")
    .select(["id", "leaf_id", "kind", "creditor", "guarantor", "amount"])
    .where("status", "=", "open")
    .execute();
  const openClaims = rows
    .map((r) => ({
      claimId: r.id,
      leafId: r.leaf_id,
      creditor: r.creditor,
      guarantor: r.guarantor,
      amount: BigInt(r.amount),
    }))
    .sort((a, b) => compareIds(a.claimId, b.claimId));
  const takenOver = new Map(rows.filter((r) => r.kind === "default").map((r) => [r.leaf_id, r.guarantor]));
  if (takenOver.size === 0) return { exposures, openClaims, takenOver };
  return {
    exposures: exposures.map((e) =>
      takenOver.has(e.certificateId) ? { ...e, holder: takenOver.get(e.certificateId)! } : e,
    ),
    openClaims,
    takenOver,
  };
}

const compareIds = (a: string, b: string) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0);

/**
 * Runs the stress with each piece's endorsers, read only for the receivables whose debtor
 * defaults in it: before each round, the endorsements of the receivables about to lose that
 * were not read yet (by receivable id: certificates_by_receivable, then the endorsements' key).
 */
async function stressWithRecourse(
  db: Db,
  exposures: readonly CreditExposure[],
  takenOver: ReadonlyMap<string, string>,
  run: (
    guarantorsOf: (exposure: CreditExposure) => readonly string[],
    beforeRound: (due: readonly CreditExposure[]) => Promise<void>,
  ) => Promise<StressResult>,
): Promise<StressResult> {
  const chains = new Map<string, string[]>();
  const read = new Set<string>();
  const onReceivable = new Map<string, CreditExposure[]>();
  for (const exposure of exposures) {
    const list = onReceivable.get(exposure.receivableId);
    if (list) list.push(exposure);
    else onReceivable.set(exposure.receivableId, [exposure]);
  }
  return run(
    (exposure) => chains.get(exposure.certificateId) ?? [],
    async (due) => {
      const unread = [...new Set(due.map((e) => e.receivableId))].filter((id) => !read.has(id));
      for (let i = 0; i < unread.length; i += CHUNK) {
        const batch = unread.slice(i, i + CHUNK);
        for (const id of batch) read.add(id);
        const pieces = batch.flatMap((id) => onReceivable.get(id) ?? []);
        await readChains(db, batch, pieces, takenOver, chains);
      }
    },
  );
}

/** Fills `chains` with the endorsers of `exposures` (pieces of `receivableIds`), nearest first. */
export async function readChains(
  db: Db,
  receivableIds: string[],
  exposures: readonly CreditExposure[],
  takenOver: ReadonlyMap<string, string>,
  chains: Map<string, string[]>,
): Promise<void> {
  const endorsements = await db
    .selectFrom("onchain_certificates as c")
    .innerJoin("onchain_recourse_endorsements as e", "e.certificate_id", "c.id")
    .select(["c.receivable_id", "e.certificate_id", "e.endorsement_index", "e.endorser"])
    .where("c.receivable_id", "in", receivableIds)
    .execute();
  if (endorsements.length === 0) return;
  const endorsed = [...new Set(endorsements.map((e) => e.receivable_id))];
  const tree = await db
    .selectFrom("onchain_certificates")
    .select(["id", "parent_id"])
    .where("receivable_id", "in", endorsed)
    .execute();
  const parentOf = new Map(tree.map((c) => [c.id, c.parent_id]));
  const endorsersOf = new Map<string, { index: number; endorser: string }[]>();
  for (const e of endorsements) {
    const list = endorsersOf.get(e.certificate_id) ?? [];
    list.push({ index: Number(e.endorsement_index), endorser: e.endorser });
    endorsersOf.set(e.certificate_id, list);
  }
  for (const list of endorsersOf.values()) list.sort((a, b) => b.index - a.index); // latest first
  const wanted = new Set(endorsed);
  for (const exposure of exposures) {
    if (!wanted.has(exposure.receivableId)) continue;
    // The chain's rule: endorsements on the leaf's lineage, latest first, then up through its ancestors.
    const lineage: string[] = [];
    for (let at: string | null | undefined = exposure.certificateId; at; at = parentOf.get(at)) {
      for (const { endorser } of endorsersOf.get(at) ?? []) if (!lineage.includes(endorser)) lineage.push(endorser);
    }
    // A leaf under an open default claim is its guarantor's now: only endorsers above it remain.
    const guarantor = takenOver.get(exposure.certificateId);
    const above = guarantor === undefined ? lineage : lineage.slice(lineage.indexOf(guarantor) + 1);
    chains.set(
      exposure.certificateId,
      above.filter((endorser) => endorser !== exposure.holder),
    );
  }
}
