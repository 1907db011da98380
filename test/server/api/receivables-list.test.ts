// GET /v1/me and GET /v1/receivables: who the key belongs to, and the receivables a party
// sold or owes (a supplier's submissions, a debtor's payables awaiting its consent).
import { expect } from "chai";
import { startTestService, type TestService } from "../harness.js";
import { ApiClient } from "../client.js";
import { createTestParty, validSubmission, type TestParty } from "../scenario.js";
import { readAllPages } from "../pages.js";

describe("API: who am I, and the receivables I sold or owe", function () {
  this.timeout(120_000);
  let t: TestService;
  let api: ApiClient;
  let seller: TestParty;
  let debtor: TestParty;
  let otherSeller: TestParty;
  let auditor: TestParty;
  let confirmedId: string;
  let pendingId: string;
  let othersId: string;

  before(async function () {
    t = await startTestService();
    api = new ApiClient(() => t.baseUrl);
    const operator = api.as(t.operatorKey);
    seller = await createTestParty(operator, ["supplier"]);
    otherSeller = await createTestParty(operator, ["supplier"]);
    debtor = await createTestParty(operator, ["debtor"]);
    auditor = await createTestParty(operator, ["auditor"]);
    confirmedId = (await api.as(seller.apiKey).post("/v1/receivables", validSubmission(debtor.id))).body.id;
    expect((await api.as(debtor.apiKey).post(`/v1/receivables/${confirmedId}/confirm`)).status).to.equal(200);
    pendingId = (await api.as(seller.apiKey).post("/v1/receivables", validSubmission(debtor.id))).body.id;
    othersId = (await api.as(otherSeller.apiKey).post("/v1/receivables", validSubmission(debtor.id))).body.id;
  });
  after(async function () {
    await t?.close();
  });

  it("tells a key's holder its own party and roles", async function () {
    const me = await api.as(seller.apiKey).get("/v1/me");
    expect(me.status).to.equal(200);
    expect(me.body).to.include({ id: seller.id, address: seller.address });
    expect(me.body.roles).to.deep.equal(["supplier"]);
    expect(me.body).to.not.have.any.keys("legalIdHash", "encryptedKey", "apiKey");
  });

  it("lists a supplier's own submissions, newest first, with their verification reports", async function () {
    const list = await api.as(seller.apiKey).get("/v1/receivables?as=seller");
    expect(list.status).to.equal(200);
    expect(list.body.receivables.map((r: { id: string }) => r.id)).to.deep.equal([pendingId, confirmedId]);
    const [pending, confirmed] = list.body.receivables;
    expect(pending.status).to.equal("awaiting_confirmation");
    expect(confirmed.status).to.equal("active");
    expect(confirmed.rootCertificateId).to.be.a("string");
    expect(pending.verification.outcome).to.equal("passed");
    expect(pending.verification.results.length).to.be.greaterThan(0);
    expect(pending).to.not.have.property("documents");
  });

  it("lists what awaits a debtor's confirmation, from every seller", async function () {
    const list = await api.as(debtor.apiKey).get("/v1/receivables?as=debtor&status=awaiting_confirmation");
    expect(list.status).to.equal(200);
    expect(list.body.receivables.map((r: { id: string }) => r.id).sort()).to.deep.equal([pendingId, othersId].sort());
    const active = await api.as(debtor.apiKey).get("/v1/receivables?as=debtor&status=active");
    expect(active.body.receivables.map((r: { id: string }) => r.id)).to.deep.equal([confirmedId]);
    const asSeller = await api.as(debtor.apiKey).get("/v1/receivables?as=seller");
    expect(asSeller.body.receivables).to.deep.equal([]);
  });

  it("pages a debtor's receivables with a cursor, newest first, each once, and filters by counterparty", async function () {
    const paged = await readAllPages<{ id: string }>(api.as(debtor.apiKey), "/v1/receivables?as=debtor", 1);
    expect(paged.items.map((r) => r.id)).to.deep.equal([othersId, pendingId, confirmedId]);
    expect(paged.pages).to.equal(3);
    const fromSeller = await api.as(debtor.apiKey).get(`/v1/receivables?as=debtor&counterpartyId=${seller.id}`);
    expect(fromSeller.body.items.map((r: { id: string }) => r.id)).to.deep.equal([pendingId, confirmedId]);
    const forged = await api.as(debtor.apiKey).get("/v1/receivables?as=debtor&cursor=WzEsMl0");
    expect(forged.status).to.equal(400);
    expect(forged.body.error.code).to.equal("INVALID_CURSOR");
  });

  it("refuses another party's list to a supplier, and lets an auditor list anyone's or all", async function () {
    const refused = await api.as(seller.apiKey).get(`/v1/receivables?partyId=${otherSeller.id}`);
    expect(refused.status).to.equal(403);
    expect(refused.body.error.code).to.equal("FORBIDDEN");
    const others = await api.as(auditor.apiKey).get(`/v1/receivables?partyId=${otherSeller.id}`);
    expect(others.body.receivables.map((r: { id: string }) => r.id)).to.deep.equal([othersId]);
    const all = await api.as(auditor.apiKey).get("/v1/receivables?limit=2");
    expect(all.body.receivables).to.have.length(2);
  });

  it("refuses a bad filter with VALIDATION_FAILED", async function () {
    const bad = await api.as(seller.apiKey).get("/v1/receivables?status=paid&limit=0");
    expect(bad.status).to.equal(400);
    expect(bad.body.error.code).to.equal("VALIDATION_FAILED");
  });
});
