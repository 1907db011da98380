// Credit limits at registration and at financing, with and without an industry over its
// risk threshold: the refusals name the limit and the numbers, and leave the chain as it
// was. Expected limits are worked out by hand: base x band multiplier x industry cut.
import { expect } from "chai";
import { startTestService, type TestService } from "../harness.js";
import { ApiClient } from "../client.js";
import { createTestParty, type TestParty } from "../scenario.js";
import { mint } from "../repayment-scenario.js";
import { confirm, registered, submit, T, trade } from "./risk-scenario.js";

describe("Risk: credit limits", function () {
  this.timeout(300_000);
  let t: TestService;
  let api: ApiClient;
  let operator: ApiClient;

  const setLimit = async (party: TestParty, kind: "debtor" | "supplier", limit: bigint) => {
    const response = await operator.post(`/v1/risk/limits/${party.id}`, { kind, limit: limit.toString() });
    expect(response.status, JSON.stringify(response.body)).to.equal(200);
    return response.body;
  };
  const setIndustry = async (industry: string, index: number, threshold: number) => {
    const response = await operator.post(`/v1/risk/industries/${encodeURIComponent(industry)}`, { index, threshold });
    expect(response.status, JSON.stringify(response.body)).to.equal(200);
    return response.body;
  };
  const riskOf = async (party: TestParty) => {
    const response = await operator.get(`/v1/risk/parties/${party.id}`);
    expect(response.status, JSON.stringify(response.body)).to.equal(200);
    return response.body;
  };
  const statusOnChain = async (receivableId: string) =>
    Number(await t.service.ctx.chain.contracts.registry.getFunction("statusOf")(receivableId));
  const receivableStatus = async (receivableId: string) =>
    (
      await t.service.ctx.db
        .selectFrom("receivables")
        .select("status")
        .where("id", "=", receivableId)
        .executeTakeFirstOrThrow()
    ).status;
  const certificateState = async (certificateId: string) =>
    Number((await t.service.ctx.chain.contracts.certificates.getFunction("certificateOf")(certificateId)).state);
  const LIVE = 1;

  before(async function () {
    t = await startTestService({ TIERLINE_KEEPER: "false" });
    api = new ApiClient(() => t.baseUrl);
    operator = api.as(t.operatorKey);
  });
  after(async function () {
    await t?.close();
  });

  describe("when a debtor's exposure would pass its debtor limit", function () {
    let seller: TestParty;
    let debtor: TestParty;
    let first: string;
    let third: string;

    before(async function () {
      seller = await createTestParty(operator, ["supplier"]);
      debtor = await createTestParty(operator, ["debtor"]);
      await mint(t, debtor.address, T(1_000));
    });

    it("sets a base limit; the limit in force is base x 1.0 for band C: 250 tUSD", async function () {
      const set = await setLimit(debtor, "debtor", T(250));
      expect(set).to.deep.equal({
        partyId: debtor.id,
        kind: "debtor",
        base: T(250).toString(),
        source: "operator",
        bandMultiplierBps: 10_000,
        industryCutBps: 10_000,
        limit: T(250).toString(),
      });
    });

    it("refuses the registration that would take 200 tUSD owed to 300 with 422 CREDIT_LIMIT_EXCEEDED naming the debtor limit", async function () {
      first = (await registered(api, seller, debtor)).id;
      await registered(api, seller, debtor);
      third = await submit(api, seller, trade(debtor.id));
      const refused = await api.as(debtor.apiKey).post(`/v1/receivables/${third}/confirm`);
      expect(refused.status, JSON.stringify(refused.body)).to.equal(422);
      expect(refused.body.error.code).to.equal("CREDIT_LIMIT_EXCEEDED");
      expect(refused.body.error.details).to.deep.include({
        limit: "debtor",
        partyId: debtor.id,
        limitAmount: T(250).toString(),
        exposure: T(200).toString(),
        requested: T(100).toString(),
        band: "C",
      });
      expect(refused.body.error.message).to.include("debtor limit");
      expect(await statusOnChain(third)).to.equal(0);
      expect(await receivableStatus(third)).to.equal("awaiting_confirmation");
    });

    it("shows the exposure and what is left in the debtor's risk view", async function () {
      const view = await riskOf(debtor);
      expect(view.limits.debtor).to.deep.include({
        limit: T(250).toString(),
        exposure: T(200).toString(),
        available: T(50).toString(),
      });
      expect(view.limits.debtor.exposureParts).to.deep.equal({ outstanding: T(200).toString(), pending: "0" });
    });

    it("registers it once a repayment brings the exposure back to 100 tUSD", async function () {
      const repaid = await api
        .as(debtor.apiKey)
        .post(`/v1/receivables/${first}/repayments`, { amount: T(100).toString() });
      expect(repaid.status, JSON.stringify(repaid.body)).to.equal(200);
      await confirm(api, debtor, third);
      expect(await statusOnChain(third)).to.equal(1);
      expect((await riskOf(debtor)).limits.debtor.exposure).to.equal(T(200).toString());
    });
  });

  describe("when the debtor's industry is above its risk threshold", function () {
    let seller: TestParty;
    let debtor: TestParty;
    let pending: string;

    before(async function () {
      seller = await createTestParty(operator, ["supplier"]);
      debtor = await createTestParty(operator, ["debtor"], { industry: "Mining" });
      await setLimit(debtor, "debtor", T(300));
    });

    it("records the index and counts the industry's parties", async function () {
      const set = await setIndustry("mining", 700, 500);
      expect(set).to.include({ industry: "mining", index: 700, threshold: 500, overThreshold: true, parties: 1 });
      const listed = await operator.get("/v1/risk/industries");
      expect(listed.body.industries.find((i: { industry: string }) => i.industry === "mining")).to.include({
        index: 700,
        threshold: 500,
        overThreshold: true,
      });
    });

    it("halves the debtor's limit to 150 tUSD, shortens tenors to 90 days and takes 10 points off the advance rate", async function () {
      const view = await riskOf(debtor);
      expect(view.industry).to.include({ industry: "mining", overThreshold: true });
      expect(view.limits.debtor).to.include({
        base: T(300).toString(),
        bandMultiplierBps: 10_000,
        industryCutBps: 5_000,
        limit: T(150).toString(),
      });
      expect(view.financingOnItsDebts).to.deep.equal({
        advanceRate: { bandRateBps: 9_950, industryCutBps: 1_000, allowedBps: 8_950 },
        maxTenorDays: 90,
      });
    });

    it("refuses the second 100 tUSD receivable against the cut limit of 150", async function () {
      await registered(api, seller, debtor);
      pending = await submit(api, seller, trade(debtor.id));
      const refused = await api.as(debtor.apiKey).post(`/v1/receivables/${pending}/confirm`);
      expect(refused.status).to.equal(422);
      expect(refused.body.error.code).to.equal("CREDIT_LIMIT_EXCEEDED");
      expect(refused.body.error.details).to.deep.include({
        limit: "debtor",
        limitAmount: T(150).toString(),
        exposure: T(100).toString(),
        requested: T(100).toString(),
        industryCutBps: 5_000,
      });
      expect(await statusOnChain(pending)).to.equal(0);
    });

    it("registers it at the full limit of 300 once the index is back at the threshold", async function () {
      const set = await setIndustry("mining", 500, 500);
      expect(set.overThreshold).to.equal(false);
      expect((await riskOf(debtor)).limits.debtor.limit).to.equal(T(300).toString());
      await confirm(api, debtor, pending);
      expect(await statusOnChain(pending)).to.equal(1);
    });
  });

  describe("when a seller's sales would pass its supplier limit", function () {
    it("refuses with the supplier limit: 150 tUSD x 0.75 for band D (530: one buyer, on time) = 112.5 tUSD", async function () {
      const seller = await createTestParty(operator, ["supplier"]);
      const debtor = await createTestParty(operator, ["debtor"]);
      await setLimit(seller, "supplier", T(150));
      await registered(api, seller, debtor);
      const second = await submit(api, seller, trade(debtor.id));
      const refused = await api.as(debtor.apiKey).post(`/v1/receivables/${second}/confirm`);
      expect(refused.status).to.equal(422);
      expect(refused.body.error.code).to.equal("CREDIT_LIMIT_EXCEEDED");
      expect(refused.body.error.details).to.deep.include({
        limit: "supplier",
        partyId: seller.id,
        limitAmount: "112500000",
        exposure: T(100).toString(),
        requested: T(100).toString(),
        score: 530,
        band: "D",
        bandMultiplierBps: 7_500,
      });
      expect(await statusOnChain(second)).to.equal(0);
    });
  });

  describe("when a financing request is opened", function () {
    let seller: TestParty;
    let debtor: TestParty;
    let longCertificate: string;
    let shortCertificate: string;
    let spareCertificate: string;

    before(async function () {
      seller = await createTestParty(operator, ["supplier"]);
      debtor = await createTestParty(operator, ["debtor"], { industry: "shipping" });
      longCertificate = (await registered(api, seller, debtor, { dueDays: 120 })).certificateId;
      shortCertificate = (await registered(api, seller, debtor, { dueDays: 60 })).certificateId;
      spareCertificate = (await registered(api, seller, debtor, { dueDays: 60 })).certificateId;
      await setIndustry("shipping", 800, 600);
    });

    const open = (certificateId: string, price: bigint, holder: TestParty = seller) =>
      api
        .as(holder.apiKey)
        .post("/v1/financing-requests", { certificateId, kind: "discount", price: price.toString() });

    it("refuses a 120-day tenor with 422 TENOR_EXCEEDS_LIMIT while the debtor's industry allows 90 days", async function () {
      // The tenor is counted on the chain's clock (the latest block), which may trail the wall
      // clock the due date was set from: 120 days, or 121 when a part-day is left over.
      const due = Date.parse((await api.as(seller.apiKey).get(`/v1/certificates/${longCertificate}`)).body.dueDate);
      const chainNow = Number((await t.service.ctx.chain.provider.getBlock("latest"))!.timestamp);
      const expectedTenor = Math.ceil((due / 1000 - chainNow) / 86_400);
      expect(expectedTenor).to.be.within(120, 121);
      const refused = await open(longCertificate, T(80));
      expect(refused.status, JSON.stringify(refused.body)).to.equal(422);
      expect(refused.body.error.code).to.equal("TENOR_EXCEEDS_LIMIT");
      expect(refused.body.error.details).to.deep.equal({
        limit: "tenor",
        partyId: debtor.id,
        maxTenorDays: 90,
        tenorDays: expectedTenor,
        industryOverThreshold: true,
      });
      expect(await certificateState(longCertificate)).to.equal(LIVE);
    });

    it("refuses 90.00 % of face with 422 ADVANCE_RATE_EXCEEDED: band C 99.50 % less 10 points = 89.50 %", async function () {
      const refused = await open(shortCertificate, T(90));
      expect(refused.status).to.equal(422);
      expect(refused.body.error.code).to.equal("ADVANCE_RATE_EXCEEDED");
      expect(refused.body.error.details).to.deep.include({
        limit: "advanceRate",
        partyId: debtor.id,
        allowedBps: 8_950,
        bandRateBps: 9_950,
        industryCutBps: 1_000,
        requestedBps: 9_000,
        price: T(90).toString(),
        faceValue: T(100).toString(),
        maxPrice: "89500000",
        band: "C",
      });
      expect(await certificateState(shortCertificate)).to.equal(LIVE);
    });

    it("opens the request at exactly 89.50 %", async function () {
      const opened = await open(shortCertificate, 89_500_000n);
      expect(opened.status, JSON.stringify(opened.body)).to.equal(201);
    });

    it("allows 180 days and 99.50 % once the index is back under the threshold, and still refuses 99.60 %", async function () {
      await setIndustry("shipping", 300, 600);
      const tooMuch = await open(longCertificate, 99_600_000n);
      expect(tooMuch.status).to.equal(422);
      expect(tooMuch.body.error.code).to.equal("ADVANCE_RATE_EXCEEDED");
      expect(tooMuch.body.error.details).to.deep.include({
        allowedBps: 9_950,
        industryCutBps: 0,
        requestedBps: 9_960,
        maxPrice: "99500000",
      });
      const opened = await open(longCertificate, 99_500_000n);
      expect(opened.status, JSON.stringify(opened.body)).to.equal(201);
    });

    it("refuses a request that would take the holder's financing past its limit with CREDIT_LIMIT_EXCEEDED (financing)", async function () {
      // Open: 89.5 + 99.5 = 189 tUSD. The seller (one buyer, on time: 530, band D) gets a base
      // of 240 tUSD: 240 x 0.75 = 180 tUSD, already below what it has open.
      await setLimit(seller, "supplier", T(240));
      const refused = await open(spareCertificate, T(1));
      expect(refused.status, JSON.stringify(refused.body)).to.equal(422);
      expect(refused.body.error.code).to.equal("CREDIT_LIMIT_EXCEEDED");
      expect(refused.body.error.details).to.deep.include({
        limit: "financing",
        partyId: seller.id,
        limitAmount: T(180).toString(),
        exposure: T(189).toString(),
        requested: T(1).toString(),
        band: "D",
      });
      const view = await riskOf(seller);
      expect(view.limits.financing).to.deep.equal({
        limit: T(180).toString(),
        exposure: T(189).toString(),
        available: "0",
        exposureParts: { open: T(189).toString(), pledged: "0", sold: "0" },
      });
      expect(await certificateState(spareCertificate)).to.equal(LIVE);
    });
  });
});
