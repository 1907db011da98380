// THREE_WAY_MATCH: invoice lines against order lines against received quantities.
import { expect } from "chai";
import { DEFAULT_VERIFICATION_CONFIG } from "../../../server/verification/verify.js";
import { FakeHistory } from "./fake-history.js";
import { findingsOf, findingWith, recomputeTotal, sampleInput, verify } from "./sample-submission.js";

const rule = "THREE_WAY_MATCH";

describe("verification: three-way match", function () {
  describe("when the order is in another currency", function () {
    it("rejects with CURRENCY_UNSUPPORTED", async function () {
      const report = await verify(
        sampleInput((i) => (i.submission.purchaseOrder.currency = "EUR")),
        new FakeHistory(),
      );
      expect(report.outcome).to.equal("rejected");
      expect(findingsOf(report)).to.deep.equal([
        { rule, code: "CURRENCY_UNSUPPORTED", outcome: "fail", fields: ["purchaseOrder.currency"] },
      ]);
      expect(findingWith(report, "CURRENCY_UNSUPPORTED").message).to.include("EUR").and.include("USD");
    });
  });

  describe("when the invoice bills a sku that was delivered but never ordered", function () {
    it("rejects with INVOICE_SKU_NOT_ORDERED and DELIVERY_SKU_NOT_ORDERED", async function () {
      const input = sampleInput(({ submission }) => {
        submission.delivery.lines.push({ sku: "BRK-999", quantity: 10 });
        submission.invoice.lines.push({ sku: "BRK-999", quantity: 10, unitPrice: "1000000" });
        recomputeTotal(submission);
      });
      const report = await verify(input, new FakeHistory());
      expect(findingsOf(report)).to.deep.equal([
        { rule, code: "INVOICE_SKU_NOT_ORDERED", outcome: "fail", fields: ["invoice.lines[2].sku"] },
        { rule, code: "DELIVERY_SKU_NOT_ORDERED", outcome: "fail", fields: ["delivery.lines[2].sku"] },
      ]);
      expect(findingWith(report, "INVOICE_SKU_NOT_ORDERED").message).to.include("BRK-999");
    });
  });

  describe("when the invoice bills an ordered sku that was never delivered", function () {
    it("rejects with INVOICE_SKU_NOT_DELIVERED", async function () {
      const input = sampleInput(({ submission }) => {
        submission.purchaseOrder.lines.push({ sku: "BRK-300", quantity: 10, unitPrice: "1000000" });
        submission.invoice.lines.push({ sku: "BRK-300", quantity: 5, unitPrice: "1000000" });
        recomputeTotal(submission);
      });
      const report = await verify(input, new FakeHistory());
      expect(findingsOf(report)).to.deep.equal([
        { rule, code: "INVOICE_SKU_NOT_DELIVERED", outcome: "fail", fields: ["invoice.lines[2].sku"] },
      ]);
      expect(findingWith(report, "INVOICE_SKU_NOT_DELIVERED").message).to.include("BRK-300");
    });
  });

  describe("when the delivery note shows a sku the order does not contain", function () {
    it("rejects with DELIVERY_SKU_NOT_ORDERED", async function () {
      const report = await verify(
        sampleInput(({ submission }) => submission.delivery.lines.unshift({ sku: "BRK-999", quantity: 5 })),
        new FakeHistory(),
      );
      expect(findingsOf(report)).to.deep.equal([
        { rule, code: "DELIVERY_SKU_NOT_ORDERED", outcome: "fail", fields: ["delivery.lines[0].sku"] },
      ]);
    });
  });

  describe("when more is invoiced than was ordered", function () {
    it("rejects with INVOICE_QUANTITY_EXCEEDS_ORDERED, naming both quantities", async function () {
      const input = sampleInput(({ submission }) => {
        submission.purchaseOrder.lines[1]!.quantity = 200; // room in the order total: only the line is over
        submission.delivery.lines[0]!.quantity = 121; // received the over-delivery
        submission.invoice.lines[0]!.quantity = 121;
        recomputeTotal(submission);
      });
      const report = await verify(input, new FakeHistory());
      expect(findingsOf(report)).to.deep.equal([
        {
          rule,
          code: "INVOICE_QUANTITY_EXCEEDS_ORDERED",
          outcome: "fail",
          fields: ["invoice.lines[0].quantity", "purchaseOrder.lines[0].quantity"],
        },
      ]);
      expect(findingWith(report, "INVOICE_QUANTITY_EXCEEDS_ORDERED").message).to.include("121").and.include("120");
    });

    it("passes when exactly the ordered quantity is invoiced", async function () {
      const input = sampleInput(({ submission }) => {
        submission.purchaseOrder.lines[1]!.quantity = 200;
        submission.delivery.lines[0]!.quantity = 120;
        submission.invoice.lines[0]!.quantity = 120;
        recomputeTotal(submission);
      });
      expect((await verify(input, new FakeHistory())).outcome).to.equal("passed");
    });
  });

  describe("when more is invoiced than was received", function () {
    it("rejects one unit over with the default zero tolerance", async function () {
      const input = sampleInput(({ submission }) => {
        submission.invoice.lines[1]!.quantity = 51;
        recomputeTotal(submission);
      });
      const report = await verify(input, new FakeHistory());
      expect(findingsOf(report)).to.deep.equal([
        {
          rule,
          code: "INVOICE_QUANTITY_EXCEEDS_RECEIVED",
          outcome: "fail",
          fields: ["invoice.lines[1].quantity", "delivery.lines[1].quantity"],
        },
      ]);
      expect(findingWith(report, "INVOICE_QUANTITY_EXCEEDS_RECEIVED").message).to.include("51").and.include("50");
    });

    describe("with a 100 bps quantity tolerance", function () {
      const config = { ...DEFAULT_VERIFICATION_CONFIG, quantityToleranceBps: 100 };
      const invoicing = (quantity: number) =>
        sampleInput(({ submission }) => {
          submission.invoice.lines[0]!.quantity = quantity; // received 100
          recomputeTotal(submission);
        });

      it("passes exactly at the tolerance (101 invoiced for 100 received)", async function () {
        const report = await verify(invoicing(101), new FakeHistory(), config);
        expect(report.outcome).to.equal("passed");
      });

      it("rejects one unit over the tolerance (102 for 100)", async function () {
        const report = await verify(invoicing(102), new FakeHistory(), config);
        expect(findingsOf(report)).to.deep.equal([
          {
            rule,
            code: "INVOICE_QUANTITY_EXCEEDS_RECEIVED",
            outcome: "fail",
            fields: ["invoice.lines[0].quantity", "delivery.lines[0].quantity"],
          },
        ]);
      });
    });
  });

  describe("when an invoiced unit price differs from the ordered one (50 bps tolerance on 2.500000)", function () {
    const pricing = (unitPrice: string) =>
      sampleInput(({ submission }) => {
        submission.invoice.lines[0]!.unitPrice = unitPrice;
        recomputeTotal(submission);
      });

    for (const [label, unitPrice] of [
      ["above", "2512500"],
      ["below", "2487500"],
    ]) {
      it(`passes exactly at the tolerance ${label} the order (${unitPrice})`, async function () {
        const report = await verify(pricing(unitPrice!), new FakeHistory());
        expect(report.outcome).to.equal("passed");
      });
    }

    for (const [label, unitPrice] of [
      ["above", "2512501"],
      ["below", "2487499"],
    ]) {
      it(`rejects with INVOICE_PRICE_MISMATCH one unit ${label} the tolerance (${unitPrice})`, async function () {
        const report = await verify(pricing(unitPrice!), new FakeHistory());
        expect(findingsOf(report)).to.deep.equal([
          {
            rule,
            code: "INVOICE_PRICE_MISMATCH",
            outcome: "fail",
            fields: ["invoice.lines[0].unitPrice", "purchaseOrder.lines[0].unitPrice"],
          },
        ]);
        expect(findingWith(report, "INVOICE_PRICE_MISMATCH").message).to.include(unitPrice!).and.include("2500000");
      });
    }

    it("rejects any difference with a zero tolerance", async function () {
      const report = await verify(pricing("2500001"), new FakeHistory(), {
        ...DEFAULT_VERIFICATION_CONFIG,
        priceToleranceBps: 0,
      });
      expect(findingsOf(report).map((f) => f.code)).to.deep.equal(["INVOICE_PRICE_MISMATCH"]);
    });
  });

  describe("when the invoice total is not its lines plus tax", function () {
    for (const [label, total] of [
      ["one unit more", "330000001"],
      ["one unit less", "329999999"],
    ]) {
      it(`rejects a total ${label} with INVOICE_TOTAL_MISMATCH`, async function () {
        const report = await verify(
          sampleInput(({ submission }) => (submission.invoice.total = total!)),
          new FakeHistory(),
        );
        expect(findingsOf(report)).to.deep.equal([
          {
            rule,
            code: "INVOICE_TOTAL_MISMATCH",
            outcome: "fail",
            fields: ["invoice.lines", "invoice.tax", "invoice.total"],
          },
        ]);
        expect(findingWith(report, "INVOICE_TOTAL_MISMATCH").message)
          .to.include("300000000")
          .and.include("330000000")
          .and.include(total!);
      });
    }

    it("rejects a tax that does not bridge lines and total", async function () {
      const report = await verify(
        sampleInput(({ submission }) => (submission.invoice.tax = "0")),
        new FakeHistory(),
      );
      expect(findingsOf(report).map((f) => f.code)).to.deep.equal(["INVOICE_TOTAL_MISMATCH"]);
    });
  });

  describe("when one document lists the same sku twice", function () {
    it("rejects split invoice lines with DUPLICATE_SKU_LINES, even when they add up", async function () {
      const input = sampleInput(({ submission }) => {
        submission.invoice.lines[0]!.quantity = 60;
        submission.invoice.lines.push({ sku: "BRK-100", quantity: 40, unitPrice: "2500000" });
      });
      const report = await verify(input, new FakeHistory());
      expect(findingsOf(report)).to.deep.equal([
        {
          rule,
          code: "DUPLICATE_SKU_LINES",
          outcome: "fail",
          fields: ["invoice.lines[0].sku", "invoice.lines[2].sku"],
        },
      ]);
    });

    it("rejects a repeated sku on the delivery note and on the order too", async function () {
      const input = sampleInput(({ submission }) => {
        submission.delivery.lines[1]!.quantity = 20;
        submission.delivery.lines.push({ sku: "BRK-200", quantity: 30 });
        submission.purchaseOrder.lines[0]!.quantity = 20;
        submission.purchaseOrder.lines.push({ sku: "BRK-100", quantity: 100, unitPrice: "2500000" });
      });
      const report = await verify(input, new FakeHistory());
      expect(findingsOf(report)).to.deep.equal([
        {
          rule,
          code: "DUPLICATE_SKU_LINES",
          outcome: "fail",
          fields: ["purchaseOrder.lines[0].sku", "purchaseOrder.lines[2].sku"],
        },
        {
          rule,
          code: "DUPLICATE_SKU_LINES",
          outcome: "fail",
          fields: ["delivery.lines[1].sku", "delivery.lines[2].sku"],
        },
      ]);
    });

    it("still checks the split lines' total quantity against what was received", async function () {
      const input = sampleInput(({ submission }) => {
        submission.invoice.lines[0]!.quantity = 60;
        submission.invoice.lines.push({ sku: "BRK-100", quantity: 41, unitPrice: "2500000" });
        recomputeTotal(submission);
      });
      const report = await verify(input, new FakeHistory());
      expect(findingsOf(report)).to.deep.equal([
        {
          rule,
          code: "INVOICE_QUANTITY_EXCEEDS_RECEIVED",
          outcome: "fail",
          fields: ["invoice.lines[0].quantity", "invoice.lines[2].quantity", "delivery.lines[0].quantity"],
        },
        {
          rule,
          code: "DUPLICATE_SKU_LINES",
          outcome: "fail",
          fields: ["invoice.lines[0].sku", "invoice.lines[2].sku"],
        },
      ]);
    });
  });
});
