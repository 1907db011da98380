// PARTIES: who may sell a receivable to whom.
import { expect } from "chai";
import { FakeHistory } from "./fake-history.js";
import { DEBTOR_ID, findingsOf, findingWith, sampleInput, SELLER_ID, verify } from "./sample-submission.js";

describe("verification: parties", function () {
  describe("when the seller does not hold the supplier role", function () {
    it("rejects with SELLER_NOT_SUPPLIER on the seller's roles", async function () {
      const report = await verify(
        sampleInput((i) => (i.seller.roles = ["financier"])),
        new FakeHistory(),
      );
      expect(report.outcome).to.equal("rejected");
      expect(findingsOf(report)).to.deep.equal([
        { rule: "PARTIES", code: "SELLER_NOT_SUPPLIER", outcome: "fail", fields: ["seller.roles"] },
      ]);
      expect(findingWith(report, "SELLER_NOT_SUPPLIER").message).to.include(SELLER_ID).and.include("financier");
    });
  });

  describe("when the seller is suspended", function () {
    it("rejects with SELLER_NOT_ACTIVE on the seller's status", async function () {
      const report = await verify(
        sampleInput((i) => (i.seller.status = "suspended")),
        new FakeHistory(),
      );
      expect(findingsOf(report)).to.deep.equal([
        { rule: "PARTIES", code: "SELLER_NOT_ACTIVE", outcome: "fail", fields: ["seller.status"] },
      ]);
      expect(findingWith(report, "SELLER_NOT_ACTIVE").message).to.include("suspended");
    });
  });

  describe("when the debtor is not a registered party", function () {
    it("rejects with DEBTOR_UNKNOWN on debtorId", async function () {
      const input = sampleInput((i) => {
        i.debtor = undefined;
        i.submission.debtorId = "party-nobody";
      });
      const report = await verify(input, new FakeHistory());
      expect(report.outcome).to.equal("rejected");
      expect(findingsOf(report)).to.deep.equal([
        { rule: "PARTIES", code: "DEBTOR_UNKNOWN", outcome: "fail", fields: ["debtorId"] },
      ]);
      expect(findingWith(report, "DEBTOR_UNKNOWN").message).to.include("party-nobody");
    });

    it("skips the families that need the debtor, without asking the history", async function () {
      const history = new FakeHistory();
      const report = await verify(
        sampleInput((i) => (i.debtor = undefined)),
        history,
      );
      expect(report.results.map((r) => r.rule)).to.deep.equal(["PARTIES", "THREE_WAY_MATCH", "CHRONOLOGY"]);
      expect(report.results.map((r) => r.outcome)).to.deep.equal(["fail", "pass", "pass"]);
      expect(history.calls).to.deep.equal([]);
    });
  });

  describe("when the debtor does not hold the debtor role", function () {
    it("rejects with DEBTOR_NOT_DEBTOR", async function () {
      const report = await verify(
        sampleInput((i) => (i.debtor!.roles = ["supplier"])),
        new FakeHistory(),
      );
      expect(findingsOf(report)).to.deep.equal([
        { rule: "PARTIES", code: "DEBTOR_NOT_DEBTOR", outcome: "fail", fields: ["debtorId", "debtor.roles"] },
      ]);
      expect(findingWith(report, "DEBTOR_NOT_DEBTOR").message).to.include(DEBTOR_ID);
    });
  });

  describe("when the debtor is still registering", function () {
    it("rejects with DEBTOR_NOT_ACTIVE", async function () {
      const report = await verify(
        sampleInput((i) => (i.debtor!.status = "registering")),
        new FakeHistory(),
      );
      expect(findingsOf(report)).to.deep.equal([
        { rule: "PARTIES", code: "DEBTOR_NOT_ACTIVE", outcome: "fail", fields: ["debtorId", "debtor.status"] },
      ]);
      expect(findingWith(report, "DEBTOR_NOT_ACTIVE").message).to.include("registering");
    });
  });

  describe("when the seller names itself as the debtor", function () {
    it("rejects with SELF_DEALING", async function () {
      const input = sampleInput((i) => {
        i.seller.roles = ["supplier", "debtor"];
        i.debtor = { ...i.seller };
        i.submission.debtorId = SELLER_ID;
      });
      const report = await verify(input, new FakeHistory());
      expect(report.outcome).to.equal("rejected");
      expect(findingsOf(report)).to.deep.equal([
        { rule: "PARTIES", code: "SELF_DEALING", outcome: "fail", fields: ["debtorId"] },
      ]);
    });
  });

  describe("when several party problems meet", function () {
    it("lists every one, in a fixed order", async function () {
      const input = sampleInput((i) => {
        i.seller.roles = [];
        i.seller.status = "suspended";
        i.debtor!.roles = ["financier"];
        i.debtor!.status = "suspended";
      });
      const report = await verify(input, new FakeHistory());
      expect(findingsOf(report).map((f) => f.code)).to.deep.equal([
        "SELLER_NOT_SUPPLIER",
        "SELLER_NOT_ACTIVE",
        "DEBTOR_NOT_DEBTOR",
        "DEBTOR_NOT_ACTIVE",
      ]);
    });
  });
});
