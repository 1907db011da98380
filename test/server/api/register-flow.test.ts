import { expect } from "chai";
import { startTestService, type TestService } from "../harness.js";
import { ApiClient } from "../client.js";
import { createTestParty, validSubmission, type TestParty } from "../scenario.js";

describe("API: a supplier's receivable from submission to split", function () {
  this.timeout(120_000);
  let t: TestService;
  let api: ApiClient;
  let operator: ApiClient;
  let supplier: TestParty;
  let debtor: TestParty;
  let tier2: TestParty;

  before(async function () {
    t = await startTestService();
    api = new ApiClient(() => t.baseUrl);
    operator = api.as(t.operatorKey);
    supplier = await createTestParty(operator, ["supplier"]);
    debtor = await createTestParty(operator, ["debtor"]);
    tier2 = await createTestParty(operator, ["supplier"]);
  });
  after(async function () {
    await t?.close();
  });

  it("verifies, confirms, registers on-chain and splits down a tier", async function () {
    const submitted = await api.as(supplier.apiKey).post("/v1/receivables", validSubmission(debtor.id));
    expect(submitted.status, JSON.stringify(submitted.body)).to.equal(201);
    expect(submitted.body.status).to.equal("awaiting_confirmation");
    expect(submitted.body.verification.outcome).to.equal("passed");

    const confirmed = await api.as(debtor.apiKey).post(`/v1/receivables/${submitted.body.id}/confirm`);
    expect(confirmed.status, JSON.stringify(confirmed.body)).to.equal(200);
    expect(confirmed.body.receivable.status).to.equal("active");
    expect(confirmed.body.txHash).to.match(/^0x[0-9a-f]{64}$/);
    const rootId = confirmed.body.certificateId;

    const split = await api.as(supplier.apiKey).post(`/v1/certificates/${rootId}/split`, {
      parts: [
        { toPartyId: tier2.id, amount: "60000000" },
        { toPartyId: supplier.id, amount: "40000000" },
      ],
    });
    expect(split.status, JSON.stringify(split.body)).to.equal(200);
    expect(split.body.children.map((c: { tier: number; faceValue: string }) => [c.tier, c.faceValue])).to.deep.equal([
      [2, "60000000"],
      [1, "40000000"],
    ]);
    const holdings = await api.as(tier2.apiKey).get(`/v1/parties/${tier2.id}/certificates`);
    expect(holdings.body.certificates.map((c: { faceValue: string }) => c.faceValue)).to.deep.equal(["60000000"]);
  });

  it("refuses a second split of the retired parent with the contract's reason", async function () {
    const submitted = await api.as(supplier.apiKey).post("/v1/receivables", validSubmission(debtor.id));
    const confirmed = await api.as(debtor.apiKey).post(`/v1/receivables/${submitted.body.id}/confirm`);
    const rootId = confirmed.body.certificateId;
    const parts = { parts: [{ toPartyId: tier2.id, amount: "100000000" }] };
    expect((await api.as(supplier.apiKey).post(`/v1/certificates/${rootId}/split`, parts)).status).to.equal(200);
    const again = await api.as(supplier.apiKey).post(`/v1/certificates/${rootId}/split`, parts);
    expect(again.status).to.equal(409);
    expect(again.body.error.code).to.equal("CERTIFICATE_RETIRED");
  });
});
