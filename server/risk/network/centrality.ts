// Betweenness centrality of the credit network: which parties sit on the shortest credit
// chains between others (a hub through which a default travels).
//
// - Paths follow the edges' direction (holder -> debtor) and count hops: credit amounts
//   rank exposure, not distance (a bigger claim is not a "longer" link).
// - Values are normalized for a directed graph: raw / ((n - 1)(n - 2)), in [0, 1].
// - Small graphs (n <= exactThreshold, 2,000): exact, graphology-metrics'
//   betweennessCentrality (Brandes over every source).
// - Large graphs: graphology-metrics has no sampled variant, and its exact routine resets
//   a predecessor array for every node on every source, so each source costs O(n) even
//   when it reaches few nodes. Measured (`npm run bench:risk`, 100k-party supply chain,
//   this 2-core machine): 2.6-4.1 ms per source in graphology's indexed Brandes (4-7 min
//   for all sources) against 0.26-0.32 ms on typed arrays (≈ 27 s for all). So above the
//   threshold, Brandes' dependency accumulation runs here over a compact out-adjacency
//   built from graphology's neighbour iteration, from k sources drawn uniformly without
//   replacement, scaled by n/k (Brandes & Pich 2007): an unbiased estimate. It matches
//   graphology-metrics to 1e-18 when every node is a source (tested).
// - k follows a work budget (edge scans, default 1e8 ≈ 1-2 s): a pilot of 32 sources
//   measures the cost per source; k = clamp(budget / cost, 256, n), drawn afresh. When the
//   budget covers every source the answer is exact (a layered 100k chain: ≈ 1 s).
//
// Error bound (sampled). For node v and a sampled source s, the normalized contribution
// X_s = n·δ_s(v) / ((n-1)(n-2)) lies in [0, R] with R = n/(n-1), since δ_s(v) <= n-2
// (each target contributes at most 1). The estimate is the mean of k such draws, whose
// expectation is the exact normalized betweenness. Hoeffding's inequality (which holds
// for sampling without replacement, Hoeffding 1963 §6) with a union bound over the n
// nodes gives, with probability at least `confidence`, for every node at once:
//     |estimate - exact| <= epsilon = R · sqrt( ln(2n / (1 - confidence)) / (2k) ).
// That is the stated guarantee; it is worst-case and loose (0.049 at n = 100k, k = 3,200,
// where the error seen against exact was 1.3e-4). Each sampled hub also carries its
// standard error (sample variance of X_s over the k sources, finite-population
// corrected), an estimate rather than a guarantee, which tracks the error actually seen.
import { betweenness as betweennessCentrality } from "graphology-metrics/centrality/index.js";
import type { AbstractGraph as Graph } from "graphology-types";

export const DEFAULT_EXACT_THRESHOLD = 2_000;
export const DEFAULT_MIN_SAMPLES = 256;
/** Edge scans per hubs computation: 8-10 ns each on this 2-core machine (`npm run bench:risk`), so about 1 s. */
export const DEFAULT_WORK_BUDGET = 100_000_000;
const PILOT_SOURCES = 32;
export const DEFAULT_CONFIDENCE = 0.95;
export const DEFAULT_SEED = 0x7e1e;

export interface ErrorBound {
  method: "hoeffding-union";
  /** Largest absolute error of any node's normalized betweenness, at this confidence. */
  epsilon: number;
  confidence: number;
}

export interface BetweennessResult {
  /** exact: every source counted (graphology-metrics up to the threshold, typed arrays above it when the budget allows). */
  method: "exact" | "sampled";
  /** Normalized betweenness per node key. */
  values: Map<string, number>;
  /** Sources used (sampled only). */
  samples?: number;
  errorBound?: ErrorBound;
  /** Per-node standard error of the estimate (sampled only; a CLT estimate, not a guarantee). */
  standardErrors?: Map<string, number>;
}

export interface BetweennessOptions {
  /** Up to this many nodes, graphology-metrics' exact routine runs. */
  exactThreshold?: number;
  /** Above the threshold, at least this many sources are sampled (unless n is smaller). */
  minSamples?: number;
  /**
   * Above the threshold, sample as many sources as this many edge scans allow (Brandes
   * scans each reached edge twice per source). When the budget covers every source, the
   * answer is exact.
   */
  workBudget?: number;
  confidence?: number;
  seed?: number;
}

/**
 * Exact for small graphs; above the threshold, a pilot of 32 sources measures the work per
 * source, k = clamp(workBudget / work per source, minSamples, n) sources are then drawn
 * afresh (independently of the pilot, so k does not bias the estimate), and if k = n the
 * result is exact.
 */
export function betweenness(graph: Graph, options: BetweennessOptions = {}): BetweennessResult {
  const n = graph.order;
  if (n <= (options.exactThreshold ?? DEFAULT_EXACT_THRESHOLD))
    return { method: "exact", values: exactBetweenness(graph) };
  const csr = compact(graph);
  const seed = options.seed ?? DEFAULT_SEED;
  const pilotSize = Math.min(PILOT_SOURCES, n);
  const pilot = accumulateDependencies(csr, pickSources(n, pilotSize, seed ^ 0x5eed));
  const perSource = Math.max(1, pilot.work / pilotSize);
  const affordable = Math.floor((options.workBudget ?? DEFAULT_WORK_BUDGET) / perSource);
  const k = Math.min(n, Math.max(options.minSamples ?? DEFAULT_MIN_SAMPLES, affordable));
  const estimate = estimateBetweenness(csr, k, seed);
  if (k >= n) return { method: "exact", values: estimate.values };
  const confidence = options.confidence ?? DEFAULT_CONFIDENCE;
  return {
    method: "sampled",
    values: estimate.values,
    samples: k,
    errorBound: { method: "hoeffding-union", epsilon: hoeffdingEpsilon(n, k, confidence), confidence },
    standardErrors: estimate.standardErrors,
  };
}

/** graphology-metrics' exact Brandes, unweighted (hops), normalized. */
export function exactBetweenness(graph: Graph): Map<string, number> {
  assertDirectedSimple(graph);
  const result = betweennessCentrality(graph, { getEdgeWeight: null, normalized: true });
  return new Map(Object.entries(result));
}

/**
 * epsilon such that every node's sampled normalized betweenness is within epsilon of
 * the exact one with probability >= confidence (Hoeffding + union bound over n nodes).
 * Zero when every source is used (the estimate is then exact).
 */
export function hoeffdingEpsilon(n: number, samples: number, confidence: number): number {
  if (n <= 2 || samples >= n) return 0;
  const range = n / (n - 1);
  return range * Math.sqrt(Math.log((2 * n) / (1 - confidence)) / (2 * samples));
}

/** The graph as compressed out-adjacency (CSR) over node indices in graph.nodes() order. */
export interface CompactGraph {
  keys: string[];
  offsets: Int32Array;
  targets: Int32Array;
}

export function compact(graph: Graph): CompactGraph {
  assertDirectedSimple(graph);
  const keys = graph.nodes();
  const index = new Map<string, number>();
  keys.forEach((key, i) => index.set(key, i));
  const offsets = new Int32Array(keys.length + 1);
  const targets = new Int32Array(graph.size);
  let p = 0;
  for (let i = 0; i < keys.length; i++) {
    offsets[i] = p;
    graph.forEachOutNeighbor(keys[i]!, (neighbour) => {
      targets[p++] = index.get(neighbour)!;
    });
  }
  offsets[keys.length] = p;
  return { keys, offsets, targets };
}

/**
 * Sampled betweenness: Brandes' single-source dependencies from `samples` distinct
 * sources drawn with a seeded generator, summed, scaled by n/k, normalized. With
 * samples >= n every node is a source and the result is the exact betweenness.
 */
export function sampledBetweenness(graph: Graph, samples: number, seed = DEFAULT_SEED): Map<string, number> {
  return estimateBetweenness(compact(graph), samples, seed).values;
}

/**
 * The estimate and its per-node standard error. Per source s the normalized contribution
 * is X_s(v) = n·δ_s(v)/((n-1)(n-2)); the estimate is their mean over the k sources, and
 * its standard error sqrt(var/k · (1 - k/n)) (sample variance, finite-population
 * correction for drawing without replacement).
 */
export function estimateBetweenness(
  csr: CompactGraph,
  samples: number,
  seed: number,
): { values: Map<string, number>; standardErrors: Map<string, number> } {
  const n = csr.keys.length;
  const k = Math.min(samples, n);
  const { sum, sumSquares } = accumulateDependencies(csr, pickSources(n, k, seed));
  const unit = n <= 2 ? 0 : n / ((n - 1) * (n - 2)); // X_s = unit · δ_s
  const values = new Map<string, number>();
  const standardErrors = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const mean = (sum[i]! * unit) / k;
    values.set(csr.keys[i]!, mean);
    if (k > 1 && k < n) {
      const variance = Math.max(0, (sumSquares[i]! * unit * unit - k * mean * mean) / (k - 1));
      standardErrors.set(csr.keys[i]!, Math.sqrt((variance / k) * (1 - k / n)));
    } else {
      standardErrors.set(csr.keys[i]!, 0);
    }
  }
  return { values, standardErrors };
}

/**
 * Sum (and sum of squares) over the given sources of Brandes' dependency δ_s(v)
 * (unnormalized), and the work done in edge scans. Predecessors
 * are not stored: in reverse BFS order, w is a successor of v on a shortest path exactly
 * when the edge v->w exists and dist[w] = dist[v] + 1, so the out-adjacency suffices.
 * Path counts are doubles (a Uint32 could overflow on wide layered graphs).
 */
export function accumulateDependencies(
  csr: CompactGraph,
  sources: ArrayLike<number>,
): { sum: Float64Array; sumSquares: Float64Array; work: number } {
  const { offsets, targets } = csr;
  const n = csr.keys.length;
  const centrality = new Float64Array(n);
  const squares = new Float64Array(n);
  let work = 0;
  const dist = new Int32Array(n).fill(-1);
  const sigma = new Float64Array(n);
  const delta = new Float64Array(n);
  const order = new Int32Array(n); // BFS visiting order: the queue, then read backwards as the stack
  for (let si = 0; si < sources.length; si++) {
    const s = sources[si]!;
    dist[s] = 0;
    sigma[s] = 1;
    order[0] = s;
    let head = 0;
    let tail = 1;
    while (head < tail) {
      const v = order[head++]!;
      const next = dist[v]! + 1;
      const sv = sigma[v]!;
      for (let j = offsets[v]!, end = offsets[v + 1]!; j < end; j++) {
        const w = targets[j]!;
        if (dist[w] === -1) {
          dist[w] = next;
          order[tail++] = w;
        }
        if (dist[w] === next) sigma[w]! += sv;
      }
    }
    for (let i = tail - 1; i >= 0; i--) {
      const v = order[i]!;
      const next = dist[v]! + 1;
      let sum = 0;
      for (let j = offsets[v]!, end = offsets[v + 1]!; j < end; j++) {
        const w = targets[j]!;
        if (dist[w] === next) sum += (1 + delta[w]!) / sigma[w]!;
      }
      const d = sigma[v]! * sum;
      delta[v] = d;
      if (v !== s) {
        centrality[v]! += d;
        squares[v]! += d * d;
      }
      work += 2 * (offsets[v + 1]! - offsets[v]!) + 1;
    }
    // Reset only what this source touched.
    for (let i = 0; i < tail; i++) {
      const v = order[i]!;
      dist[v] = -1;
      sigma[v] = 0;
      delta[v] = 0;
    }
  }
  return { sum: centrality, sumSquares: squares, work };
}

/** k distinct indices out of n: a partial Fisher-Yates shuffle driven by a seeded generator. */
export function pickSources(n: number, k: number, seed: number): Int32Array {
  const pool = new Int32Array(n);
  for (let i = 0; i < n; i++) pool[i] = i;
  const random = mulberry32(seed);
  const count = Math.min(k, n);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(random() * (n - i));
    const swap = pool[i]!;
    pool[i] = pool[j]!;
    pool[j] = swap;
  }
  return pool.subarray(0, count);
}

/** A small seeded generator (Mulberry32), so the same graph gives the same sampled answer. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function assertDirectedSimple(graph: Graph): void {
  if (graph.type !== "directed" || graph.multi) throw new Error("betweenness here expects a simple directed graph");
}
