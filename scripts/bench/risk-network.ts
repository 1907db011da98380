// Network-risk benchmark: the risk hubs of a synthetic multi-tier supply chain of 100,000
// parties (time and memory), and how far the sampled betweenness strays from the exact
// one on a 5,000-node chain of the same generator. Prints figures and a markdown table;
// it is a measurement, not a test (nothing fails on a slow machine).
//
//   npm run bench:risk               (= tsx scripts/bench/risk-network.ts)
//   BENCH_PARTIES=20000 npm run bench:risk
//
// The generator. Core enterprises at the top (tier 0), suppliers in tiers 1..5 below,
// a few financiers beside. Each supplier sells to 1-4 buyers one tier up, picked by
// preferential attachment (probability ∝ 1 + sales already won), so buyers' in-degrees
// are heavy-tailed (scale-free). Edges are holder -> debtor as in the service:
//   - the supplier holds certificates on each buyer (its own receivables);
//   - 60% of suppliers at tier >= 2 also hold a piece of a buyer's receivable passed
//     down to them, i.e. a claim on the buyer's buyer (a split certificate);
//   - financiers hold certificates bought at a discount, on debtors in tiers 0..3,
//     again preferentially (3% of certificates);
//   - 3% of suppliers in tiers 1..4 also sell one tier down (back trade);
//   - each core enterprise sells materials to a few tier-1/2 suppliers (buy-sell) and so
//     holds claims on them: credit chains that reach a core go on down again, and a
//     source reaches ~10% of the network instead of a handful of ancestors.
// Each edge carries 1-3 certificates; they go through the service's buildCreditGraph.
// A second, layered shape (no buy-sell, 1% back trade) shows the other extreme: credit
// only flows upward, every source reaches few nodes, and the API's budget covers all.
import "../lib/node-version.js";
import os from "node:os";
import v8 from "node:v8";
import vm from "node:vm";
import { createRequire } from "node:module";
import {
  buildCreditGraph,
  type CreditExposure,
  type CreditGraph,
  type PartyRef,
} from "../../server/risk/network/build-graph.js";
import {
  accumulateDependencies,
  compact,
  betweenness,
  DEFAULT_WORK_BUDGET,
  estimateBetweenness,
  exactBetweenness,
  hoeffdingEpsilon,
  mulberry32,
  pickSources,
  sampledBetweenness,
} from "../../server/risk/network/centrality.js";
import { rankHubs } from "../../server/risk/network/hubs.js";

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

const LARGE = Number(process.env.BENCH_PARTIES ?? 100_000);
const SMALL = 5_000;
const SEEDS = [11, 22, 33, 44, 55];
const KS = [32, 64, 128, 256, 512, 1024];

// --- generator -----------------------------------------------------------------------------

interface SupplyChain {
  parties: PartyRef[];
  exposures: CreditExposure[];
  tierOf: Int8Array; // -1: financier
}

const TIER_SHARES = [0.001, 0.02, 0.06, 0.14, 0.27]; // tiers 0..4; tier 5 takes the rest
const FINANCIER_SHARE = 0.001;

interface Shape {
  /** Core enterprises also sell materials to some tier-1/2 suppliers (buy-sell), so they hold claims too: the chain closes into one big cycle structure. */
  buySell: boolean;
  /** Share of suppliers in tiers 1..4 that also sell one tier down. */
  backTrade: number;
}
const CONNECTED: Shape = { buySell: true, backTrade: 0.03 };
const LAYERED: Shape = { buySell: false, backTrade: 0.01 };

function generateSupplyChain(n: number, seed: number, shape: Shape = CONNECTED): SupplyChain {
  const random = mulberry32(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const address = (i: number) => `0x${i.toString(16).padStart(40, "0")}`;

  const financiers = Math.max(2, Math.round(n * FINANCIER_SHARE));
  const tierOf = new Int8Array(n);
  const members: number[][] = [[], [], [], [], [], []];
  let next = 0;
  for (let i = 0; i < financiers; i++) tierOf[next++] = -1;
  TIER_SHARES.forEach((share, tier) => {
    const count = Math.max(tier === 0 ? 3 : 5, Math.round(n * share));
    for (let i = 0; i < count; i++) {
      tierOf[next] = tier;
      members[tier]!.push(next++);
    }
  });
  while (next < n) {
    tierOf[next] = 5;
    members[5]!.push(next++);
  }
  const parties = Array.from({ length: n }, (_, i) => ({
    partyId: `p${i}`,
    name: tierOf[i] === -1 ? `Financier ${i}` : `T${tierOf[i]} party ${i}`,
    address: address(i),
  }));

  // Preferential attachment: an urn per tier holding each node once plus once per sale won.
  const urns = members.map((list) => [...list]);
  const buyersOf: number[][] = Array.from({ length: n }, () => []);
  const edges: Array<[number, number]> = [];
  const sell = (supplier: number, buyer: number) => {
    edges.push([supplier, buyer]);
    buyersOf[supplier]!.push(buyer);
  };
  for (let tier = 1; tier <= 5; tier++) {
    for (const supplier of members[tier]!) {
      const r = random();
      const m = r < 0.3 ? 1 : r < 0.6 ? 2 : r < 0.8 ? 3 : 4;
      const chosen = new Set<number>();
      for (let i = 0; i < m * 3 && chosen.size < m; i++) chosen.add(pick(urns[tier - 1]!));
      for (const buyer of chosen) {
        sell(supplier, buyer);
        urns[tier - 1]!.push(buyer);
      }
    }
  }
  // Pieces passed down: a claim on a buyer's buyer.
  for (let tier = 2; tier <= 5; tier++) {
    for (const supplier of members[tier]!) {
      if (random() >= 0.6) continue;
      const buyer = pick(buyersOf[supplier]!);
      const upstream = buyersOf[buyer]!;
      if (upstream.length) edges.push([supplier, pick(upstream)]);
    }
  }
  // Back trade one tier down.
  for (let tier = 1; tier <= 4; tier++) {
    for (const supplier of members[tier]!)
      if (random() < shape.backTrade) edges.push([supplier, pick(members[tier + 1]!)]);
  }
  // Buy-sell: each core enterprise holds claims on 2% as many suppliers as tier 1 has, picked preferentially in tiers 1-2.
  if (shape.buySell) {
    const supplierUrn = [...urns[1]!, ...urns[2]!];
    const perCore = Math.max(1, Math.round(members[1]!.length * 0.02));
    for (const core of members[0]!) for (let i = 0; i < perCore; i++) edges.push([core, pick(supplierUrn)]);
  }
  // Financiers' purchases, preferentially on the big debtors of tiers 0..3.
  const debtorUrn = [0, 1, 2, 3].flatMap((tier) => urns[tier]!);
  const purchases = Math.round(edges.length * 0.03);
  for (let i = 0; i < purchases; i++) edges.push([Math.floor(random() * financiers), pick(debtorUrn)]);

  const exposures: CreditExposure[] = [];
  let certificate = 0;
  for (const [holder, debtor] of edges) {
    const pieces = 1 + (random() < 0.3 ? 1 : 0) + (random() < 0.1 ? 1 : 0);
    for (let p = 0; p < pieces; p++) {
      const id = ++certificate;
      const tier = Math.max(1, tierOf[holder] === -1 ? 1 : tierOf[holder]! - tierOf[debtor]!);
      exposures.push({
        certificateId: String(id),
        receivableId: `0x${(id >> 1).toString(16).padStart(64, "0")}`,
        tier,
        holder: address(holder),
        debtor: address(debtor),
        outstanding: BigInt(Math.floor(Math.exp(random() * Math.log(1e4)) * 100_000)), // 0.1 .. 1,000 tUSD-ish, log-uniform
      });
    }
  }
  return { parties, exposures, tierOf };
}

// --- measurements ----------------------------------------------------------------------------

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const ms = (t: number) => (t >= 10_000 ? `${(t / 1000).toFixed(1)} s` : `${t.toFixed(0)} ms`);
const timed = <T>(fn: () => T): [T, number] => {
  const start = performance.now();
  const value = fn();
  return [value, performance.now() - start];
};
const memory = () => {
  gc();
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
};

function inDegreeSummary(graph: CreditGraph): string {
  const degrees = graph.mapNodes((node) => graph.inDegree(node)).sort((a, b) => b - a);
  const positive = degrees.filter((d) => d > 0);
  const at = (q: number) => positive[Math.floor(q * (positive.length - 1))];
  return `in-degree of debtors (${positive.length}): max ${degrees[0]}, top-10 ${degrees.slice(0, 10).join(" ")}; p50 ${at(0.5)}, p90 ${at(0.1)}, p99 ${at(0.01)}`;
}

/** Ranks with ties averaged, for Spearman. */
function ranks(values: number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]);
  const result = new Array<number>(values.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    for (let k = i; k <= j; k++) result[order[k]![1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return result;
}

function spearman(a: number[], b: number[]): number {
  const ra = ranks(a);
  const rb = ranks(b);
  const mean = (ra.length + 1) / 2;
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < ra.length; i++) {
    num += (ra[i]! - mean) * (rb[i]! - mean);
    da += (ra[i]! - mean) ** 2;
    db += (rb[i]! - mean) ** 2;
  }
  return num / Math.sqrt(da * db);
}

const topKeys = (values: Map<string, number>, k: number) =>
  [...values]
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .slice(0, k)
    .map(([key]) => key);

/** Error of an estimate against exact values: max and mean |error|, top-10 overlap, Spearman on the exact top 100. */
function compare(exact: Map<string, number>, estimate: Map<string, number>) {
  let max = 0;
  let sum = 0;
  let maxExact = 0;
  for (const [key, value] of exact) {
    const error = Math.abs(estimate.get(key)! - value);
    max = Math.max(max, error);
    sum += error;
    maxExact = Math.max(maxExact, value);
  }
  const exactTop10 = topKeys(exact, 10);
  const estimateTop10 = new Set(topKeys(estimate, 10));
  const top100 = topKeys(exact, 100);
  return {
    max,
    mean: sum / exact.size,
    maxExact,
    overlap: exactTop10.filter((key) => estimateTop10.has(key)).length,
    rho: spearman(
      top100.map((key) => exact.get(key)!),
      top100.map((key) => estimate.get(key)!),
    ),
  };
}

/** The library's own per-source Brandes (graphology-shortest-path, a graphology-metrics dependency), timed for comparison. */
function libraryBrandesMsPerSource(graph: CreditGraph, sources: Int32Array): number | undefined {
  let lib: {
    createUnweightedIndexedBrandes: (
      g: CreditGraph,
    ) => (i: number) => [{ size: number; pop(): number }, number[][], Uint32Array];
  };
  try {
    lib = createRequire(import.meta.url)("graphology-shortest-path/indexed-brandes");
  } catch {
    return undefined;
  }
  const brandes = lib.createUnweightedIndexedBrandes(graph);
  const delta = new Float64Array(graph.order);
  const [, t] = timed(() => {
    for (const s of sources) {
      const [S, P, sigma] = brandes(s);
      delta.fill(0);
      while (S.size !== 0) {
        const w = S.pop();
        const c = (1 + delta[w]!) / sigma[w]!;
        for (const v of P[w]!) delta[v]! += sigma[v]! * c;
      }
    }
  });
  return t / sources.length;
}

// --- run -------------------------------------------------------------------------------------

const out = (line = "") => console.log(line);
out(`# Network-risk benchmark`);
out(`node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, ${mb(os.totalmem())} RAM`);
out();

// Part 1: the large chain.
out(`## ${LARGE.toLocaleString("en")} parties`);
const before = memory();
const [chain, generateMs] = timed(() => generateSupplyChain(LARGE, 1));
const afterGenerate = memory();
const [graph, buildMs] = timed(() => buildCreditGraph(chain.parties, chain.exposures));
const afterBuild = memory();
out(
  `generated ${chain.exposures.length.toLocaleString("en")} certificates in ${ms(generateMs)} (heap ${mb(before.heap)} → ${mb(afterGenerate.heap)})`,
);
out(
  `graph: ${graph.order.toLocaleString("en")} nodes, ${graph.size.toLocaleString("en")} edges, built by buildCreditGraph in ${ms(buildMs)}; ` +
    `heap ${mb(afterGenerate.heap)} → ${mb(afterBuild.heap)} (the certificates stay referenced), rss ${mb(afterGenerate.rss)} → ${mb(afterBuild.rss)}`,
);
out(inDegreeSummary(graph));
const [csr, compactMs] = timed(() => compact(graph));
out(`typed-array adjacency (CSR) in ${ms(compactMs)}`);
for (const k of [256, 1024, 4096]) {
  const [{ work }, t] = timed(() => accumulateDependencies(csr, pickSources(graph.order, k, 7)));
  out(
    `sampled betweenness, k = ${k}: ${ms(t)} (${(t / k).toFixed(2)} ms per source, ${(work / k / 1000).toFixed(1)} k edge scans per source, ${((t * 1e6) / work).toFixed(1)} ns per scan)`,
  );
}
const [exactLarge, exactLargeMs] = timed(() => estimateBetweenness(csr, graph.order, 7).values);
out(`exact (all ${graph.order.toLocaleString("en")} sources on the typed arrays): ${ms(exactLargeMs)}`);
const libraryPerSource = libraryBrandesMsPerSource(graph, pickSources(graph.order, 16, 7));
if (libraryPerSource !== undefined) {
  out(
    `graphology's indexed Brandes (graphology-shortest-path, the per-source step of graphology-metrics' exact betweenness): ${libraryPerSource.toFixed(2)} ms per source → graphology-metrics exact ≈ ${ms(libraryPerSource * graph.order)} here`,
  );
}
const beforeHubs = memory();
const [hubs, hubsMs] = timed(() => rankHubs(graph, 10));
const afterHubs = memory();
out(
  `hubs as the API computes them (rankHubs: betweenness with the default budget of ${DEFAULT_WORK_BUDGET.toExponential(0)} edge scans, plus exposure ranking): ` +
    `${hubs.method}${hubs.samples ? `, k = ${hubs.samples}` : " (the budget covered every source)"}, ${ms(hubsMs)}; heap ${mb(beforeHubs.heap)} → ${mb(afterHubs.heap)}, rss ${mb(afterHubs.rss)}`,
);
const apiEstimate = betweenness(graph);
const largeError = compare(exactLarge, apiEstimate.values);
out(
  `its error against exact: max |error| ${largeError.max.toExponential(2)} (${((100 * largeError.max) / largeError.maxExact).toFixed(1)}% of the largest value ${largeError.maxExact.toExponential(3)}), ` +
    `mean |error| ${largeError.mean.toExponential(2)}, top-10 overlap ${largeError.overlap}/10, Spearman ρ on the exact top 100 ${largeError.rho.toFixed(3)}`,
);
if (hubs.errorBound)
  out(
    `stated bound: every node within ±${hubs.errorBound.epsilon.toFixed(4)} (normalized) with probability ${hubs.errorBound.confidence} (Hoeffding + union bound)`,
  );
out();
out(
  `| # | exact top 10 | tier | normalized | API (${hubs.method}) top 10 | tier | estimate ± s.e. | by exposure (owes) | tier | owes (tUSD) | creditors |`,
);
out(`| -: | --- | -: | -: | --- | -: | -: | --- | -: | -: | -: |`);
const tierName = (address: string) => {
  const t = chain.tierOf[Number.parseInt(address.slice(2), 16)]!;
  return t === -1 ? "fin" : String(t);
};
const exactTopLarge = topKeys(exactLarge, 10);
for (let i = 0; i < 10; i++) {
  const x = exactTopLarge[i];
  const b = hubs.byBetweenness[i];
  const e = hubs.byExposure[i];
  out(
    `| ${i + 1} | ${x ? graph.getNodeAttribute(x, "name") : ""} | ${x ? tierName(x) : ""} | ${x ? exactLarge.get(x)!.toExponential(3) : ""} ` +
      `| ${b?.name ?? ""} | ${b ? tierName(b.address) : ""} | ${b ? `${b.betweenness.toExponential(3)}${b.standardError !== undefined ? ` ± ${b.standardError.toExponential(1)}` : ""}` : ""} ` +
      `| ${e?.name ?? ""} | ${e ? tierName(e.address) : ""} | ${e ? (e.owes / 1_000_000n).toLocaleString("en") : ""} | ${e?.creditors ?? ""} |`,
  );
}
out();
{
  const layered = generateSupplyChain(LARGE, 1, LAYERED);
  const layeredGraph = buildCreditGraph(layered.parties, layered.exposures);
  const [layeredHubs, layeredMs] = timed(() => rankHubs(layeredGraph, 10));
  out(
    `the same chain without buy-sell claims of the cores (credit flows only upward, 1% back trade): ${layeredGraph.size.toLocaleString("en")} edges; ` +
      `rankHubs ${layeredHubs.method}${layeredHubs.samples ? `, k = ${layeredHubs.samples}` : " (every source fits the budget)"} in ${ms(layeredMs)}`,
  );
}
out();

// Part 2: sampled against exact on the small chain.
out(`## sampled vs exact, ${SMALL.toLocaleString("en")} parties`);
const small = generateSupplyChain(SMALL, 2);
const smallGraph = buildCreditGraph(small.parties, small.exposures);
out(
  `graph: ${smallGraph.order.toLocaleString("en")} nodes, ${smallGraph.size.toLocaleString("en")} edges; ${inDegreeSummary(smallGraph)}`,
);
const [exact, exactMs] = timed(() => exactBetweenness(smallGraph));
out(`exact betweenness (graphology-metrics): ${ms(exactMs)}`);
const [allSources, allMs] = timed(() => sampledBetweenness(smallGraph, smallGraph.order));
let agreement = 0;
for (const [key, value] of exact) agreement = Math.max(agreement, Math.abs(value - allSources.get(key)!));
out(
  `typed-array Brandes over all ${smallGraph.order} sources: ${ms(allMs)}, max |difference| from graphology-metrics ${agreement.toExponential(1)}`,
);
const maxExact = Math.max(...exact.values());
out(
  `largest exact normalized betweenness: ${maxExact.toExponential(3)}; nodes with betweenness > 0: ${[...exact.values()].filter((v) => v > 0).length}`,
);
out();
out(
  `Each k over ${SEEDS.length} seeds: time (mean), max |error| (worst seed), mean |error| (mean over nodes and seeds), max error relative to the largest value, top-10 overlap (worst seed), Spearman ρ on the exact top 100 (worst seed), and the Hoeffding bound (95%).`,
);
out();
out(
  `| k | time | max abs error | mean abs error | max error / max value | top-10 overlap | Spearman top-100 | Hoeffding ε (95%) |`,
);
out(`| -: | -: | -: | -: | -: | -: | -: | -: |`);
for (const k of KS) {
  let time = 0;
  let worstMax = 0;
  let meanSum = 0;
  let worstOverlap = 10;
  let worstRho = 1;
  for (const seed of SEEDS) {
    const [estimate, t] = timed(() => sampledBetweenness(smallGraph, k, seed));
    time += t;
    const error = compare(exact, estimate);
    worstMax = Math.max(worstMax, error.max);
    meanSum += error.mean;
    worstOverlap = Math.min(worstOverlap, error.overlap);
    worstRho = Math.min(worstRho, error.rho);
  }
  out(
    `| ${k} | ${ms(time / SEEDS.length)} | ${worstMax.toExponential(2)} | ${(meanSum / SEEDS.length).toExponential(2)} | ${((100 * worstMax) / maxExact).toFixed(1)}% | ${worstOverlap}/10 | ${worstRho.toFixed(3)} | ${hoeffdingEpsilon(smallGraph.order, k, 0.95).toFixed(3)} |`,
  );
}
out();
out(`peak rss ${mb(process.resourceUsage().maxRSS * 1024)}`);
