// Risk hubs of the credit network: the parties most often between others on credit
// chains (betweenness) and the parties whose default would cost the most (exposure).
import { creditTotals, type CreditGraph } from "./build-graph.js";
import { betweenness, type BetweennessOptions, type ErrorBound } from "./centrality.js";

export interface HubNode {
  address: string;
  partyId: string | null;
  name: string | null;
}

export interface BetweennessHub extends HubNode {
  /** Normalized betweenness in [0, 1] (estimated when sampled). */
  betweenness: number;
  /** The same as a count of ordered (source, target) pairs' shortest-path share: normalized × (n-1)(n-2). */
  pairs: number;
  /** Standard error of the estimate (sampled only). */
  standardError?: number;
}

export interface ExposureHub extends HubNode {
  /** Outstanding credit it owes (certificates others hold on it): what its default puts at risk. */
  owes: bigint;
  /** Outstanding credit it is owed (certificates it holds). */
  owed: bigint;
  creditors: number;
  debtors: number;
}

export interface Hubs {
  nodes: number;
  edges: number;
  method: "exact" | "sampled";
  samples?: number;
  errorBound?: ErrorBound;
  byBetweenness: BetweennessHub[];
  byExposure: ExposureHub[];
}

/**
 * The top parties both ways. Ties break by address so the answer is stable. Parties
 * with zero betweenness or zero debt are left out: they are no hub.
 */
export function rankHubs(graph: CreditGraph, top: number, options: BetweennessOptions = {}): Hubs {
  const n = graph.order;
  const result = betweenness(graph, options);
  const scale = n > 2 ? (n - 1) * (n - 2) : 0;
  const node = (address: string): HubNode => {
    const attributes = graph.getNodeAttributes(address);
    return { address, partyId: attributes.partyId, name: attributes.name };
  };

  const byBetweenness = [...result.values]
    .filter(([, value]) => value > 0)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .slice(0, top)
    .map(([address, value]) => ({
      ...node(address),
      betweenness: value,
      pairs: value * scale,
      ...(result.standardErrors ? { standardError: result.standardErrors.get(address) ?? 0 } : {}),
    }));

  const byExposure = [...creditTotals(graph)]
    .filter(([, t]) => t.owes > 0n)
    .sort(([a, x], [b, y]) => (y.owes > x.owes ? 1 : y.owes < x.owes ? -1 : 0) || a.localeCompare(b))
    .slice(0, top)
    .map(([address, t]) => ({ ...node(address), ...t }));

  return {
    nodes: n,
    edges: graph.size,
    method: result.method,
    ...(result.samples !== undefined ? { samples: result.samples } : {}),
    ...(result.errorBound ? { errorBound: result.errorBound } : {}),
    byBetweenness,
    byExposure,
  };
}
