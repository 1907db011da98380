// The credit network: parties as nodes, outstanding credit as directed weighted edges
// holder -> debtor ("the holder is owed this much by the debtor"). Built from the index:
// every live or locked leaf certificate of a receivable that is not repaid carries its
// claim (face value less what credit notes cut from it, issue 16) minus what settlement has
// already paid it; the certificates between one
// holder and one debtor are summed into one edge.
import { DirectedGraph } from "graphology";
import type { Db } from "../../store/database.js";

/** One certificate's outstanding claim: what its holder is still owed by the receivable's debtor. */
export interface CreditExposure {
  certificateId: string;
  receivableId: string;
  tier: number;
  holder: string; // checksummed address
  debtor: string; // checksummed address
  outstanding: bigint; // claim (face value minus credit-note cuts) minus paid out, smallest units
}

/** A known party (off-chain profile). Addresses seen on-chain without a profile become nodes with partyId null. */
export interface PartyRef {
  partyId: string;
  name: string;
  address: string;
}

export interface NodeAttributes {
  address: string;
  partyId: string | null;
  name: string | null;
}

export interface EdgeAttributes {
  /** Outstanding credit, holder -> debtor, in smallest units. */
  amount: bigint;
  /** How many certificates make up the edge. */
  certificates: number;
}

export type CreditGraph = DirectedGraph<NodeAttributes, EdgeAttributes>;

export interface CreditNetwork {
  graph: CreditGraph;
  exposures: CreditExposure[];
}

/**
 * Builds the graph. Every known party is a node, with or without credit (nodes count in
 * normalized betweenness). A holder that is also the certificate's debtor (it bought a
 * claim on itself) owes itself nothing: such certificates make no edge, and no self-loop.
 */
export function buildCreditGraph(parties: readonly PartyRef[], exposures: readonly CreditExposure[]): CreditGraph {
  const graph: CreditGraph = new DirectedGraph<NodeAttributes, EdgeAttributes>({ allowSelfLoops: false });
  for (const party of parties) {
    graph.mergeNode(party.address, { address: party.address, partyId: party.partyId, name: party.name });
  }
  // Aggregate first, then add each edge once: cheaper than merging attributes 300k times.
  const edges = new Map<string, { holder: string; debtor: string; amount: bigint; certificates: number }>();
  for (const exposure of exposures) {
    if (exposure.outstanding <= 0n || exposure.holder === exposure.debtor) continue;
    const key = `${exposure.holder}>${exposure.debtor}`;
    const edge = edges.get(key);
    if (edge) {
      edge.amount += exposure.outstanding;
      edge.certificates += 1;
    } else {
      edges.set(key, {
        holder: exposure.holder,
        debtor: exposure.debtor,
        amount: exposure.outstanding,
        certificates: 1,
      });
    }
  }
  for (const { holder, debtor, amount, certificates } of edges.values()) {
    for (const address of [holder, debtor]) {
      if (!graph.hasNode(address)) graph.addNode(address, { address, partyId: null, name: null });
    }
    graph.addDirectedEdge(holder, debtor, { amount, certificates });
  }
  return graph;
}

/** Reads the outstanding leaf certificates and the parties from the index and builds the network. */
export async function loadCreditNetwork(db: Db): Promise<CreditNetwork> {
  const rows = await db
    .selectFrom("onchain_certificates as c")
    .innerJoin("onchain_receivables as r", "r.id", "c.receivable_id")
    .select(["c.id", "c.receivable_id", "c.tier", "c.holder", "c.face_value", "c.reduction", "c.paid_out", "r.debtor"])
    .where("c.state", "in", ["live", "locked"])
    .where("r.status", "!=", "repaid")
    .orderBy("c.issued_block")
    .orderBy("c.id")
    .execute();
  const exposures: CreditExposure[] = [];
  for (const row of rows) {
    const outstanding = BigInt(row.face_value) - BigInt(row.reduction) - BigInt(row.paid_out);
    if (outstanding <= 0n) continue;
    exposures.push({
      certificateId: row.id,
      receivableId: row.receivable_id,
      tier: row.tier,
      holder: row.holder,
      debtor: row.debtor,
      outstanding,
    });
  }
  const parties = await db
    .selectFrom("parties")
    .select(["id", "name", "address"])
    .orderBy("created_at")
    .orderBy("id")
    .execute();
  const refs = parties.map((p) => ({ partyId: p.id, name: p.name, address: p.address }));
  return { graph: buildCreditGraph(refs, exposures), exposures };
}

/** What each node owes (sum of its in-edges: its debts as a debtor) and is owed (its out-edges: its claims). */
export function creditTotals(
  graph: CreditGraph,
): Map<string, { owes: bigint; owed: bigint; creditors: number; debtors: number }> {
  const totals = new Map<string, { owes: bigint; owed: bigint; creditors: number; debtors: number }>();
  graph.forEachNode((node) => totals.set(node, { owes: 0n, owed: 0n, creditors: 0, debtors: 0 }));
  graph.forEachEdge((_edge, attributes, holder, debtor) => {
    const h = totals.get(holder)!;
    const d = totals.get(debtor)!;
    h.owed += attributes.amount;
    h.debtors += 1;
    d.owes += attributes.amount;
    d.creditors += 1;
  });
  return totals;
}
