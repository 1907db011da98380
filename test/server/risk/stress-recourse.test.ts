// POST /v1/risk/stress over pieces passed with recourse (issue 16), on a real tree: the
// original seller endorsed the root before splitting it, tier 2 endorsed its piece before
// passing most of it to tier 3. When the debtor defaults, tier 3's loss lands on tier 2, and
// on the seller once tier 2 falls; the endorsements are read from the index.
import { expect } from "chai";
import { startTestService, type TestService } from "../harness.js";
import { ApiClient } from "../client.js";
import { createTestParty, validSubmission, type TestParty } from "../scenario.js";

const M = 1_000_000n; // one tUSD

describe("API: the stress test follows recourse up the chain of endorsers", function () {
  this.timeout(120_000);
  let t: TestService;
  let api: ApiClient;
  let core: TestParty;
  let seller: TestParty;
  let tier2: TestParty;
  let tier3: TestParty;
  const pieces = { seller: "", tier2: "", tier3: "" };

  const split = async (holder: TestParty, id: string, parts: Array<[TestParty, bigint]>): Promise<string[]> => {
    const response = await api.as(holder.apiKey).post(`/v1/certificates/${id}/split`, {
      parts: parts.map(([to, amount]) => ({ toPartyId: to.id, amount: amount.toString() })),
    });
    expect(response.status, JSON.stringify(response.body)).to.equal(200);
    return response.body.children.map((c: { id: string }) => c.id);
  };
  const endorse = async (holder: TestParty, id: string) => {
    const granted = await api.as(holder.apiKey).post(`/v1/certificates/${id}/recourse`);
    expect(granted.status, JSON.stringify(granted.body)).to.equal(200);
  };
  const stress = async (capital: Record<string, string> = {}) => {
    const response = await api
      .as(t.operatorKey)
      .post("/v1/risk/stress", { defaulted: [core.id], recoveryRate: 0.5, capital });
    expect(response.status, JSON.stringify(response.body)).to.equal(200);
    return response.body;
  };
  type Party = {
    partyId: string | null;
    loss: string;
    recourseLoss: string;
    passedOn: string;
    defaultedInRound: number | null;
  };
  type Loss = {
    certificateId: string;
    holder: { partyId: string };
    bearer: { partyId: string };
    guarantors: { partyId: string }[];
    loss: string;
  };
  const partyIn = (body: { parties: Party[] }, party: TestParty) => body.parties.find((p) => p.partyId === party.id);
  const lossOn = (body: { certificates: Loss[] }, id: string) => body.certificates.find((c) => c.certificateId === id)!;

  // core owes 100 tUSD to seller; seller endorses the root, keeps 40 and passes 60 to tier 2 (tier 2);
  // tier 2 endorses its piece, keeps 10 and passes 50 to tier 3 (tier 3).
  before(async function () {
    t = await startTestService();
    api = new ApiClient(() => t.baseUrl);
    const operator = api.as(t.operatorKey);
    core = await createTestParty(operator, ["debtor"]);
    seller = await createTestParty(operator, ["supplier"]);
    tier2 = await createTestParty(operator, ["supplier"]);
    tier3 = await createTestParty(operator, ["supplier"]);
    const submitted = await api
      .as(seller.apiKey)
      .post("/v1/receivables", validSubmission(core.id, { quantity: 100, unitPrice: M.toString() }));
    expect(submitted.status, JSON.stringify(submitted.body)).to.equal(201);
    const confirmed = await api.as(core.apiKey).post(`/v1/receivables/${submitted.body.id}/confirm`);
    expect(confirmed.status, JSON.stringify(confirmed.body)).to.equal(200);
    await endorse(seller, confirmed.body.certificateId);
    const [toTier2, kept] = await split(seller, confirmed.body.certificateId, [
      [tier2, 60n * M],
      [seller, 40n * M],
    ]);
    pieces.seller = kept!;
    await endorse(tier2, toTier2!);
    const [toTier3, tier2Kept] = await split(tier2, toTier2!, [
      [tier3, 50n * M],
      [tier2, 10n * M],
    ]);
    pieces.tier3 = toTier3!;
    pieces.tier2 = tier2Kept!;
  });
  after(async function () {
    await t?.close();
  });

  describe("when the debtor defaults and tier 2 can pay", function () {
    // At 50%: the seller's 40 loses 20 (its own), tier 2's 10 loses 5 (guaranteed by the seller),
    // tier 3's 50 loses 25 (guaranteed by tier 2 first).
    it("lands tier 3's loss on tier 2, its nearest endorser, and tier 2's on the seller", async function () {
      const body = await stress({ [tier2.id]: (100n * M).toString() });
      const tier3Loss = lossOn(body, pieces.tier3);
      expect(tier3Loss.loss).to.equal((25n * M).toString());
      expect(tier3Loss.holder.partyId).to.equal(tier3.id);
      expect(tier3Loss.bearer.partyId).to.equal(tier2.id);
      expect(tier3Loss.guarantors.map((g) => g.partyId)).to.deep.equal([tier2.id, seller.id]);
      expect(lossOn(body, pieces.tier2).bearer.partyId).to.equal(seller.id);
      expect(lossOn(body, pieces.seller).bearer.partyId).to.equal(seller.id);
      expect(partyIn(body, tier2)).to.include({ loss: (25n * M).toString(), recourseLoss: (25n * M).toString() });
      expect(partyIn(body, tier2)!.defaultedInRound).to.equal(null);
      expect(partyIn(body, seller)).to.include({ loss: (25n * M).toString(), defaultedInRound: null });
      expect(partyIn(body, tier3), "the holder with recourse loses nothing").to.equal(undefined);
      expect(body.totalLoss).to.equal((50n * M).toString());
    });
  });

  describe("when tier 2 cannot pay", function () {
    it("moves tier 3's loss on to the seller in the round tier 2 defaults", async function () {
      // tier 2's buffer is its 10: 25 pushes it under; in round 2 its guarantee goes up to the seller.
      const body = await stress({ [seller.id]: (100n * M).toString() });
      expect(
        body.rounds.map((r: { round: number; defaulting: { partyId: string }[] }) => [
          r.round,
          r.defaulting.map((p) => p.partyId),
        ]),
      ).to.deep.equal([
        [1, [core.id]],
        [2, [tier2.id]],
      ]);
      expect(lossOn(body, pieces.tier3).bearer.partyId).to.equal(seller.id);
      expect(partyIn(body, tier2)).to.include({ passedOn: (25n * M).toString(), defaultedInRound: 2 });
      expect(partyIn(body, seller)).to.include({
        loss: (50n * M).toString(),
        recourseLoss: (30n * M).toString(),
        defaultedInRound: null,
      });
      expect(partyIn(body, tier3)).to.equal(undefined);
    });

    it("leaves the loss with tier 3 when the seller falls as well", async function () {
      // No capital: the seller's 40 cannot carry 20 + 5 + 25; it falls in round 3 and tier 3 bears its piece.
      const body = await stress();
      expect(body.defaulted.map((p: { partyId: string }) => p.partyId)).to.deep.equal([core.id, tier2.id, seller.id]);
      expect(lossOn(body, pieces.tier3).bearer.partyId).to.equal(tier3.id);
      expect(partyIn(body, tier3)).to.include({ loss: (25n * M).toString(), defaultedInRound: null });
    });
  });

  describe("when tier 3 has claimed a credit note's cut from tier 2", function () {
    let claim: { id: string; amount: string };
    let tier3Cut: bigint;
    before(async function () {
      // 50 units returned: the seller's retained 40 goes first, the other 10 is shared by tier 3 and tier 2.
      const receivableId = (await api.as(t.operatorKey).get(`/v1/certificates/${pieces.tier3}`)).body.receivableId;
      const proposed = await api.as(core.apiKey).post(`/v1/receivables/${receivableId}/credit-notes`, {
        amount: (50n * M).toString(),
        reasonCode: "RETURN",
        documentHash: `0x${"ef".repeat(32)}`,
        lines: [{ sku: "SKU-1", quantity: 50 }],
      });
      expect(proposed.status, JSON.stringify(proposed.body)).to.equal(200);
      const applied = await api.as(seller.apiKey).post(`/v1/credit-notes/${proposed.body.creditNote.id}/consent`);
      expect(applied.status, JSON.stringify(applied.body)).to.equal(200);
      tier3Cut = BigInt(
        applied.body.creditNote.leaves.find((l: { certificateId: string }) => l.certificateId === pieces.tier3)
          .reduction,
      );
      const opened = await api
        .as(tier3.apiKey)
        .post(`/v1/certificates/${pieces.tier3}/recourse-claims`, { kind: "dilution" });
      expect(opened.status, JSON.stringify(opened.body)).to.equal(200);
      claim = opened.body.claim;
      expect(claim).to.include({ guarantor: tier2.address, amount: tier3Cut.toString() });
    });

    it("counts the open claim as tier 2's debt, and tier 3 loses on it when tier 2 defaults", async function () {
      const response = await api
        .as(t.operatorKey)
        .post("/v1/risk/stress", { defaulted: [tier2.id], recoveryRate: 0.5 });
      expect(response.status, JSON.stringify(response.body)).to.equal(200);
      const body = response.body;
      const lossOnClaim = (tier3Cut + 1n) / 2n; // rounded up
      expect(
        body.recourseClaims.map(
          (c: { claimId: string; creditor: { partyId: string }; amount: string; loss: string; round: number }) => [
            c.claimId,
            c.creditor.partyId,
            c.amount,
            c.loss,
            c.round,
          ],
        ),
      ).to.deep.equal([[claim.id, tier3.id, tier3Cut.toString(), lossOnClaim.toString(), 1]]);
      const tier2Party = body.parties.find((p: { partyId: string }) => p.partyId === tier2.id);
      expect(tier2Party.payables).to.equal(tier3Cut.toString());
      expect(partyIn(body, tier3)).to.include({ loss: lossOnClaim.toString() });
    });

    it("stresses tier 3's piece at its claim after the cut, not its face value", async function () {
      const body = await stress({ [tier2.id]: (100n * M).toString() });
      const tier3Loss = lossOn(body, pieces.tier3) as Loss & { outstanding: string };
      expect(tier3Loss.outstanding).to.equal((50n * M - tier3Cut).toString());
      expect(tier3Loss.bearer.partyId).to.equal(tier2.id);
      // The seller's piece was cut to nothing: it is owed nothing and loses nothing.
      expect(body.certificates.map((c: Loss) => c.certificateId)).not.to.include(pieces.seller);
    });
  });
});
