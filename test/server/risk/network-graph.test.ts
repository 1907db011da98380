// The credit graph built from certificate exposures, and the hubs ranked on it.
import { expect } from "chai";
import {
  buildCreditGraph,
  creditTotals,
  type CreditExposure,
  type PartyRef,
} from "../../../server/risk/network/build-graph.js";
import { rankHubs } from "../../../server/risk/network/hubs.js";

const address = (n: number) => `0x${n.toString(16).padStart(40, "0")}`;
const core: PartyRef = { partyId: "pty_core", name: "Core Mart", address: address(1) };
const mid: PartyRef = { partyId: "pty_mid", name: "Mid Parts", address: address(2) };
const alt: PartyRef = { partyId: "pty_alt", name: "Alt Parts", address: address(3) };
const small: PartyRef = { partyId: "pty_small", name: "Small Works", address: address(4) };
const tiny: PartyRef = { partyId: "pty_tiny", name: "Tiny Co", address: address(5) };
const bank: PartyRef = { partyId: "pty_bank", name: "Harbor Bank", address: address(6) };
const idle: PartyRef = { partyId: "pty_idle", name: "Idle Ltd", address: address(7) };
const stranger = address(99); // holds a certificate but has no profile here

let certificate = 0;
const exposure = (holder: string, debtor: string, outstanding: bigint, tier = 1): CreditExposure => ({
  certificateId: String(++certificate),
  receivableId: `0x${"ab".repeat(32)}`,
  tier,
  holder,
  debtor,
  outstanding,
});

/** The hand graph of network-centrality.test.ts with amounts: S 3 pairs, M 2, A 1 (see there). */
function handExposures(): CreditExposure[] {
  return [
    exposure(mid.address, core.address, 70n),
    exposure(mid.address, core.address, 30n), // a second certificate on the same pair: one edge of 100
    exposure(alt.address, core.address, 40n),
    exposure(small.address, mid.address, 25n),
    exposure(small.address, alt.address, 15n),
    exposure(tiny.address, small.address, 5n),
    exposure(bank.address, mid.address, 60n, 2),
    exposure(stranger, core.address, 8n, 3),
    exposure(mid.address, mid.address, 9n), // a claim on itself: no edge
    exposure(alt.address, small.address, 0n), // fully paid out: no edge
  ];
}

describe("network graph", function () {
  describe("when certificates are turned into a graph", function () {
    const graph = buildCreditGraph([core, mid, alt, small, tiny, bank, idle], handExposures());

    it("makes every party a node, and an unknown holder a node without a profile", function () {
      expect(graph.order).to.equal(8);
      expect(graph.getNodeAttributes(idle.address)).to.deep.equal({
        address: idle.address,
        partyId: "pty_idle",
        name: "Idle Ltd",
      });
      expect(graph.getNodeAttributes(stranger)).to.deep.equal({ address: stranger, partyId: null, name: null });
    });

    it("sums the certificates between one holder and one debtor into one directed edge", function () {
      expect(graph.size).to.equal(7);
      const edge = graph.directedEdge(mid.address, core.address)!;
      expect(graph.getEdgeAttributes(edge)).to.deep.equal({ amount: 100n, certificates: 2 });
      expect(graph.hasDirectedEdge(core.address, mid.address)).to.equal(false);
    });

    it("leaves out claims on oneself and paid-out certificates", function () {
      expect(graph.hasNode(mid.address) && graph.hasDirectedEdge(mid.address, mid.address)).to.equal(false);
      expect(graph.hasDirectedEdge(alt.address, small.address)).to.equal(false);
    });

    it("totals what each party owes and is owed", function () {
      const totals = creditTotals(graph);
      expect(totals.get(core.address)).to.deep.equal({ owes: 148n, owed: 0n, creditors: 3, debtors: 0 });
      expect(totals.get(mid.address)).to.deep.equal({ owes: 85n, owed: 100n, creditors: 2, debtors: 1 });
      expect(totals.get(small.address)).to.deep.equal({ owes: 5n, owed: 40n, creditors: 1, debtors: 2 });
      expect(totals.get(idle.address)).to.deep.equal({ owes: 0n, owed: 0n, creditors: 0, debtors: 0 });
    });
  });

  describe("when hubs are ranked", function () {
    // Without the stranger and the idle party the graph is the 6-node hand graph: n = 6, (n-1)(n-2) = 20.
    const graph = buildCreditGraph(
      [core, mid, alt, small, tiny, bank],
      handExposures().filter((e) => e.holder !== stranger),
    );

    it("ranks by betweenness, leaving out parties never in between", function () {
      const hubs = rankHubs(graph, 10);
      expect(hubs).to.include({ nodes: 6, edges: 6, method: "exact" });
      expect(hubs.samples).to.equal(undefined);
      const round = (x: number) => Math.round(x * 1e9) / 1e9;
      expect(hubs.byBetweenness.map((h) => [h.name, round(h.betweenness), round(h.pairs)])).to.deep.equal([
        ["Small Works", 0.15, 3],
        ["Mid Parts", 0.1, 2],
        ["Alt Parts", 0.05, 1],
      ]);
      expect(hubs.byBetweenness[0]).to.include({ partyId: "pty_small", address: small.address });
    });

    it("ranks by what a party owes, and cuts both lists at top", function () {
      const hubs = rankHubs(graph, 2);
      expect(hubs.byExposure.map((h) => [h.partyId, h.owes, h.owed, h.creditors])).to.deep.equal([
        ["pty_core", 140n, 0n, 2],
        ["pty_mid", 85n, 100n, 2],
      ]);
      expect(hubs.byBetweenness.map((h) => h.partyId)).to.deep.equal(["pty_small", "pty_mid"]);
    });

    it("samples above the threshold and says so, with the bound and each hub's standard error", function () {
      const hubs = rankHubs(graph, 10, { exactThreshold: 3, workBudget: 0, minSamples: 3, seed: 9 });
      expect(hubs.method).to.equal("sampled");
      expect(hubs.samples).to.equal(3);
      expect(hubs.errorBound!.epsilon).to.be.greaterThan(0);
      for (const hub of hubs.byBetweenness) expect(hub.standardError).to.be.a("number");
    });
  });
});
