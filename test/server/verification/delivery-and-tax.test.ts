// DELIVERY: one delivery backs at most what was delivered, across receivables and sellers;
// THREE_WAY_MATCH: the tax cannot inflate the face value.
import { expect } from "chai";
import { DEFAULT_VERIFICATION_CONFIG } from "../../../server/verification/verify.js";
import { earlier, FakeHistory } from "./fake-history.js";
import { findingsOf, findingWith, sampleInput, verify } from "./sample-submission.js";

// The sample delivery: Rhein Freight, waybill "WB 77812", received 100 x BRK-100 and 50 x BRK-200.
const sampleDelivery = {
  carrier: "Rhein Freight",
  waybill: "WB 77812",
  received: [
    { sku: "BRK-100", quantity: 100 },
    { sku: "BRK-200", quantity: 50 },
  ],
};

describe("verification: one delivery backs at most what was delivered", function () {
  describe("when another seller already invoiced the whole delivery", function () {
    const otherSellersDelivery = () =>
      earlier("rcv-first", {
        sellerId: "party-other-seller",
        faceValue: 330_000_000n,
        delivery: {
          ...sampleDelivery,
          // The same delivery written differently: still one delivery.
          carrier: "RHEIN-FREIGHT",
          waybill: "wb-77812",
          invoiced: [
            { sku: "BRK-100", quantity: 100 },
            { sku: "BRK-200", quantity: 50 },
          ],
        },
      });

    it("holds the second invoice for the operator, telling the seller only that another party invoiced it", async function () {
      const report = await verify(sampleInput(), new FakeHistory().add(otherSellersDelivery()));
      // Held, not refused: whoever invoiced a waybill first cannot block the real delivery.
      expect(report.outcome).to.equal("held");
      expect(findingsOf(report)).to.deep.equal([
        {
          rule: "DELIVERY",
          code: "DELIVERY_INVOICED_BY_ANOTHER_PARTY",
          outcome: "hold",
          fields: ["delivery.carrier", "delivery.waybill", "delivery.lines", "invoice.lines"],
        },
      ]);
      const finding = findingWith(report, "DELIVERY_INVOICED_BY_ANOTHER_PARTY");
      expect(finding.message).to.equal(
        "delivery WB 77812 by Rhein Freight is already invoiced by another party: held for the operator's review",
      );
      // The other seller's receivable and quantities sit under details.otherSellers, which the
      // access policy shows the operator and auditors only.
      expect(finding.details).to.deep.equal({
        delivery: { carrier: "Rhein Freight", waybill: "WB 77812", key: "rheinfreight|wb778l2" },
        otherSellers: {
          receivableIds: ["rcv-first"],
          skus: [
            { sku: "BRK-100", received: "100", alreadyInvoiced: "100", thisInvoice: "100" },
            { sku: "BRK-200", received: "50", alreadyInvoiced: "50", thisInvoice: "50" },
          ],
        },
      });
    });

    it("refuses what the seller's own receivables already invoiced, naming only those", async function () {
      const own = earlier("rcv-own", {
        faceValue: 1n,
        delivery: { ...sampleDelivery, invoiced: [{ sku: "BRK-200", quantity: 1 }] },
      });
      const report = await verify(sampleInput(), new FakeHistory().add(otherSellersDelivery(), own));
      expect(report.outcome).to.equal("rejected");
      expect(findingsOf(report).map((f) => f.code)).to.deep.equal(["DELIVERY_OVER_INVOICED"]);
      const finding = findingWith(report, "DELIVERY_OVER_INVOICED");
      expect(finding.message).to.equal(
        'delivery WB 77812 by Rhein Freight: sku "BRK-200" received 50, already invoiced 1 by rcv-own; with this invoice\'s 50 that is 51',
      );
      expect(finding.details).to.deep.equal({
        delivery: { carrier: "Rhein Freight", waybill: "WB 77812", key: "rheinfreight|wb778l2" },
        sku: "BRK-200",
        received: "50",
        alreadyInvoiced: "1",
        thisInvoice: "50",
        backingReceivableIds: ["rcv-own"],
      });
    });

    it("counts only the seller's own statements of the receipt in what it tells the seller", async function () {
      // Another seller stated a smaller receipt (60): the seller's refusal may not reveal it.
      const smaller = earlier("rcv-other-small", {
        sellerId: "party-other-seller",
        faceValue: 1n,
        delivery: { ...sampleDelivery, received: [{ sku: "BRK-100", quantity: 60 }], invoiced: [] },
      });
      const report = await verify(sampleInput(), new FakeHistory().add(smaller));
      expect(findingsOf(report).map((f) => f.code)).to.deep.equal(["DELIVERY_INVOICED_BY_ANOTHER_PARTY"]);
      expect(JSON.stringify(findingWith(report, "DELIVERY_INVOICED_BY_ANOTHER_PARTY").message)).not.to.include("60");
    });
  });

  describe("when a partial delivery is invoiced in two parts", function () {
    it("accepts the second part as long as the total stays within what was received", async function () {
      const history = new FakeHistory().add(
        earlier("rcv-part-1", {
          faceValue: 1n,
          delivery: { ...sampleDelivery, invoiced: [{ sku: "BRK-100", quantity: 0 }] },
        }),
      );
      expect(findingsOf(await verify(sampleInput(), history))).to.deep.equal([]);
      const fullHistory = new FakeHistory().add(
        earlier("rcv-part-1", {
          faceValue: 1n,
          delivery: { ...sampleDelivery, invoiced: [{ sku: "BRK-200", quantity: 1 }] },
        }),
      );
      const report = await verify(sampleInput(), fullHistory);
      expect(findingsOf(report).map((f) => f.code)).to.deep.equal(["DELIVERY_OVER_INVOICED"]);
      expect(findingWith(report, "DELIVERY_OVER_INVOICED").details).to.include({
        sku: "BRK-200",
        received: "50",
        alreadyInvoiced: "1",
        thisInvoice: "50",
      });
    });
  });

  describe("when the delivery was described with a smaller receipt before", function () {
    it("counts the smaller receipt: a larger description does not make more goods arrive", async function () {
      const history = new FakeHistory().add(
        earlier("rcv-small", {
          faceValue: 1n,
          delivery: {
            ...sampleDelivery,
            received: [{ sku: "BRK-100", quantity: 60 }],
            invoiced: [{ sku: "BRK-200", quantity: 0 }],
          },
        }),
      );
      const report = await verify(sampleInput(), history);
      expect(findingWith(report, "DELIVERY_OVER_INVOICED").details).to.include({
        sku: "BRK-100",
        received: "60",
        thisInvoice: "100",
      });
    });
  });

  describe("when the earlier receivable on the delivery was rejected", function () {
    it("does not count it", async function () {
      const history = new FakeHistory().add(
        earlier("rcv-rejected", {
          faceValue: 330_000_000n,
          rejected: true,
          delivery: { ...sampleDelivery, invoiced: sampleDelivery.received },
        }),
      );
      expect(findingsOf(await verify(sampleInput(), history))).to.deep.equal([]);
    });
  });
});

describe("verification: the tax is bounded", function () {
  it("refuses lines of 100 tUSD with a tax of 99,900 tUSD (issue 10), naming the rule and the bound", async function () {
    const input = sampleInput(({ submission }) => {
      submission.purchaseOrder.lines = [{ sku: "BRK-100", quantity: 1, unitPrice: "100000000" }];
      submission.delivery.lines = [{ sku: "BRK-100", quantity: 1 }];
      submission.invoice.lines = [{ sku: "BRK-100", quantity: 1, unitPrice: "100000000" }];
      submission.invoice.tax = "99900000000";
      submission.invoice.total = "100000000000";
    });
    const report = await verify(input, new FakeHistory());
    expect(report.outcome).to.equal("rejected");
    expect(findingsOf(report).map((f) => [f.rule, f.code])).to.deep.equal([
      ["THREE_WAY_MATCH", "INVOICE_TAX_OUT_OF_BOUNDS"],
    ]);
    expect(findingWith(report, "INVOICE_TAX_OUT_OF_BOUNDS").details).to.deep.equal({
      tax: "99900000000",
      linesTotal: "100000000",
      maxTaxBps: 2_500,
      maxTax: "25000000",
    });
  });

  it("accepts a tax of exactly the bound and refuses one unit more", async function () {
    const withTax = (tax: bigint) =>
      sampleInput(({ submission }) => {
        submission.invoice.tax = tax.toString();
        submission.invoice.total = (300_000_000n + tax).toString();
      });
    expect(findingsOf(await verify(withTax(75_000_000n), new FakeHistory()))).to.deep.equal([]);
    expect(findingsOf(await verify(withTax(75_000_001n), new FakeHistory())).map((f) => f.code)).to.deep.equal([
      "INVOICE_TAX_OUT_OF_BOUNDS",
    ]);
  });

  it("follows the configured bound (TIERLINE_MAX_TAX_BPS)", async function () {
    const input = sampleInput(); // 30 tUSD tax on 300 tUSD of lines: 1,000 bps
    expect(
      findingsOf(await verify(input, new FakeHistory(), { ...DEFAULT_VERIFICATION_CONFIG, maxTaxBps: 999 })).map(
        (f) => f.code,
      ),
    ).to.deep.equal(["INVOICE_TAX_OUT_OF_BOUNDS"]);
    expect(
      findingsOf(await verify(input, new FakeHistory(), { ...DEFAULT_VERIFICATION_CONFIG, maxTaxBps: 1_000 })),
    ).to.deep.equal([]);
  });
});
