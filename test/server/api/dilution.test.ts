// Disputes and credit notes through the API (issue 16): the debtor disputes, withdraws, proposes
// a credit note the service checks against the invoice; the seller consents and the service
// applies it over the leaves from its index; the index shows face, credited and owed and each
// leaf's cut, and a reindex from events alone rebuilds exactly the same tables.
import { expect } from "chai";
import { startTestService, type TestService } from "../harness.js";
import { ApiClient } from "../client.js";
import { createTestParty, validSubmission, type TestParty } from "../scenario.js";
import { INDEX_TABLES } from "../../../server/store/schema.js";

const DOC = `0x${"cd".repeat(32)}`;

describe("API: disputes and credit notes", function () {
  this.timeout(90_000);
  let t: TestService;
  let api: ApiClient;
  let seller: TestParty;
  let debtor: TestParty;
  let tier2: TestParty;
  let receivableId: string;
  let sellerPiece: string;
  let tier2Piece: string;

  const note = (over: Record<string, unknown> = {}) => ({
    amount: "50000000",
    reasonCode: "RETURN",
    documentHash: DOC,
    lines: [{ sku: "SKU-1", quantity: 50 }],
    ...over,
  });

  before(async function () {
    t = await startTestService();
    api = new ApiClient(() => t.baseUrl);
    const operator = api.as(t.operatorKey);
    seller = await createTestParty(operator, ["supplier"]);
    debtor = await createTestParty(operator, ["debtor"]);
    tier2 = await createTestParty(operator, ["supplier"]);
    // 100 units at 1.000000: face 100,000,000.
    receivableId = (await api.as(seller.apiKey).post("/v1/receivables", validSubmission(debtor.id))).body.id;
    const confirmed = await api.as(debtor.apiKey).post(`/v1/receivables/${receivableId}/confirm`);
    expect(confirmed.status, JSON.stringify(confirmed.body)).to.equal(200);
    const split = await api.as(seller.apiKey).post(`/v1/certificates/${confirmed.body.certificateId}/split`, {
      parts: [
        { toPartyId: tier2.id, amount: "60000000" },
        { toPartyId: seller.id, amount: "40000000" },
      ],
    });
    expect(split.status, JSON.stringify(split.body)).to.equal(200);
    [tier2Piece, sellerPiece] = split.body.children.map((c: { id: string }) => c.id);
  });
  after(async function () {
    await t?.close();
  });

  describe("when the debtor disputes the receivable", function () {
    it("opens the dispute on-chain and answers it with the transaction", async function () {
      const opened = await api
        .as(debtor.apiKey)
        .post(`/v1/receivables/${receivableId}/disputes`, { reasonCode: "DAMAGED", documentHash: DOC });
      expect(opened.status, JSON.stringify(opened.body)).to.equal(200);
      expect(opened.body.dispute).to.include({ status: "open", reasonCode: "DAMAGED", receivableId });
      expect(opened.body.transactions.map((x: { kind: string }) => x.kind)).to.deep.equal(["openDispute"]);
      const read = await api.as(tier2.apiKey).get(`/v1/receivables/${receivableId}/credit-notes`);
      expect(read.body.disputed).to.equal(true);
    });

    it("refuses a second dispute with the contract's code", async function () {
      const again = await api
        .as(debtor.apiKey)
        .post(`/v1/receivables/${receivableId}/disputes`, { reasonCode: "DAMAGED", documentHash: DOC });
      expect(again.status).to.equal(409);
      expect(again.body.error.code).to.equal("DISPUTE_ALREADY_OPEN");
    });

    it("freezes the tree: a holder cannot split its piece", async function () {
      const split = await api.as(tier2.apiKey).post(`/v1/certificates/${tier2Piece}/split`, {
        parts: [
          { toPartyId: seller.id, amount: "30000000" },
          { toPartyId: tier2.id, amount: "30000000" },
        ],
      });
      expect(split.status).to.equal(409);
      expect(split.body.error.code).to.equal("CERTIFICATE_RECEIVABLE_DISPUTED");
    });

    it("lets only the debtor withdraw it", async function () {
      const bySeller = await api.as(seller.apiKey).post(`/v1/receivables/${receivableId}/disputes/withdraw`);
      expect(bySeller.status).to.equal(403);
      const withdrawn = await api.as(debtor.apiKey).post(`/v1/receivables/${receivableId}/disputes/withdraw`);
      expect(withdrawn.status, JSON.stringify(withdrawn.body)).to.equal(200);
      expect(withdrawn.body.dispute.status).to.equal("withdrawn");
    });
  });

  describe("when the debtor proposes a credit note", function () {
    it("refuses a line the invoice does not have", async function () {
      const r = await api
        .as(debtor.apiKey)
        .post(`/v1/receivables/${receivableId}/credit-notes`, note({ lines: [{ sku: "SKU-9", quantity: 1 }] }));
      expect(r.status).to.equal(422);
      expect(r.body.error.code).to.equal("CREDIT_NOTE_LINE_NOT_INVOICED");
      expect(r.body.error.details.fields).to.deep.equal(["lines[0].sku"]);
    });

    it("refuses more of a line than was invoiced", async function () {
      const r = await api
        .as(debtor.apiKey)
        .post(`/v1/receivables/${receivableId}/credit-notes`, note({ lines: [{ sku: "SKU-1", quantity: 101 }] }));
      expect(r.status).to.equal(422);
      expect(r.body.error.code).to.equal("CREDIT_NOTE_LINE_ABOVE_INVOICED");
      expect(r.body.error.details).to.include({ invoiced: 100, credited: 101 });
    });

    it("refuses an amount above the value of the lines it names", async function () {
      const r = await api
        .as(debtor.apiKey)
        .post(`/v1/receivables/${receivableId}/credit-notes`, note({ amount: "50000001" }));
      expect(r.status).to.equal(422);
      expect(r.body.error.code).to.equal("CREDIT_NOTE_ABOVE_LINES");
      expect(r.body.error.details.linesValue).to.equal("50000000");
    });

    it("refuses the seller: only the debtor proposes", async function () {
      const r = await api.as(seller.apiKey).post(`/v1/receivables/${receivableId}/credit-notes`, note());
      expect(r.status).to.equal(403);
    });

    it("proposes it on-chain, which opens a dispute", async function () {
      const r = await api.as(debtor.apiKey).post(`/v1/receivables/${receivableId}/credit-notes`, note());
      expect(r.status, JSON.stringify(r.body)).to.equal(200);
      expect(r.body.creditNote).to.include({ status: "proposed", amount: "50000000", reasonCode: "RETURN" });
      expect(r.body.transactions.map((x: { kind: string }) => x.kind)).to.deep.equal(["proposeCreditNote"]);
      const read = await api.as(debtor.apiKey).get(`/v1/receivables/${receivableId}/credit-notes`);
      expect(read.body.disputed).to.equal(true);
      expect(read.body.creditNotes.map((n: { id: string }) => n.id)).to.deep.equal([r.body.creditNote.id]);
    });
  });

  describe("when the seller consents", function () {
    let creditNoteId: string;
    before(async function () {
      const read = await api.as(debtor.apiKey).get(`/v1/receivables/${receivableId}/credit-notes`);
      creditNoteId = read.body.creditNotes[0].id;
    });

    it("refuses a holder that is not the original seller, and the debtor", async function () {
      const byHolder = await api.as(tier2.apiKey).post(`/v1/credit-notes/${creditNoteId}/consent`);
      expect(byHolder.status).to.equal(403);
      const byDebtor = await api.as(debtor.apiKey).post(`/v1/credit-notes/${creditNoteId}/consent`);
      expect(byDebtor.status).to.equal(403);
    });

    it("applies it: the seller's retained piece first, the rest on the other leaf", async function () {
      const r = await api.as(seller.apiKey).post(`/v1/credit-notes/${creditNoteId}/consent`);
      expect(r.status, JSON.stringify(r.body)).to.equal(200);
      expect(r.body.creditNote).to.include({
        status: "applied",
        approvedBy: "seller",
        retainedReduction: "40000000",
        sharedReduction: "10000000",
      });
      expect(r.body.transactions.map((x: { kind: string }) => x.kind)).to.deep.equal(["applyCreditNote"]);
      const cuts = Object.fromEntries(
        r.body.creditNote.leaves.map(
          (l: { certificateId: string; reduction: string; claim: string; retained: boolean }) => [
            l.certificateId,
            [l.reduction, l.claim, l.retained],
          ],
        ),
      );
      expect(cuts).to.deep.equal({
        [tier2Piece]: ["10000000", "50000000", false],
        [sellerPiece]: ["40000000", "0", true],
      });
    });

    it("shows face, credited and owed on the receivable, and each leaf's claim", async function () {
      const receivable = await api.as(tier2.apiKey).get(`/v1/receivables/${receivableId}`);
      expect(receivable.body).to.include({
        faceValue: "100000000",
        creditedAmount: "50000000",
        owedAmount: "50000000",
      });
      const piece = await api.as(tier2.apiKey).get(`/v1/certificates/${tier2Piece}`);
      expect(piece.body).to.include({ faceValue: "60000000", reduction: "10000000", claim: "50000000" });
      const read = await api.as(seller.apiKey).get(`/v1/receivables/${receivableId}/credit-notes`);
      expect(read.body).to.include({ disputed: false, creditedAmount: "50000000", owedAmount: "50000000" });
      expect(read.body.disputes.map((d: { status: string }) => d.status)).to.deep.equal(["withdrawn", "resolved"]);
    });

    it("refuses a note that would credit more than was invoiced in all", async function () {
      const r = await api
        .as(debtor.apiKey)
        .post(
          `/v1/receivables/${receivableId}/credit-notes`,
          note({ amount: "50000001", lines: [{ sku: "SKU-1", quantity: 100 }] }),
        );
      expect(r.status).to.equal(422);
      expect(r.body.error.code).to.equal("CREDIT_NOTE_ABOVE_INVOICED");
    });
  });

  describe("when the index is rebuilt from the chain", function () {
    it("rebuilds disputes, credit notes, cuts and the credited amount exactly", async function () {
      const db = t.service.ctx.db;
      await t.service.ctx.indexer.sync();
      const snapshot = async () => {
        const out: Record<string, unknown[]> = {};
        for (const table of INDEX_TABLES) out[table] = await db.selectFrom(table).selectAll().execute();
        for (const rows of Object.values(out)) rows.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
        return out;
      };
      const live = await snapshot();
      expect(live.onchain_credit_notes).to.have.length(1);
      expect(live.onchain_leaf_reductions).to.have.length(2);
      expect(live.onchain_disputes).to.have.length(2);
      await t.service.ctx.indexer.rebuild();
      expect(await snapshot()).to.deep.equal(live);
    });
  });
});
