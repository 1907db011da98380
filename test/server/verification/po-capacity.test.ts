// PO_CAPACITY: everything invoiced against one order stays within the order's total.
import { expect } from "chai";
import { canonicalDocumentNumber } from "../../../server/model/document-identity.js";
import { earlier, FakeHistory } from "./fake-history.js";
import { DEBTOR_ID, findingsOf, findingWith, sampleInput, SELLER_ID, verify } from "./sample-submission.js";

// The sample order totals 360000000; the sample invoice is 300000000 before tax (330000000
// with it), leaving 60000000: capacity is compared before tax.
const PO = "PO-2026-0117";

describe("verification: purchase-order capacity", function () {
  describe("when earlier invoices leave exactly room for this one", function () {
    it("passes", async function () {
      const history = new FakeHistory().add(
        earlier("rcv-a", { poNumber: PO, faceValue: 66_000_000n, netValue: 60_000_000n }),
      );
      const report = await verify(sampleInput(), history);
      expect(report.outcome).to.equal("passed");
      expect(findingWith(report, "PO_CAPACITY_PASSED").rule).to.equal("PO_CAPACITY");
    });
  });

  describe("when earlier invoices leave one unit too little", function () {
    it("rejects with PO_CAPACITY_EXCEEDED, stating the figures", async function () {
      const history = new FakeHistory().add(
        earlier("rcv-a", { poNumber: PO, faceValue: 10_000_000n }),
        earlier("rcv-b", { poNumber: PO, faceValue: 50_000_001n }),
      );
      const report = await verify(sampleInput(), history);
      expect(report.outcome).to.equal("rejected");
      expect(findingsOf(report)).to.deep.equal([
        {
          rule: "PO_CAPACITY",
          code: "PO_CAPACITY_EXCEEDED",
          outcome: "fail",
          fields: ["purchaseOrder.number", "purchaseOrder.lines", "invoice.total", "invoice.tax"],
        },
      ]);
      expect(findingWith(report, "PO_CAPACITY_EXCEEDED").message)
        .to.include("60000001")
        .and.include("300000000")
        .and.include("360000001")
        .and.include("360000000");
    });
  });

  describe("when this invoice alone exceeds the order", function () {
    it("rejects with PO_CAPACITY_EXCEEDED", async function () {
      // Ordered 90 x BRK-100: order total 285000000, below the invoice's 300000000 before tax.
      const input = sampleInput(({ submission }) => (submission.purchaseOrder.lines[0]!.quantity = 90));
      const report = await verify(input, new FakeHistory());
      expect(findingsOf(report).map((f) => f.code)).to.have.members([
        "INVOICE_QUANTITY_EXCEEDS_ORDERED",
        "PO_CAPACITY_EXCEEDED",
      ]);
    });
  });

  describe("when the earlier invoices are on other orders, rejected, or this very receivable", function () {
    it("does not count them", async function () {
      const input = sampleInput();
      const history = new FakeHistory().add(
        earlier("rcv-other-order", { faceValue: 300_000_000n }),
        earlier("rcv-rejected", { poNumber: PO, faceValue: 300_000_000n, rejected: true }),
        earlier(input.receivableId, { poNumber: PO, invoiceNumber: "INV-2026-0042", faceValue: 330_000_000n }),
      );
      const report = await verify(input, history);
      expect(findingsOf(report)).to.deep.equal([]);
      expect(history.calls.find((c) => c.method === "invoicedAgainstOrder")?.args).to.deep.equal([
        SELLER_ID,
        DEBTOR_ID,
        canonicalDocumentNumber(PO),
        input.receivableId,
      ]);
    });
  });
});

describe("verification: purchase-order capacity and tax", function () {
  describe("when an invoice bills the whole order plus tax", function () {
    it("passes, because the order's lines carry no tax", async function () {
      const input = sampleInput(({ submission }) => {
        submission.purchaseOrder.lines = submission.invoice.lines.map((line) => ({ ...line }));
        submission.invoice.tax = "33000000"; // lines 300000000 = the whole order
        submission.invoice.total = "333000000";
      });
      const report = await verify(input, new FakeHistory());
      expect(findingsOf(report).map((f) => f.code)).to.not.include("PO_CAPACITY_EXCEEDED");
      expect(findingWith(report, "PO_CAPACITY_PASSED").outcome).to.equal("pass");
    });
  });
});
