// The defects issue 18 names, each as a user meets it: tier-2 and tier-3 holders can read
// their lineage; a financier weighing an open request can read the receivable (its report,
// debtor, tenor, remaining claim; the documents without unit prices); the summary says
// approved after the operator's review; the seller and the debtor no longer see downstream
// prices; a financier reads only the risk views of parties whose paper it weighs or holds.
// And the holding rules: who may receive a certificate, a split that changes something, and
// the minimum piece size.
import { expect } from "chai";
import { Wallet } from "ethers";
import { AppError } from "../../../server/model/errors.js";
import { startTestService, type TestService } from "../harness.js";
import { ApiClient } from "../client.js";
import { createTestParty, validSubmission, type TestParty } from "../scenario.js";

const M = (units: number) => (BigInt(units) * 1_000_000n).toString();

describe("Who may see and hold what (issue 18)", function () {
  this.timeout(300_000);
  let t: TestService;
  let api: ApiClient;
  let p: Record<"seller" | "debtor" | "tier2" | "tier3" | "financier" | "bystander" | "auditor", TestParty>;
  let receivable: string;
  let submission: ReturnType<typeof validSubmission>;
  let root: string;
  let tier2Piece: string;
  let tier3Piece: string;
  let tier2Kept: string;
  let sellerPiece: string;
  let sellerRequest: string;
  let tier3Request: string;

  before(async function () {
    t = await startTestService({ TIERLINE_KEEPER: "false" });
    api = new ApiClient(() => t.baseUrl);
    const operator = api.as(t.operatorKey);
    p = {
      seller: await createTestParty(operator, ["supplier"]),
      debtor: await createTestParty(operator, ["debtor"]),
      tier2: await createTestParty(operator, ["supplier"]),
      tier3: await createTestParty(operator, ["supplier"]),
      financier: await createTestParty(operator, ["financier"]),
      bystander: await createTestParty(operator, ["financier"]),
      auditor: await createTestParty(operator, ["auditor"]),
    };
    submission = validSubmission(p.debtor.id);
    receivable = (await api.as(p.seller.apiKey).post("/v1/receivables", submission)).body.id;
    root = (await api.as(p.debtor.apiKey).post(`/v1/receivables/${receivable}/confirm`)).body.certificateId;
    const first = await api.as(p.seller.apiKey).post(`/v1/certificates/${root}/split`, {
      parts: [
        { toPartyId: p.tier2.id, amount: M(60) },
        { toPartyId: p.seller.id, amount: M(40) },
      ],
    });
    expect(first.status, JSON.stringify(first.body)).to.equal(200);
    [tier2Piece, sellerPiece] = first.body.children.map((c: { id: string }) => c.id);
    const second = await api.as(p.tier2.apiKey).post(`/v1/certificates/${tier2Piece}/split`, {
      parts: [
        { toPartyId: p.tier3.id, amount: M(25) },
        { toPartyId: p.tier2.id, amount: M(35) },
      ],
    });
    expect(second.status, JSON.stringify(second.body)).to.equal(200);
    [tier3Piece, tier2Kept] = second.body.children.map((c: { id: string }) => c.id);
    // Tier 3 asks for financing on its piece: that is the downstream price.
    const asked = await api
      .as(p.tier3.apiKey)
      .post("/v1/financing-requests", { certificateId: tier3Piece, kind: "discount", price: M(24) });
    expect(asked.status, JSON.stringify(asked.body)).to.equal(201);
    tier3Request = asked.body.id;
    const own = await api
      .as(p.seller.apiKey)
      .post("/v1/financing-requests", { certificateId: sellerPiece, kind: "discount", price: M(39) });
    expect(own.status, JSON.stringify(own.body)).to.equal(201);
    sellerRequest = own.body.id;
  });
  after(async function () {
    await t?.close();
  });

  describe("when a tier-2 or tier-3 holder looks up the claim it holds", function () {
    it("reads the trace: the path from its piece to the root, not the other branches", async function () {
      const trace = await api.as(p.tier3.apiKey).get(`/v1/audit/receivables/${receivable}/trace`);
      expect(trace.status, JSON.stringify(trace.body)).to.equal(200);
      expect(trace.body.root.certificateId).to.equal(root);
      expect(trace.body.root.children.map((c: { certificateId: string }) => c.certificateId)).to.deep.equal([
        tier2Piece,
      ]);
      expect(trace.body.root.children[0].children.map((c: { certificateId: string }) => c.certificateId)).to.deep.equal(
        [tier3Piece],
      );
      expect(JSON.stringify(trace.body)).not.to.include(`"certificateId":"${sellerPiece}"`);
      expect(JSON.stringify(trace.body)).not.to.include(M(39)); // the seller's own ask on its sibling branch
    });

    it("reads its own certificate's parent and the root", async function () {
      for (const [holder, parent] of [
        [p.tier3, tier2Piece],
        [p.tier3, root],
        [p.tier2, root],
      ] as const) {
        const response = await api.as(holder.apiKey).get(`/v1/certificates/${parent}`);
        expect(response.status, JSON.stringify(response.body)).to.equal(200);
        expect(response.body.id).to.equal(parent);
      }
    });

    it("still may not read a sibling's piece", async function () {
      const response = await api.as(p.tier3.apiKey).get(`/v1/certificates/${tier2Kept}`);
      expect(response.status).to.equal(403);
      expect(response.body.error.code).to.equal("FORBIDDEN");
    });

    it("reads the root's verification report, not the documents", async function () {
      const response = await api.as(p.tier3.apiKey).get(`/v1/receivables/${receivable}`);
      expect(response.status).to.equal(200);
      expect(response.body.verification.outcome).to.equal("passed");
      expect(response.body).not.to.have.property("documents");
    });
  });

  describe("when a financier weighs an open request", function () {
    it("reads the receivable: verification report, debtor, due date and remaining claim, documents without unit prices", async function () {
      const response = await api.as(p.financier.apiKey).get(`/v1/receivables/${receivable}`);
      expect(response.status, JSON.stringify(response.body)).to.equal(200);
      expect(response.body.debtorId).to.equal(p.debtor.id);
      expect(Math.floor(Date.parse(response.body.dueDate) / 1000)).to.equal(
        Math.floor(Date.parse(submission.invoice.dueDate) / 1000),
      );
      expect(response.body.repaidAmount).to.equal("0");
      expect(response.body.verification.results).to.be.an("array").that.is.not.empty;
      expect(response.body.documents.invoice.total).to.equal(submission.invoice.total);
      expect(response.body.documents.invoice.lines[0]).to.deep.equal({ sku: "SKU-1", quantity: 100 });
      expect(JSON.stringify(response.body.documents)).not.to.include("unitPrice");
    });
  });

  describe("when the operator approved a held submission", function () {
    it("the financing request's verification summary says approved, not held", async function () {
      const operator = api.as(t.operatorKey);
      const related = await createTestParty(operator, ["debtor"], { relatedPartyIds: [p.seller.id] });
      const held = await api.as(p.seller.apiKey).post("/v1/receivables", validSubmission(related.id));
      expect(held.body.status).to.equal("held_for_review");
      const reviewed = await operator.post(`/v1/receivables/${held.body.id}/review`, {
        decision: "approve",
        note: "the relation is disclosed",
      });
      expect(reviewed.status, JSON.stringify(reviewed.body)).to.equal(200);
      const confirmed = await api.as(related.apiKey).post(`/v1/receivables/${held.body.id}/confirm`);
      expect(confirmed.status, JSON.stringify(confirmed.body)).to.equal(200);
      const opened = await api.as(p.seller.apiKey).post("/v1/financing-requests", {
        certificateId: confirmed.body.certificateId,
        kind: "discount",
        price: M(70),
      });
      expect(opened.status, JSON.stringify(opened.body)).to.equal(201);
      const seen = await api.as(p.financier.apiKey).get(`/v1/financing-requests/${opened.body.id}`);
      expect(seen.status).to.equal(200);
      expect(seen.body.verification.outcome).to.equal("approved");
      expect(seen.body.verification.review.decision).to.equal("approve");
    });
  });

  describe("when the seller or the debtor traces the tree", function () {
    it("sees every piece, but not the price or the financier of a downstream piece", async function () {
      for (const party of [p.seller, p.debtor]) {
        const trace = await api.as(party.apiKey).get(`/v1/audit/receivables/${receivable}/trace`);
        expect(trace.status).to.equal(200);
        expect(trace.body.certificateCount).to.equal(5);
        const text = JSON.stringify(trace.body);
        expect(text, party.id).not.to.include(`"price":"${M(24)}"`);
        expect(text, party.id).not.to.include(`"requestId":"${tier3Request}"`);
      }
      // Its own ask the seller still sees.
      const mine = await api.as(p.seller.apiKey).get(`/v1/audit/receivables/${receivable}/trace`);
      expect(JSON.stringify(mine.body)).to.include(`"price":"${M(39)}"`);
      expect(JSON.stringify(mine.body)).to.include(`"requestId":"${sellerRequest}"`);
      // The auditor sees everything.
      const all = await api.as(p.auditor.apiKey).get(`/v1/audit/receivables/${receivable}/trace`);
      expect(JSON.stringify(all.body)).to.include(`"price":"${M(24)}"`);
    });
  });

  describe("when a financier reads a party's risk view", function () {
    it("reads those whose paper it weighs (an open request's holder or debtor), not any party's", async function () {
      const financier = api.as(p.financier.apiKey);
      expect((await financier.get(`/v1/risk/parties/${p.tier3.id}`)).status).to.equal(200);
      expect((await financier.get(`/v1/risk/parties/${p.debtor.id}`)).status).to.equal(200);
      const refused = await financier.get(`/v1/risk/parties/${p.bystander.id}`);
      expect(refused.status).to.equal(403);
      expect(refused.body.error.code).to.equal("FORBIDDEN");
      expect(refused.body.error.details).to.deep.include({ resource: "riskView" });
    });
  });

  describe("when a holder passes a certificate on", function () {
    const transfer = (to: TestParty) =>
      api.as(p.tier2.apiKey).post(`/v1/certificates/${tier2Kept}/transfer`, { toPartyId: to.id });

    it("refuses the auditor and the receivable's own debtor as recipients (RECIPIENT_NOT_ALLOWED)", async function () {
      for (const [to, rule] of [
        [p.auditor, "HOLDER_ROLE"],
        [p.debtor, "HOLDER_ROLE"],
      ] as const) {
        const response = await transfer(to);
        expect(response.status, JSON.stringify(response.body)).to.equal(422);
        expect(response.body.error.code).to.equal("RECIPIENT_NOT_ALLOWED");
        expect(response.body.error.details.rule).to.equal(rule);
      }
      // A supplier that is the debtor of this very receivable: refused as the debtor.
      const both = await createTestParty(api.as(t.operatorKey), ["supplier", "debtor"]);
      const theirs = await api.as(p.seller.apiKey).post("/v1/receivables", validSubmission(both.id));
      const theirRoot = (await api.as(both.apiKey).post(`/v1/receivables/${theirs.body.id}/confirm`)).body
        .certificateId;
      const back = await api.as(p.seller.apiKey).post(`/v1/certificates/${theirRoot}/split`, {
        parts: [
          { toPartyId: both.id, amount: M(50) },
          { toPartyId: p.seller.id, amount: M(50) },
        ],
      });
      expect(back.status, JSON.stringify(back.body)).to.equal(422);
      expect(back.body.error.code).to.equal("RECIPIENT_NOT_ALLOWED");
      expect(back.body.error.details.rule).to.equal("NOT_THE_DEBTOR");
      expect(back.body.error.details.fields).to.deep.equal(["parts[0].toPartyId"]);
    });

    it("meets the same refusal on the chain when it calls the token itself: the auditor may not hold there either", async function () {
      const { ctx } = t.service;
      const { certificates, parties } = ctx.chain.contracts;
      // Registered by role: suppliers and financiers may hold, the auditor and a debtor-only company not.
      expect(await parties.isActive(p.auditor.address)).to.equal(true);
      for (const [party, mayHold] of [
        [p.auditor, false],
        [p.debtor, false],
        [p.tier3, true],
        [p.financier, true],
      ] as const) {
        expect(await parties.mayHold(party.address), party.roles.join()).to.equal(mayHold);
        const indexed = await ctx.db
          .selectFrom("onchain_parties")
          .select("may_hold")
          .where("address", "=", party.address)
          .executeTakeFirstOrThrow();
        expect(indexed.may_hold, party.roles.join()).to.equal(mayHold ? 1 : 0);
      }
      // Through the API: its own stable code, and nothing is sent.
      const block = await ctx.chain.provider.getBlockNumber();
      const viaApi = await transfer(p.auditor);
      expect(viaApi.status, JSON.stringify(viaApi.body)).to.equal(422);
      expect(viaApi.body.error.code).to.equal("RECIPIENT_NOT_ALLOWED");
      expect(await ctx.chain.provider.getBlockNumber()).to.equal(block);
      // The holder's own key, straight to the contract: the chain refuses too, with a 4xx of the same status.
      const row = await ctx.db
        .selectFrom("parties")
        .select("encrypted_key")
        .where("id", "=", p.tier2.id)
        .executeTakeFirstOrThrow();
      const wallet = new Wallet(ctx.vault.decrypt(row.encrypted_key!));
      const request = await certificates
        .getFunction("transferFrom")
        .populateTransaction(p.tier2.address, p.auditor.address, tier2Kept);
      const direct = await ctx.chain
        .senderFor(wallet)
        .send(request, { kind: "test:transferFrom", ref: tier2Kept })
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      expect(direct).to.be.instanceOf(AppError);
      const refused = direct as AppError;
      expect(refused.code).to.equal("CERTIFICATE_RECIPIENT_MAY_NOT_HOLD");
      expect(refused.status).to.equal(viaApi.status);
      expect(refused.details).to.deep.include({
        contractError: "CertificateRecipientMayNotHold",
        certificateId: tier2Kept,
        to: p.auditor.address,
      });
      expect(await certificates.ownerOf(tier2Kept)).to.equal(p.tier2.address);
    });

    it("refuses a split into one piece for oneself (SPLIT_CHANGES_NOTHING)", async function () {
      const response = await api
        .as(p.tier2.apiKey)
        .post(`/v1/certificates/${tier2Kept}/split`, { parts: [{ toPartyId: p.tier2.id, amount: M(35) }] });
      expect(response.status, JSON.stringify(response.body)).to.equal(422);
      expect(response.body.error.code).to.equal("SPLIT_CHANGES_NOTHING");
    });

    it("refuses a piece below the minimum piece size, 1.00 by default (SPLIT_PIECE_TOO_SMALL)", async function () {
      expect(t.service.ctx.config.TIERLINE_MIN_PIECE_SIZE).to.equal("1000000");
      const response = await api.as(p.tier2.apiKey).post(`/v1/certificates/${tier2Kept}/split`, {
        parts: [
          { toPartyId: p.tier3.id, amount: "999999" },
          { toPartyId: p.tier2.id, amount: (BigInt(M(35)) - 999_999n).toString() },
        ],
      });
      expect(response.status, JSON.stringify(response.body)).to.equal(422);
      expect(response.body.error.code).to.equal("SPLIT_PIECE_TOO_SMALL");
      expect(response.body.error.details).to.include({ amount: "999999", minPieceSize: "1000000" });
      const still = await t.service.ctx.chain.contracts.certificates.getFunction("ownerOf")(tier2Kept);
      expect(still).to.equal(p.tier2.address);
    });

    it("lets a supplier and a financier receive, and a piece of exactly the minimum", async function () {
      const response = await api.as(p.tier2.apiKey).post(`/v1/certificates/${tier2Kept}/split`, {
        parts: [
          { toPartyId: p.tier3.id, amount: "1000000" },
          { toPartyId: p.bystander.id, amount: (BigInt(M(35)) - 1_000_000n).toString() },
        ],
      });
      expect(response.status, JSON.stringify(response.body)).to.equal(200);
      expect(response.body.children.map((c: { holderPartyId: string }) => c.holderPartyId)).to.deep.equal([
        p.tier3.id,
        p.bystander.id,
      ]);
    });
  });
});
