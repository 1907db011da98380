// Recourse through the API (issue 16): the seller endorses the root and splits it; tier 2
// endorses its piece and passes it to tier 3; the receivable defaults; tier 3 claims on the
// nearest endorser (tier 2), which pays and receives the leaf, then passes the claim up to the
// seller, which pays in turn. Each route is refused from the wrong role and the wrong party.
import { expect } from "chai";
import { startTestService, type TestService } from "../harness.js";
import { ApiClient } from "../client.js";
import { createTestParty, type TestParty } from "../scenario.js";
import {
  advanceChainTime,
  balanceOf,
  chainTime,
  mint,
  registeredReceivable,
  type RegisteredReceivable,
} from "../repayment-scenario.js";

const TIER2_SHARE = 60_000_000n;
const RECEIVABLE_DEFAULTED = "3";

describe("API: recourse up the chain of endorsers", function () {
  this.timeout(120_000);
  let t: TestService;
  let api: ApiClient;
  let seller: TestParty;
  let debtor: TestParty;
  let tier2: TestParty;
  let tier3: TestParty;
  let receivable: RegisteredReceivable;
  let tier2Piece: string;
  let claimId: string;
  let escalatedId: string;

  const holderOf = async (id: string) =>
    String(await t.service.ctx.chain.contracts.certificates.getFunction("ownerOf")(id)).toLowerCase();
  const owesAsGuarantor = async (party: TestParty) =>
    (await api.as(t.operatorKey).get(`/v1/audit/parties/${party.id}/exposure`)).body.recourse.owesAsGuarantor;

  before(async function () {
    t = await startTestService({ TIERLINE_KEEPER: "false" });
    api = new ApiClient(() => t.baseUrl);
    const operator = api.as(t.operatorKey);
    seller = await createTestParty(operator, ["supplier"]);
    debtor = await createTestParty(operator, ["debtor"]);
    tier2 = await createTestParty(operator, ["supplier"]);
    tier3 = await createTestParty(operator, ["financier"]);
    await mint(t, tier2.address, TIER2_SHARE);
    await mint(t, seller.address, TIER2_SHARE);
    receivable = await registeredReceivable(api, seller, debtor);
  });
  after(async function () {
    await t?.close();
  });

  describe("when holders endorse before passing pieces on", function () {
    it("records the seller's endorsement on the root, answered with its transaction", async function () {
      const granted = await api.as(seller.apiKey).post(`/v1/certificates/${receivable.rootId}/recourse`);
      expect(granted.status, JSON.stringify(granted.body)).to.equal(200);
      expect(granted.body.endorsements).to.have.length(1);
      expect(granted.body.endorsements[0]).to.include({ endorsementIndex: 0, endorser: seller.address });
      expect(granted.body.transactions.map((x: { kind: string }) => x.kind)).to.deep.equal(["grantRecourse"]);
    });

    it("refuses a second endorsement by the same holder with the contract's code", async function () {
      const again = await api.as(seller.apiKey).post(`/v1/certificates/${receivable.rootId}/recourse`);
      expect(again.status).to.equal(409);
      expect(again.body.error.code).to.equal("RECOURSE_ALREADY_GRANTED");
    });

    it("refuses an endorsement from a party that does not hold the piece", async function () {
      const notHolder = await api.as(tier2.apiKey).post(`/v1/certificates/${receivable.rootId}/recourse`);
      expect(notHolder.status).to.equal(403);
    });

    it("lets tier 2 endorse its piece and pass it whole to tier 3", async function () {
      const split = await api.as(seller.apiKey).post(`/v1/certificates/${receivable.rootId}/split`, {
        parts: [
          { toPartyId: tier2.id, amount: TIER2_SHARE.toString() },
          { toPartyId: seller.id, amount: "40000000" },
        ],
      });
      expect(split.status, JSON.stringify(split.body)).to.equal(200);
      tier2Piece = split.body.children.find((c: { holderPartyId: string }) => c.holderPartyId === tier2.id).id;
      const granted = await api.as(tier2.apiKey).post(`/v1/certificates/${tier2Piece}/recourse`);
      expect(granted.status, JSON.stringify(granted.body)).to.equal(200);
      const moved = await api.as(tier2.apiKey).post(`/v1/certificates/${tier2Piece}/transfer`, { toPartyId: tier3.id });
      expect(moved.status, JSON.stringify(moved.body)).to.equal(200);
      expect(await holderOf(tier2Piece)).to.equal(tier3.address.toLowerCase());
    });
  });

  describe("when anyone with access reads a piece", function () {
    it("shows on the certificate who stands behind it, nearest endorser first", async function () {
      const piece = await api.as(tier3.apiKey).get(`/v1/certificates/${tier2Piece}`);
      expect(piece.status, JSON.stringify(piece.body)).to.equal(200);
      const { endorsements, nearestGuarantor } = piece.body.recourse;
      expect(
        endorsements.map((e: { certificateId: string; endorser: { partyId: string } }) => [
          e.certificateId,
          e.endorser.partyId,
        ]),
      ).to.deep.equal([
        [tier2Piece, tier2.id],
        [receivable.rootId, seller.id],
      ]);
      expect(nearestGuarantor.partyId).to.equal(tier2.id);
    });

    it("shows it in the market too, on a request to sell the piece, and nothing is left open after", async function () {
      const opened = await api
        .as(tier3.apiKey)
        .post("/v1/financing-requests", { certificateId: tier2Piece, kind: "discount", price: "50000000" });
      expect(opened.status, JSON.stringify(opened.body)).to.equal(201);
      expect(opened.body.recourse.nearestGuarantor.partyId).to.equal(tier2.id);
      const market = await api.as(t.operatorKey).get("/v1/financing-requests?status=open");
      const listed = market.body.items.find((r: { id: string }) => r.id === opened.body.id);
      expect(
        listed.recourse.endorsements.map((e: { endorser: { partyId: string } }) => e.endorser.partyId),
      ).to.deep.equal([tier2.id, seller.id]);
      const cancelled = await api.as(tier3.apiKey).post(`/v1/financing-requests/${opened.body.id}/cancel`);
      expect(cancelled.status, JSON.stringify(cancelled.body)).to.equal(200);
    });

    it("shows the seller's own kept piece as held without recourse: its only endorser is its holder", async function () {
      const kept = (await api.as(seller.apiKey).get(`/v1/certificates/${receivable.rootId}`)).body;
      expect(
        kept.recourse.endorsements.map((e: { endorser: { partyId: string } }) => e.endorser.partyId),
      ).to.deep.equal([seller.id]);
      expect(kept.recourse.nearestGuarantor).to.equal(null);
    });
  });

  describe("before the receivable defaults", function () {
    it("refuses a default claim with the contract's code", async function () {
      const early = await api
        .as(tier3.apiKey)
        .post(`/v1/certificates/${tier2Piece}/recourse-claims`, { kind: "default" });
      expect(early.status).to.equal(409);
      expect(early.body.error.code).to.equal("RECOURSE_NOT_DEFAULTED");
    });
  });

  describe("when the receivable has defaulted", function () {
    before(async function () {
      const grace = Number(await t.service.ctx.chain.contracts.registry.getFunction("gracePeriod")());
      await advanceChainTime(t, receivable.dueDate + grace - (await chainTime(t)) + 60);
      const pass = await t.service.keeper.runOnce();
      expect(pass.markedDefaulted).to.be.at.least(1);
      const onChain = await t.service.ctx.chain.contracts.registry.getFunction("receivableOf")(receivable.id);
      expect(onChain.status.toString()).to.equal(RECEIVABLE_DEFAULTED);
    });

    it("refuses a claim from the wrong role and from a party that does not hold the leaf", async function () {
      const asDebtor = await api
        .as(debtor.apiKey)
        .post(`/v1/certificates/${tier2Piece}/recourse-claims`, { kind: "default" });
      expect(asDebtor.status).to.equal(403);
      const asTier2 = await api
        .as(tier2.apiKey)
        .post(`/v1/certificates/${tier2Piece}/recourse-claims`, { kind: "default" });
      expect(asTier2.status).to.equal(403);
    });

    it("opens tier 3's default claim on the nearest endorser, tier 2, for the whole leaf", async function () {
      const opened = await api
        .as(tier3.apiKey)
        .post(`/v1/certificates/${tier2Piece}/recourse-claims`, { kind: "default" });
      expect(opened.status, JSON.stringify(opened.body)).to.equal(200);
      expect(opened.body.claim).to.include({
        leafId: tier2Piece,
        kind: "default",
        status: "open",
        creditor: tier3.address,
        guarantor: tier2.address,
        guarantorCertificateId: tier2Piece,
        endorsementIndex: 0,
        amount: TIER2_SHARE.toString(),
      });
      expect(opened.body.transactions.map((x: { kind: string }) => x.kind)).to.deep.equal([
        "approveRecourseLeaf",
        "openDefaultClaim",
      ]);
      claimId = opened.body.claim.id;
      expect(await owesAsGuarantor(tier2)).to.equal(TIER2_SHARE.toString());
    });

    it("lists the claim for its creditor and its guarantor, and refuses an outsider", async function () {
      for (const party of [tier2, tier3]) {
        const listed = await api.as(party.apiKey).get(`/v1/recourse-claims?partyId=${party.id}`);
        expect(listed.status, JSON.stringify(listed.body)).to.equal(200);
        expect(listed.body.items.map((c: { id: string }) => c.id)).to.deep.equal([claimId]);
        expect(listed.body.nextCursor).to.equal(null);
      }
      const outsider = await api.as(debtor.apiKey).get(`/v1/recourse-claims?partyId=${tier2.id}`);
      expect(outsider.status).to.equal(403);
    });

    it("refuses payment from the wrong role and from a party that is not the guarantor", async function () {
      expect((await api.as(debtor.apiKey).post(`/v1/recourse-claims/${claimId}/pay`)).status).to.equal(403);
      expect((await api.as(seller.apiKey).post(`/v1/recourse-claims/${claimId}/pay`)).status).to.equal(403);
    });

    it("lets tier 2 pay: the money moves to tier 3, the leaf to tier 2, and the exposure drops", async function () {
      const before = { tier2: await balanceOf(t, tier2.address), tier3: await balanceOf(t, tier3.address) };
      const paid = await api.as(tier2.apiKey).post(`/v1/recourse-claims/${claimId}/pay`);
      expect(paid.status, JSON.stringify(paid.body)).to.equal(200);
      expect(paid.body.claim).to.include({ id: claimId, status: "paid" });
      expect(paid.body.transactions.map((x: { kind: string }) => x.kind)).to.deep.equal([
        "approveRecourseClaim",
        "payRecourseClaim",
      ]);
      expect(before.tier2 - (await balanceOf(t, tier2.address))).to.equal(TIER2_SHARE);
      expect((await balanceOf(t, tier3.address)) - before.tier3).to.equal(TIER2_SHARE);
      expect(await holderOf(tier2Piece)).to.equal(tier2.address.toLowerCase());
      const allowance = await t.service.ctx.chain.contracts.token.getFunction("allowance")(
        tier2.address,
        t.service.ctx.chain.deployment.addresses.recourseLedger!,
      );
      expect(allowance).to.equal(0n);
      expect(await owesAsGuarantor(tier2)).to.equal("0");
    });

    it("shows the payment in the auditor's trace as a recourse payment, with the claim it paid", async function () {
      const trace = await api.as(t.operatorKey).get(`/v1/audit/receivables/${receivable.id}/trace`);
      expect(trace.status, JSON.stringify(trace.body)).to.equal(200);
      const payments = trace.body.transactions.filter((tx: { kind: string }) => tx.kind === "recourse-payment");
      expect(payments).to.have.length(1);
      const paidEvent = payments[0].events.find((e: { name: string }) => e.name === "RecourseClaimPaid");
      expect(paidEvent.args.claimId).to.equal(claimId);
    });

    it("refuses to pay it twice with the service's code", async function () {
      const again = await api.as(tier2.apiKey).post(`/v1/recourse-claims/${claimId}/pay`);
      expect(again.status).to.equal(409);
      expect(again.body.error.code).to.equal("RECOURSE_CLAIM_WRONG_STATUS");
    });
  });

  describe("when tier 2 passes the claim up the chain", function () {
    it("refuses escalation from the wrong role and from a party that did not pay", async function () {
      expect((await api.as(debtor.apiKey).post(`/v1/recourse-claims/${claimId}/escalate`)).status).to.equal(403);
      expect((await api.as(tier3.apiKey).post(`/v1/recourse-claims/${claimId}/escalate`)).status).to.equal(403);
    });

    it("opens the same amount on the seller's endorsement of the root", async function () {
      const escalated = await api.as(tier2.apiKey).post(`/v1/recourse-claims/${claimId}/escalate`);
      expect(escalated.status, JSON.stringify(escalated.body)).to.equal(200);
      expect(escalated.body.claim).to.include({
        leafId: tier2Piece,
        status: "open",
        creditor: tier2.address,
        guarantor: seller.address,
        guarantorCertificateId: receivable.rootId,
        endorsementIndex: 0,
        amount: TIER2_SHARE.toString(),
        parentClaimId: claimId,
      });
      expect(escalated.body.transactions.map((x: { kind: string }) => x.kind)).to.deep.equal([
        "approveRecourseLeaf",
        "escalateRecourseClaim",
      ]);
      escalatedId = escalated.body.claim.id;
      expect(await owesAsGuarantor(seller)).to.equal(TIER2_SHARE.toString());
    });

    it("lets the seller pay: tier 2 is made whole and the leaf ends with the seller", async function () {
      const before = await balanceOf(t, tier2.address);
      const paid = await api.as(seller.apiKey).post(`/v1/recourse-claims/${escalatedId}/pay`);
      expect(paid.status, JSON.stringify(paid.body)).to.equal(200);
      expect((await balanceOf(t, tier2.address)) - before).to.equal(TIER2_SHARE);
      expect(await holderOf(tier2Piece)).to.equal(seller.address.toLowerCase());
      expect(await owesAsGuarantor(seller)).to.equal("0");
    });

    it("finds no endorser above the seller", async function () {
      const top = await api.as(seller.apiKey).post(`/v1/recourse-claims/${escalatedId}/escalate`);
      expect(top.status).to.equal(422);
      expect(top.body.error.code).to.equal("RECOURSE_NO_GUARANTOR");
    });
  });
});
