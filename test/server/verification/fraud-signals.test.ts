// FRAUD_SIGNAL: circular trading, volume spikes, related parties and brushing hold a
// submission for manual review; none of them rejects it.
import { expect } from "chai";
import { findTradeCycle } from "../../../server/verification/rules/fraud-signals.js";
import { earlier, FakeHistory } from "./fake-history.js";
import { DEBTOR_ID, findingsOf, findingWith, NOW, sampleInput, SELLER_ID, verify } from "./sample-submission.js";

const rule = "FRAUD_SIGNAL";
const HOUR = 3_600_000;

/** Trade relations seller -> debtor between other parties, as other registrars would record. */
function withEdges(...pairs: Array<[string, string]>): FakeHistory {
  const history = new FakeHistory();
  history.extraEdges.push(...pairs.map(([sellerId, debtorId]) => ({ sellerId, debtorId })));
  return history;
}

describe("verification: fraud signals", function () {
  describe("when the debtor trades back to the seller through other parties", function () {
    it("holds with CIRCULAR_TRADING, counting the parties in the message and keeping the path in details", async function () {
      const history = withEdges([DEBTOR_ID, "party-x"], ["party-x", SELLER_ID]);
      const report = await verify(sampleInput(), history);
      expect(report.outcome).to.equal("held");
      expect(findingsOf(report)).to.deep.equal([
        { rule, code: "CIRCULAR_TRADING", outcome: "hold", fields: ["debtorId"] },
      ]);
      const finding = findingWith(report, "CIRCULAR_TRADING");
      // The message reaches the seller: it names no party, since party-x's trades are not the seller's.
      expect(finding.message).to.equal("this receivable closes a trade cycle of 3 parties");
      expect(finding.message).not.to.include("party-x");
      // The path is for the operator and auditors (the access policy hides details.cycle from the rest).
      expect(finding.details).to.deep.equal({ parties: 3, cycle: [SELLER_ID, DEBTOR_ID, "party-x", SELLER_ID] });
    });

    it("holds when the debtor sells straight back to the seller", async function () {
      const report = await verify(sampleInput(), withEdges([DEBTOR_ID, SELLER_ID]));
      const finding = findingWith(report, "CIRCULAR_TRADING");
      expect(finding.message).to.equal("this receivable closes a trade cycle of 2 parties");
      expect(finding.details).to.deep.equal({ parties: 2, cycle: [SELLER_ID, DEBTOR_ID, SELLER_ID] });
    });

    it("holds a cycle of four edges from the debtor back to the seller", async function () {
      const history = withEdges(
        [DEBTOR_ID, "party-a"],
        ["party-a", "party-b"],
        ["party-b", "party-c"],
        ["party-c", SELLER_ID],
      );
      const report = await verify(sampleInput(), history);
      expect(findingsOf(report).map((f) => f.code)).to.deep.equal(["CIRCULAR_TRADING"]);
    });

    it("passes a cycle of five edges from the debtor, beyond the search depth", async function () {
      const history = withEdges(
        [DEBTOR_ID, "party-a"],
        ["party-a", "party-b"],
        ["party-b", "party-c"],
        ["party-c", "party-d"],
        ["party-d", SELLER_ID],
      );
      expect((await verify(sampleInput(), history)).outcome).to.equal("passed");
    });

    it("passes a cycle that does not pass through the seller", async function () {
      const history = withEdges([DEBTOR_ID, "party-x"], ["party-x", DEBTOR_ID], [SELLER_ID, "party-y"]);
      expect((await verify(sampleInput(), history)).outcome).to.equal("passed");
    });

    it("names the shortest cycle, whatever the order of the edges", function () {
      const edges = [
        { sellerId: "d", debtorId: "z" },
        { sellerId: "z", debtorId: "q" },
        { sellerId: "q", debtorId: "s" },
        { sellerId: "d", debtorId: "b" },
        { sellerId: "b", debtorId: "s" },
        { sellerId: "d", debtorId: "a" },
        { sellerId: "a", debtorId: "s" },
      ];
      expect(findTradeCycle(edges, "s", "d")).to.deep.equal(["s", "d", "a", "s"]);
      expect(findTradeCycle([...edges].reverse(), "s", "d")).to.deep.equal(["s", "d", "a", "s"]);
    });
  });

  describe("when the face value is far above the seller's history on this debtor", function () {
    // Mean of the three earlier receivables: 66000000; five times that is the sample's 330000000.
    const threeEarlier = (last: bigint) =>
      new FakeHistory().add(
        earlier("rcv-1", { faceValue: 66_000_000n }),
        earlier("rcv-2", { faceValue: 66_000_000n }),
        earlier("rcv-3", { faceValue: last }),
      );

    it("passes exactly five times the mean", async function () {
      expect((await verify(sampleInput(), threeEarlier(66_000_000n))).outcome).to.equal("passed");
    });

    it("holds with VOLUME_SPIKE when the history is one unit smaller", async function () {
      const report = await verify(sampleInput(), threeEarlier(65_999_999n));
      expect(report.outcome).to.equal("held");
      expect(findingsOf(report)).to.deep.equal([
        { rule, code: "VOLUME_SPIKE", outcome: "hold", fields: ["invoice.total"] },
      ]);
      expect(findingWith(report, "VOLUME_SPIKE").message).to.include("330000000").and.include("65999999");
    });

    it("passes any jump with fewer earlier receivables than the minimum history", async function () {
      const history = new FakeHistory().add(earlier("rcv-1", { faceValue: 1n }), earlier("rcv-2", { faceValue: 1n }));
      expect((await verify(sampleInput(), history)).outcome).to.equal("passed");
    });
  });

  describe("when seller and debtor are recorded as related", function () {
    it("holds with RELATED_PARTY when the seller names the debtor", async function () {
      const report = await verify(
        sampleInput((i) => (i.seller.relatedPartyIds = ["party-other", DEBTOR_ID])),
        new FakeHistory(),
      );
      expect(findingsOf(report)).to.deep.equal([
        { rule, code: "RELATED_PARTY", outcome: "hold", fields: ["debtorId"] },
      ]);
    });

    it("holds with RELATED_PARTY when the debtor names the seller", async function () {
      const report = await verify(
        sampleInput((i) => (i.debtor!.relatedPartyIds = [SELLER_ID])),
        new FakeHistory(),
      );
      expect(findingsOf(report)).to.deep.equal([
        { rule, code: "RELATED_PARTY", outcome: "hold", fields: ["debtorId"] },
      ]);
    });
  });

  describe("when the seller submits on this debtor in a burst", function () {
    const submissionsAgo = (count: number, hoursAgo: number) =>
      Array.from({ length: count }, (_, n) =>
        earlier(`rcv-burst-${hoursAgo}-${n}`, {
          faceValue: 330_000_000n,
          createdAt: new Date(NOW.getTime() - hoursAgo * HOUR),
          rejected: true,
        }),
      );

    it("holds with BRUSHING_PATTERN above ten in 24 hours", async function () {
      const history = new FakeHistory().add(...submissionsAgo(10, 23), ...submissionsAgo(1, 24));
      const report = await verify(sampleInput(), history);
      expect(findingsOf(report)).to.deep.equal([
        { rule, code: "BRUSHING_PATTERN", outcome: "hold", fields: ["debtorId"] },
      ]);
      expect(findingWith(report, "BRUSHING_PATTERN").message).to.include("11 submissions");
    });

    it("passes exactly ten in 24 hours", async function () {
      const history = new FakeHistory().add(...submissionsAgo(10, 1), ...submissionsAgo(5, 25));
      expect((await verify(sampleInput(), history)).outcome).to.equal("passed");
      const asked = history.calls.find((c) => c.method === "recentSubmissions")?.args;
      expect(asked).to.deep.equal([SELLER_ID, DEBTOR_ID, new Date(NOW.getTime() - 24 * HOUR)]);
    });
  });

  describe("when several signals meet", function () {
    it("holds with every one, in a fixed order", async function () {
      const history = withEdges([DEBTOR_ID, SELLER_ID]).add(
        earlier("rcv-1", { faceValue: 1_000_000n }),
        earlier("rcv-2", { faceValue: 1_000_000n }),
        earlier("rcv-3", { faceValue: 1_000_000n }),
      );
      const report = await verify(
        sampleInput((i) => (i.seller.relatedPartyIds = [DEBTOR_ID])),
        history,
      );
      expect(report.outcome).to.equal("held");
      expect(findingsOf(report).map((f) => f.code)).to.deep.equal([
        "CIRCULAR_TRADING",
        "VOLUME_SPIKE",
        "RELATED_PARTY",
      ]);
    });
  });
});
