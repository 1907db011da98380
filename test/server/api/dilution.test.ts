// Disputes and credit notes through the API (issue 16): the debtor disputes, withdraws, proposes
// a credit note the service checks against the invoice; the seller consents and the service
// applies it over the leaves from its index; the index shows face, credited and owed and each
// leaf's cut, and a reindex from events alone rebuilds exactly the same tables.
import { expect } from "chai";
import { startTestService, type TestService } from "../harness.js";
import { ApiClient } from "../client.js";
import { createTestParty, validSubmission, type TestParty } from "../scenario.js";
import { INDEX_TABLES } from "../../../server/store/schema.js";
import { findPartyById } from "../../../server/store/parties-store.js";
import { debtorExposure, supplierExposure } from "../../../server/risk/exposure.js";
import { Wallet } from "ethers";

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
  let rootId: string;

  /** A ledger call from a party's custodial key, through the service's own queue for that key. */
  const sendAs = async (party: TestParty, request: Promise<{ to?: string | null; data?: string }>, kind: string) => {
    const ctx = t.service.ctx;
    const record = await findPartyById(ctx.db, party.id);
    const wallet = new Wallet(ctx.vault.decrypt(record!.encryptedKey!));
    const receipt = await ctx.chain.senderFor(wallet).send(await request, { kind, ref: party.id });
    await ctx.indexer.sync(receipt.blockNumber);
    return receipt;
  };

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
    rootId = confirmed.body.certificateId;
    // The seller passes its pieces with recourse: it endorses the root before splitting it.
    await sendAs(
      seller,
      t.service.ctx.chain.contracts.recourse!.grantRecourse.populateTransaction(rootId),
      "grantRecourse",
    );
    const split = await api.as(seller.apiKey).post(`/v1/certificates/${rootId}/split`, {
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

  describe("when a client asks where the contracts are", function () {
    it("lists both ledgers in /v1/platform, as deployed", async function () {
      const platform = await api.get("/v1/platform");
      const addresses = t.service.ctx.chain.deployment.addresses;
      expect(addresses.dilutionLedger).to.match(/^0x[0-9a-fA-F]{40}$/);
      expect(platform.body.chain.contracts).to.include({
        dilutionLedger: addresses.dilutionLedger,
        recourseLedger: addresses.recourseLedger,
      });
    });
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
      const repayments = await api.as(debtor.apiKey).get(`/v1/receivables/${receivableId}/repayments`);
      expect(repayments.body).to.include({ repaidAmount: "0", outstanding: "50000000" });
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

  describe("when an auditor traces the receivable", function () {
    it("shows the credit note, each leaf's cut and claim, and conservation after dilution", async function () {
      const operator = api.as(t.operatorKey);
      const trace = await operator.get(`/v1/audit/receivables/${receivableId}/trace`);
      expect(trace.status, JSON.stringify(trace.body)).to.equal(200);
      expect(trace.body.receivable).to.include({ creditedAmount: "50000000", owedAmount: "50000000" });
      expect(trace.body.creditNotes.map((n: { status: string; amount: string }) => [n.status, n.amount])).to.deep.equal(
        [["applied", "50000000"]],
      );
      const leaves = trace.body.root.children as Array<{
        certificateId: string;
        claim: string;
        reduction: string;
        dilutions: Array<{ reduction: string; retained: boolean }>;
        endorsements: unknown[];
      }>;
      const byId = Object.fromEntries(leaves.map((l) => [l.certificateId, l]));
      expect(byId[sellerPiece]).to.include({ reduction: "40000000", claim: "0" });
      expect(byId[tier2Piece]!.dilutions.map((d) => [d.reduction, d.retained])).to.deep.equal([["10000000", false]]);
      expect(trace.body.root.endorsements).to.have.length(1);
      expect(trace.body.conservation).to.include({
        credited: "50000000",
        liveLeafClaimSum: "50000000",
        liveLeafFaceSum: "100000000",
        conserves: true,
      });
      expect(trace.body.transactions.map((x: { kind: string }) => x.kind)).to.include.members([
        "dispute",
        "dispute-withdrawal",
        "credit-note-proposal",
        "credit-note",
        "recourse-endorsement",
      ]);
    });

    it("counts the debtor's exposure at what it owes after the credit note", async function () {
      const ctx = t.service.ctx;
      const debtorRecord = (await findPartyById(ctx.db, debtor.id))!;
      expect((await debtorExposure(ctx, debtorRecord)).outstanding).to.equal(50_000_000n);
      const exposure = await api.as(t.operatorKey).get(`/v1/audit/parties/${debtor.id}/exposure`);
      expect(exposure.body.owes.total).to.equal("50000000");
      expect(exposure.body.owes.receivables[0]).to.include({ creditedAmount: "50000000", outstanding: "50000000" });
    });
  });

  describe("when the holder that bore a cut claims it from the endorser", function () {
    let claimId: string;
    before(async function () {
      // Through the API: the service picks the nearest guarantor, the seller's endorsement of the root.
      const opened = await api
        .as(tier2.apiKey)
        .post(`/v1/certificates/${tier2Piece}/recourse-claims`, { kind: "dilution" });
      expect(opened.status, JSON.stringify(opened.body)).to.equal(200);
      expect(opened.body.claim).to.include({ kind: "dilution", guarantorCertificateId: rootId, endorsementIndex: 0 });
      expect(opened.body.transactions.map((x: { kind: string }) => x.kind)).to.deep.equal(["openDilutionClaim"]);
      claimId = (await t.service.ctx.db.selectFrom("onchain_recourse_claims").select("id").executeTakeFirstOrThrow())
        .id;
      expect(opened.body.claim.id).to.equal(claimId);
    });

    it("indexes the claim on the right guarantor, for the cut it covers", async function () {
      const row = await t.service.ctx.db
        .selectFrom("onchain_recourse_claims")
        .selectAll()
        .where("id", "=", claimId)
        .executeTakeFirstOrThrow();
      expect(row).to.include({
        kind: "dilution",
        status: "open",
        leaf_id: tier2Piece,
        receivable_id: receivableId,
        creditor: tier2.address,
        guarantor: seller.address,
        guarantor_certificate_id: rootId,
        amount: "10000000",
      });
    });

    it("counts the open claim in the guarantor's exposure and limits, and the creditor's", async function () {
      const ctx = t.service.ctx;
      const sellerRecord = (await findPartyById(ctx.db, seller.id))!;
      const sells = await supplierExposure(ctx, sellerRecord);
      expect(sells.recourse).to.equal(10_000_000n);
      const asGuarantor = await api.as(t.operatorKey).get(`/v1/audit/parties/${seller.id}/exposure`);
      expect(asGuarantor.body.recourse.owesAsGuarantor).to.equal("10000000");
      expect(asGuarantor.body.recourse.claims.map((c: { claimId: string }) => c.claimId)).to.deep.equal([claimId]);
      const risk = await api.as(t.operatorKey).get(`/v1/risk/parties/${seller.id}`);
      expect(risk.body.limits.supplier.exposureParts.recourse).to.equal("10000000");
      const asCreditor = await api.as(tier2.apiKey).get(`/v1/audit/parties/${tier2.id}/exposure`);
      expect(asCreditor.body.recourse).to.include({ owesAsGuarantor: "0", owedAsCreditor: "10000000" });
    });

    it("shows the claim on the leaf in the trace", async function () {
      const trace = await api.as(t.operatorKey).get(`/v1/audit/receivables/${receivableId}/trace`);
      const leaf = (trace.body.root.children as Array<{ certificateId: string; recourseClaims: unknown[] }>).find(
        (c) => c.certificateId === tier2Piece,
      )!;
      expect(leaf.recourseClaims).to.have.length(1);
      expect(leaf.recourseClaims[0]).to.deep.include({ claimId, kind: "dilution", status: "open", amount: "10000000" });
    });

    it("stops counting it once the guarantor pays", async function () {
      const ctx = t.service.ctx;
      const { recourse, token } = ctx.chain.contracts;
      const funded = await api.as(t.operatorKey).post(`/v1/parties/${seller.id}/test-funds`, { amount: "10000000" });
      expect(funded.status, JSON.stringify(funded.body)).to.equal(200);
      await sendAs(seller, token.approve.populateTransaction(String(recourse!.target), 10_000_000n), "approve");
      await sendAs(seller, recourse!.payClaim.populateTransaction(claimId), "payClaim");
      const sellerRecord = (await findPartyById(ctx.db, seller.id))!;
      expect((await supplierExposure(ctx, sellerRecord)).recourse).to.equal(0n);
      const row = await ctx.db
        .selectFrom("onchain_recourse_claims")
        .select(["status", "paid_by"])
        .where("id", "=", claimId)
        .executeTakeFirstOrThrow();
      expect(row).to.deep.equal({ status: "paid", paid_by: seller.address });
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
      expect(live.onchain_recourse_endorsements).to.have.length(1);
      expect(live.onchain_recourse_claims).to.have.length(1);
      await t.service.ctx.indexer.rebuild();
      expect(await snapshot()).to.deep.equal(live);
    });
  });

  describe("when the holder of a diluted piece asks for financing", function () {
    it("binds the request and its risk attestation to the claim after the cut, as the market computes it", async function () {
      const opened = await api
        .as(tier2.apiKey)
        .post("/v1/financing-requests", { certificateId: tier2Piece, kind: "discount", price: "45000000" });
      expect(opened.status, JSON.stringify(opened.body)).to.equal(201);
      expect(opened.body).to.include({ faceValue: "60000000", remainingClaim: "50000000" });
      expect(opened.body.attestation?.attested, JSON.stringify(opened.body.attestation)).to.equal(true);
    });
  });
});
