// CHRONOLOGY: order <= shipment <= receipt <= invoice <= due date; nothing in the future;
// tenor within limits.
import { expect } from "chai";
import { DEFAULT_VERIFICATION_CONFIG } from "../../../server/verification/verify.js";
import { FakeHistory } from "./fake-history.js";
import { findingsOf, findingWith, isoPlusSeconds, NOW, sampleInput, verify } from "./sample-submission.js";

const rule = "CHRONOLOGY";
const DAY = 86_400;

describe("verification: chronology", function () {
  describe("when two consecutive documents are out of order", function () {
    it("rejects an order issued after the shipment", async function () {
      const report = await verify(
        sampleInput(({ submission }) => (submission.purchaseOrder.issuedAt = "2026-10-10T08:00:01Z")),
        new FakeHistory(),
      );
      expect(findingsOf(report)).to.deep.equal([
        { rule, code: "CHRONOLOGY_ORDER", outcome: "fail", fields: ["purchaseOrder.issuedAt", "delivery.shippedAt"] },
      ]);
      expect(findingWith(report, "CHRONOLOGY_ORDER").message)
        .to.include("2026-10-10T08:00:01Z")
        .and.include("2026-10-10T08:00:00Z");
    });

    it("rejects a shipment after its receipt", async function () {
      const report = await verify(
        sampleInput(({ submission }) => (submission.delivery.shippedAt = "2026-10-13T00:00:00Z")),
        new FakeHistory(),
      );
      expect(findingsOf(report)).to.deep.equal([
        { rule, code: "CHRONOLOGY_ORDER", outcome: "fail", fields: ["delivery.shippedAt", "delivery.receivedAt"] },
      ]);
    });

    it("rejects a receipt after the invoice", async function () {
      const report = await verify(
        sampleInput(({ submission }) => (submission.delivery.receivedAt = "2026-10-16T00:00:00Z")),
        new FakeHistory(),
      );
      expect(findingsOf(report)).to.deep.equal([
        { rule, code: "CHRONOLOGY_ORDER", outcome: "fail", fields: ["delivery.receivedAt", "invoice.issuedAt"] },
      ]);
    });

    it("rejects an invoice dated after its due date, which is then also past and a negative tenor", async function () {
      // An invoice issued by now with a due date before it cannot avoid the other two findings.
      const report = await verify(
        sampleInput(({ submission }) => (submission.invoice.dueDate = "2026-10-14T09:00:00Z")),
        new FakeHistory(),
      );
      expect(findingsOf(report)).to.deep.equal([
        { rule, code: "CHRONOLOGY_ORDER", outcome: "fail", fields: ["invoice.issuedAt", "invoice.dueDate"] },
        { rule, code: "DUE_DATE_PASSED", outcome: "fail", fields: ["invoice.dueDate"] },
        { rule, code: "TENOR_OUT_OF_RANGE", outcome: "fail", fields: ["invoice.issuedAt", "invoice.dueDate"] },
      ]);
    });

    it("reports each violated pair once (order after shipment and receipt after invoice)", async function () {
      const input = sampleInput(({ submission }) => {
        submission.purchaseOrder.issuedAt = "2026-10-11T00:00:00Z";
        submission.delivery.receivedAt = "2026-10-16T00:00:00Z";
      });
      expect(findingsOf(await verify(input, new FakeHistory()))).to.deep.equal([
        { rule, code: "CHRONOLOGY_ORDER", outcome: "fail", fields: ["purchaseOrder.issuedAt", "delivery.shippedAt"] },
        { rule, code: "CHRONOLOGY_ORDER", outcome: "fail", fields: ["delivery.receivedAt", "invoice.issuedAt"] },
      ]);
    });

    it("passes equal timestamps (shipped and received at the same second)", async function () {
      const report = await verify(
        sampleInput(({ submission }) => (submission.delivery.shippedAt = submission.delivery.receivedAt)),
        new FakeHistory(),
      );
      expect(report.outcome).to.equal("passed");
    });

    it("compares instants, not texts, across time zones", async function () {
      // 2026-10-12T17:00:00+02:00 is 15:00Z, the receipt time: in order.
      const report = await verify(
        sampleInput(({ submission }) => (submission.delivery.shippedAt = "2026-10-12T17:00:00+02:00")),
        new FakeHistory(),
      );
      expect(report.outcome).to.equal("passed");
    });
  });

  describe("when a document is dated after the time of checking", function () {
    it("rejects an invoice issued one second in the future with DOCUMENT_IN_FUTURE", async function () {
      const report = await verify(
        sampleInput(({ submission }) => (submission.invoice.issuedAt = isoPlusSeconds(NOW.toISOString(), 1))),
        new FakeHistory(),
      );
      expect(findingsOf(report)).to.deep.equal([
        { rule, code: "DOCUMENT_IN_FUTURE", outcome: "fail", fields: ["invoice.issuedAt"] },
      ]);
      expect(findingWith(report, "DOCUMENT_IN_FUTURE").message).to.include(NOW.toISOString());
    });

    it("passes an invoice issued exactly now", async function () {
      const report = await verify(
        sampleInput(({ submission }) => (submission.invoice.issuedAt = NOW.toISOString())),
        new FakeHistory(),
      );
      expect(report.outcome).to.equal("passed");
    });

    it("names every future document of a delivery that has not happened yet", async function () {
      const input = sampleInput(({ submission }) => {
        submission.delivery.shippedAt = "2026-11-11T00:00:00Z";
        submission.delivery.receivedAt = "2026-11-12T00:00:00Z";
        submission.invoice.issuedAt = "2026-11-12T00:00:00Z";
      });
      const report = await verify(input, new FakeHistory());
      expect(findingsOf(report)).to.deep.equal([
        { rule, code: "DOCUMENT_IN_FUTURE", outcome: "fail", fields: ["delivery.shippedAt"] },
        { rule, code: "DOCUMENT_IN_FUTURE", outcome: "fail", fields: ["delivery.receivedAt"] },
        { rule, code: "DOCUMENT_IN_FUTURE", outcome: "fail", fields: ["invoice.issuedAt"] },
      ]);
    });
  });

  describe("when the due date is not after the time of checking", function () {
    it("rejects a due date of exactly now with DUE_DATE_PASSED", async function () {
      const report = await verify(
        sampleInput(({ submission }) => (submission.invoice.dueDate = NOW.toISOString())),
        new FakeHistory(),
      );
      expect(findingsOf(report)).to.deep.equal([
        { rule, code: "DUE_DATE_PASSED", outcome: "fail", fields: ["invoice.dueDate"] },
      ]);
    });

    it("passes a due date one second ahead", async function () {
      const report = await verify(
        sampleInput(({ submission }) => (submission.invoice.dueDate = isoPlusSeconds(NOW.toISOString(), 1))),
        new FakeHistory(),
      );
      expect(report.outcome).to.equal("passed");
    });
  });

  describe("when the tenor is outside 1..180 days", function () {
    const issuedAt = "2026-11-10T09:00:00Z"; // three hours before NOW
    const withTenor = (seconds: number) =>
      sampleInput(({ submission }) => {
        submission.invoice.issuedAt = issuedAt;
        submission.invoice.dueDate = isoPlusSeconds(issuedAt, seconds);
      });

    it("passes exactly 180 days", async function () {
      expect((await verify(withTenor(180 * DAY), new FakeHistory())).outcome).to.equal("passed");
    });

    it("rejects 180 days and one second with TENOR_OUT_OF_RANGE", async function () {
      const report = await verify(withTenor(180 * DAY + 1), new FakeHistory());
      expect(findingsOf(report)).to.deep.equal([
        { rule, code: "TENOR_OUT_OF_RANGE", outcome: "fail", fields: ["invoice.issuedAt", "invoice.dueDate"] },
      ]);
      expect(findingWith(report, "TENOR_OUT_OF_RANGE").message).to.include(String(180 * DAY + 1));
    });

    it("passes exactly one day", async function () {
      expect((await verify(withTenor(DAY), new FakeHistory())).outcome).to.equal("passed");
    });

    it("rejects one day less one second with TENOR_OUT_OF_RANGE", async function () {
      const report = await verify(withTenor(DAY - 1), new FakeHistory());
      expect(findingsOf(report)).to.deep.equal([
        { rule, code: "TENOR_OUT_OF_RANGE", outcome: "fail", fields: ["invoice.issuedAt", "invoice.dueDate"] },
      ]);
    });

    it("follows the configured limits", async function () {
      const config = { ...DEFAULT_VERIFICATION_CONFIG, maxTenorDays: 30 };
      const report = await verify(withTenor(30 * DAY + 1), new FakeHistory(), config);
      expect(findingsOf(report).map((f) => f.code)).to.deep.equal(["TENOR_OUT_OF_RANGE"]);
      expect((await verify(withTenor(30 * DAY), new FakeHistory(), config)).outcome).to.equal("passed");
    });
  });
});
