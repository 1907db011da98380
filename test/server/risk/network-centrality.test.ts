// Betweenness on hand-built credit graphs: exact values computed by hand, the sampled
// estimator against graphology-metrics, the switch between them, and the error bound.
import { expect } from "chai";
import { expectAtMost, expectClose } from "./approx.js";
import { DirectedGraph, UndirectedGraph } from "graphology";
import {
  accumulateDependencies,
  betweenness,
  compact,
  estimateBetweenness,
  exactBetweenness,
  hoeffdingEpsilon,
  mulberry32,
  pickSources,
  sampledBetweenness,
} from "../../../server/risk/network/centrality.js";

/**
 * A small supply chain, edges holder -> debtor:
 *
 *        C            core enterprise
 *      ↗   ↖
 *     M     A         tier 1 (both sell to C)
 *   ↗  ↖   ↗
 *  F    S             F: a financier holding a claim on M; S: tier 2 selling to M and A
 *       ↑
 *       T             tier 3 selling to S
 *
 * Shortest paths between ordered pairs (only pairs with a path):
 *   T→S: T-S            T→M: T-S-M        T→A: T-S-A      T→C: T-S-M-C and T-S-A-C (2 paths)
 *   S→M, S→A direct     S→C: S-M-C and S-A-C (2 paths)
 *   M→C, A→C, F→M direct                    F→C: F-M-C
 * Betweenness (sum over pairs of the share of shortest paths through the node):
 *   S: T→M 1 + T→A 1 + T→C 1 (both paths)           = 3
 *   M: T→C 1/2 + S→C 1/2 + F→C 1                     = 2
 *   A: T→C 1/2 + S→C 1/2                             = 1
 *   C, F, T: never in between                        = 0
 * Normalized for a directed graph by (n-1)(n-2) = 5 × 4 = 20: S 0.15, M 0.10, A 0.05.
 */
function handGraph(): DirectedGraph {
  const graph = new DirectedGraph();
  for (const [holder, debtor] of [
    ["M", "C"],
    ["A", "C"],
    ["S", "M"],
    ["S", "A"],
    ["T", "S"],
    ["F", "M"],
  ] as const) {
    graph.mergeNode(holder);
    graph.mergeNode(debtor);
    graph.addDirectedEdge(holder, debtor);
  }
  return graph;
}
const HAND = { S: 0.15, M: 0.1, A: 0.05, C: 0, F: 0, T: 0 } as const;

/** A random directed graph with cycles, for comparisons with the library. */
function randomGraph(n: number, m: number, seed: number): DirectedGraph {
  const random = mulberry32(seed);
  const graph = new DirectedGraph();
  for (let i = 0; i < n; i++) graph.addNode(`n${i}`);
  while (graph.size < m) {
    const a = Math.floor(random() * n);
    const b = Math.floor(random() * n);
    if (a !== b && !graph.hasEdge(`n${a}`, `n${b}`)) graph.addDirectedEdge(`n${a}`, `n${b}`);
  }
  return graph;
}

const expectSameValues = (
  actual: Map<string, number>,
  expected: Map<string, number> | Record<string, number>,
  tolerance = 1e-12,
) => {
  const entries = expected instanceof Map ? [...expected] : Object.entries(expected);
  expect(actual.size).to.equal(entries.length);
  for (const [key, value] of entries) expectClose(actual.get(key), value, tolerance, key);
};

describe("network centrality", function () {
  describe("when the graph is small enough for the exact routine", function () {
    it("gives the betweenness computed by hand", function () {
      expectSameValues(exactBetweenness(handGraph()), HAND);
    });

    it("reports the exact method without samples or bound", function () {
      const result = betweenness(handGraph());
      expect(result.method).to.equal("exact");
      expect(result.samples).to.equal(undefined);
      expect(result.errorBound).to.equal(undefined);
      expectSameValues(result.values, HAND);
    });

    it("refuses an undirected graph", function () {
      const undirected = new UndirectedGraph();
      undirected.mergeEdge("a", "b");
      expect(() => exactBetweenness(undirected)).to.throw("simple directed graph");
      expect(() => sampledBetweenness(undirected, 2)).to.throw("simple directed graph");
    });
  });

  describe("when the sampled estimator uses every node as a source", function () {
    it("equals the hand-computed betweenness", function () {
      expectSameValues(sampledBetweenness(handGraph(), 6, 1), HAND);
    });

    it("equals graphology-metrics on a random graph with cycles", function () {
      const graph = randomGraph(80, 240, 7);
      const exact = exactBetweenness(graph);
      expect(Math.max(...exact.values())).to.be.greaterThan(0.01); // a graph where betweenness is not trivially zero
      expectSameValues(sampledBetweenness(graph, graph.order, 99), exact);
    });
  });

  describe("when fewer sources are sampled", function () {
    it("is unbiased: the n single-source estimates average to the exact value", function () {
      const graph = randomGraph(40, 100, 3);
      const csr = compact(graph);
      const n = graph.order;
      const mean = new Float64Array(n);
      for (let s = 0; s < n; s++) {
        const { sum } = accumulateDependencies(csr, [s]);
        for (let v = 0; v < n; v++) mean[v]! += (n * sum[v]!) / ((n - 1) * (n - 2)) / n;
      }
      const exact = exactBetweenness(graph);
      csr.keys.forEach((key, v) => expectClose(mean[v], exact.get(key)!, 1e-12, key));
    });

    it("draws distinct sources, the same ones for the same seed", function () {
      const a = [...pickSources(1000, 50, 42)];
      expect(new Set(a).size).to.equal(50);
      expect(a.every((i) => i >= 0 && i < 1000)).to.equal(true);
      expect([...pickSources(1000, 50, 42)]).to.deep.equal(a);
      expect([...pickSources(1000, 50, 43)]).to.not.deep.equal(a);
    });

    it("scales the sampled sources' dependencies by n/k", function () {
      // Single-source dependencies δ_s(v) in the hand graph (from the path list above):
      //   from T: S 3 (M, A, C are reached through S), M 1/2, A 1/2 (the two paths to C)
      //   from S: M 1/2, A 1/2;  from F: M 1;  from M, A, C: nothing in between.
      const deltas: Record<string, Partial<Record<string, number>>> = {
        T: { S: 3, M: 0.5, A: 0.5 },
        S: { M: 0.5, A: 0.5 },
        F: { M: 1 },
        M: {},
        A: {},
        C: {},
      };
      const graph = handGraph();
      const csr = compact(graph);
      expect([...accumulateDependencies(csr, [csr.keys.indexOf("T")]).sum]).to.deep.equal(
        csr.keys.map((key) => deltas.T![key] ?? 0),
      );
      for (const seed of [1, 2, 3, 4, 5]) {
        const picked = [...pickSources(6, 2, seed)].map((i) => csr.keys[i]!);
        const estimate = estimateBetweenness(csr, 2, seed).values;
        for (const key of csr.keys) {
          const expected = ((6 / 2) * picked.reduce((sum, source) => sum + (deltas[source]![key] ?? 0), 0)) / 20;
          expectClose(estimate.get(key), expected, 1e-12, `${key} from ${picked.join(",")}`);
        }
      }
    });
  });

  describe("when the graph is above the exact threshold", function () {
    it("answers exact when the work budget covers every source", function () {
      const result = betweenness(handGraph(), { exactThreshold: 3 });
      expect(result.method).to.equal("exact");
      expectSameValues(result.values, HAND);
    });

    it("samples at least minSamples sources when the budget is spent, with the Hoeffding bound and standard errors", function () {
      const graph = randomGraph(300, 900, 11);
      const result = betweenness(graph, { exactThreshold: 100, workBudget: 0, minSamples: 60, seed: 4 });
      expect(result.method).to.equal("sampled");
      expect(result.samples).to.equal(60);
      expect(result.errorBound).to.deep.equal({
        method: "hoeffding-union",
        epsilon: hoeffdingEpsilon(300, 60, 0.95),
        confidence: 0.95,
      });
      expect(result.standardErrors!.size).to.equal(300);
      // The stated bound holds against the exact values on this graph.
      const exact = exactBetweenness(graph);
      let worst = 0;
      for (const [key, value] of exact) worst = Math.max(worst, Math.abs(value - result.values.get(key)!));
      expect(worst).to.be.greaterThan(0);
      expectAtMost(worst, result.errorBound!.epsilon);
      // Same seed, same answer.
      expect([
        ...betweenness(graph, { exactThreshold: 100, workBudget: 0, minSamples: 60, seed: 4 }).values,
      ]).to.deep.equal([...result.values]);
    });

    it("sizes k from the work budget between minSamples and n", function () {
      const graph = randomGraph(300, 900, 11);
      // A source reaching every node scans 2 × 900 edges + 300 nodes = 2,100 units of work.
      const small = betweenness(graph, { exactThreshold: 100, workBudget: 100_000, minSamples: 10 });
      const large = betweenness(graph, { exactThreshold: 100, workBudget: 500_000, minSamples: 10 });
      expect(small.method).to.equal("sampled");
      expect(large.method).to.equal("sampled");
      expect(
        small.samples! >= Math.floor(100_000 / 2_100) && small.samples! <= 60,
        `samples ${small.samples}`,
      ).to.equal(true);
      expect(
        large.samples! >= Math.floor(500_000 / 2_100) && large.samples! <= 299,
        `samples ${large.samples}`,
      ).to.equal(true);
      expect(betweenness(graph, { exactThreshold: 100, workBudget: 1_000, minSamples: 10 }).samples).to.equal(10);
      expect(betweenness(graph, { exactThreshold: 100, workBudget: 10_000_000, minSamples: 10 }).method).to.equal(
        "exact",
      );
    });
  });

  describe("the error bound", function () {
    it("is R·sqrt(ln(2n/δ)/(2k)) with R = n/(n-1)", function () {
      // n = 100,000, k = 3,200, 95%: ln(4e6) = 15.2018; / 6,400 = 0.0023753; sqrt = 0.048737; × 1.00001.
      expectClose(hoeffdingEpsilon(100_000, 3_200, 0.95), 0.048737, 1e-6);
      // n = 6, k = 3, 99%: R = 1.2; ln(1,200) = 7.0901; / 6 = 1.18169; sqrt = 1.08706; × 1.2 = 1.30447.
      expectClose(hoeffdingEpsilon(6, 3, 0.99), 1.30447, 1e-5);
    });

    it("is zero when every source is used", function () {
      expect(hoeffdingEpsilon(500, 500, 0.95)).to.equal(0);
    });
  });
});
