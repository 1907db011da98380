// DUPLICATE: exact (already on the registry) and near (same order and amount, other invoice number).
import { expect } from "chai";
import { canonicalDocumentNumber } from "../../../server/model/document-identity.js";
import { normaliseInvoiceNumber } from "../../../server/model/receivable-schema.js";
import { earlier, FakeHistory } from "./fake-history.js";
import { findingsOf, findingWith, sampleInput, verify } from "./sample-submission.js";

const PO = "PO-2026-0117";
/** A larger order, so that invoicing it twice stays within its total and only the duplicate shows. */
const roomyOrder = sampleInput(({ submission }) => (submission.purchaseOrder.lines[1]!.quantity = 1_000));

describe("verification: duplicates", function () {
  describe("when the receivable is already on the registry", function () {
    it("rejects with EXACT_DUPLICATE_ON_CHAIN", async function () {
      const input = sampleInput();
      const history = new FakeHistory();
      history.onChain.add(input.receivableId);
      const report = await verify(input, history);
      expect(report.outcome).to.equal("rejected");
      expect(findingsOf(report)).to.deep.equal([
        {
          rule: "DUPLICATE",
          code: "EXACT_DUPLICATE_ON_CHAIN",
          outcome: "fail",
          fields: ["debtorId", "invoice.number"],
        },
      ]);
      expect(findingWith(report, "EXACT_DUPLICATE_ON_CHAIN").message).to.include(input.receivableId);
    });

    it("passes when only another receivable is on the registry", async function () {
      const history = new FakeHistory();
      history.onChain.add(sampleInput(({ submission }) => (submission.invoice.number = "INV-2026-0041")).receivableId);
      expect((await verify(sampleInput(), history)).outcome).to.equal("passed");
    });
  });

  describe("when the same order was invoiced for the same amount under another invoice number", function () {
    it("holds with NEAR_DUPLICATE, naming the other receivables", async function () {
      const history = new FakeHistory().add(
        earlier("rcv-b", { poNumber: PO, invoiceNumber: "INV-2026-0040", faceValue: 330_000_000n }),
        earlier("rcv-a", { poNumber: PO, invoiceNumber: "INV-2026-0039", faceValue: 330_000_000n }),
      );
      const report = await verify(structuredClone(roomyOrder), history);
      expect(report.outcome).to.equal("held");
      expect(findingsOf(report)).to.deep.equal([
        {
          rule: "DUPLICATE",
          code: "NEAR_DUPLICATE",
          outcome: "hold",
          fields: ["purchaseOrder.number", "invoice.total", "invoice.number"],
        },
      ]);
      expect(findingWith(report, "NEAR_DUPLICATE").message).to.include("rcv-a, rcv-b");
    });

    it("does not count the same invoice number written differently (that is the same receivable)", async function () {
      const history = new FakeHistory().add(
        earlier("rcv-same", { poNumber: PO, invoiceNumber: "inv 2026/0042", faceValue: 330_000_000n }),
      );
      const report = await verify(structuredClone(roomyOrder), history);
      expect(report.outcome).to.equal("passed");
      expect(history.calls.find((c) => c.method === "sameOrderSameAmount")?.args).to.deep.equal([
        "party-tier1",
        "party-anchor",
        canonicalDocumentNumber(PO),
        330_000_000n,
        normaliseInvoiceNumber("INV-2026-0042"),
      ]);
    });

    it("does not count another amount on the same order", async function () {
      const history = new FakeHistory().add(
        earlier("rcv-other", { poNumber: PO, invoiceNumber: "INV-2026-0040", faceValue: 329_999_999n }),
      );
      expect((await verify(structuredClone(roomyOrder), history)).outcome).to.equal("passed");
    });
  });
});
