// Financing quotes through the API: GET /v1/certificates/:id/quote before a request and
// GET /v1/financing-requests/:id/quote on one. Every component is worked out by hand:
//   discount rate = 500 base + risk premium (debtor band) + concentration premium (holder's
//   claims HHI) + 25 per started 30 days; price = floor(face x (1 - rate x days / 365)),
//   capped by face x the allowed advance rate.
import { expect } from "chai";
import { startTestService, type TestService } from "../harness.js";
import { ApiClient } from "../client.js";
import { createTestParty, type TestParty } from "../scenario.js";
import { registered, T } from "./risk-scenario.js";

describe("Risk: financing quotes", function () {
  this.timeout(300_000);
  let t: TestService;
  let api: ApiClient;
  let operator: ApiClient;
  let holder: TestParty;
  let financier: TestParty;
  let debtor1: TestParty;
  let debtor2: TestParty;
  let first: string;
  let second: string;
  let requestId: string;

  const quoteOf = async (certificateId: string, as: TestParty = holder) => {
    const response = await api.as(as.apiKey).get(`/v1/certificates/${certificateId}/quote`);
    expect(response.status, JSON.stringify(response.body)).to.equal(200);
    return response.body;
  };

  before(async function () {
    t = await startTestService({ TIERLINE_KEEPER: "false" });
    api = new ApiClient(() => t.baseUrl);
    operator = api.as(t.operatorKey);
    holder = await createTestParty(operator, ["supplier"]);
    financier = await createTestParty(operator, ["financier"]);
    debtor1 = await createTestParty(operator, ["debtor"], { industry: "furniture" });
    debtor2 = await createTestParty(operator, ["debtor"]);
    // Due in 60.5 days: 61 started days of tenor for the next few hours.
    first = (await registered(api, holder, debtor1, { dueDays: 60.5 })).certificateId;
  });
  after(async function () {
    await t?.close();
  });

  describe("when the holder's only claim is on one band-C debtor", function () {
    it("quotes 500 + 200 (band C) + 200 (HHI 1) + 75 (3 x 30 days) = 975 bps and a price of 98,370,547", async function () {
      const quote = await quoteOf(first);
      expect(quote).to.deep.include({ certificateId: first, faceValue: T(100).toString(), tenorDays: 61 });
      expect(quote.debtor).to.deep.include({
        id: debtor1.id,
        score: 600,
        band: "C",
        industry: "furniture",
        industryOverThreshold: false,
      });
      expect(quote.holder).to.deep.equal({ id: holder.id, address: holder.address, claimsHhiBps: 10_000 });
      expect(quote.discountRate).to.deep.equal({
        baseRateBps: 500,
        riskPremiumBps: 200,
        concentrationPremiumBps: 200,
        tenorPremiumBps: 75,
        totalBps: 975,
      });
      // floor(100,000,000 x (3,650,000 - 975 x 61) / 3,650,000) = floor(98,370,547.9)
      expect(quote.discountedPrice).to.equal("98370547");
      expect(quote.discount).to.equal("1629453");
      expect(quote.advanceRate).to.deep.equal({ bandRateBps: 9_950, industryCutBps: 0, allowedBps: 9_950 });
      expect(quote.maxAdvance).to.equal("99500000");
      expect(quote).to.deep.include({
        price: "98370547",
        binding: "discount",
        maxTenorDays: 180,
        tenorWithinLimit: true,
        request: null,
      });
    });
  });

  describe("when the holder's claims are spread over two debtors", function () {
    it("charges a concentration premium of round(200 x (0.5 - 0.25) / 0.75) = 67 bps: 842 bps, price 98,592,821", async function () {
      second = (await registered(api, holder, debtor2, { dueDays: 60.5 })).certificateId;
      const quote = await quoteOf(second);
      expect(quote.holder.claimsHhiBps).to.equal(5_000);
      expect(quote.discountRate).to.deep.equal({
        baseRateBps: 500,
        riskPremiumBps: 200,
        concentrationPremiumBps: 67,
        tenorPremiumBps: 75,
        totalBps: 842,
      });
      // floor(100,000,000 x (3,650,000 - 842 x 61) / 3,650,000) = floor(98,592,821.9)
      expect(quote.price).to.equal("98592821");
    });
  });

  describe("when a request is open on the certificate", function () {
    before(async function () {
      const opened = await api
        .as(holder.apiKey)
        .post("/v1/financing-requests", { certificateId: first, kind: "discount", price: T(98).toString() });
      expect(opened.status, JSON.stringify(opened.body)).to.equal(201);
      requestId = opened.body.id;
    });

    it("quotes it with the request's own terms beside the quote", async function () {
      const response = await api.as(financier.apiKey).get(`/v1/financing-requests/${requestId}/quote`);
      expect(response.status, JSON.stringify(response.body)).to.equal(200);
      const quote = response.body;
      // Both certificates still count in the holder's claims: HHI 0.5 -> 842 bps.
      expect(quote.discountRate.totalBps).to.equal(842);
      expect(quote.price).to.equal("98592821");
      expect(quote.request).to.deep.equal({
        id: requestId,
        kind: "discount",
        status: "open",
        price: T(98).toString(),
        advanceRateBps: 9_800,
        withinAdvanceRate: true,
        priceVsQuote: (T(98) - 98_592_821n).toString(),
      });
    });

    it("lowers the advance rate to 89.50 %, which then sets the price, when the debtor's industry passes its threshold", async function () {
      const set = await operator.post("/v1/risk/industries/furniture", { index: 650, threshold: 600 });
      expect(set.status).to.equal(200);
      const quote = (await api.as(financier.apiKey).get(`/v1/financing-requests/${requestId}/quote`)).body;
      expect(quote.debtor.industryOverThreshold).to.equal(true);
      expect(quote.advanceRate).to.deep.equal({ bandRateBps: 9_950, industryCutBps: 1_000, allowedBps: 8_950 });
      expect(quote).to.deep.include({
        maxAdvance: "89500000",
        price: "89500000",
        binding: "advanceRate",
        maxTenorDays: 90,
        tenorWithinLimit: true,
      });
      expect(quote.request).to.deep.include({
        advanceRateBps: 9_800,
        withinAdvanceRate: false,
        priceVsQuote: (T(98) - 89_500_000n).toString(),
      });
    });
  });
});
