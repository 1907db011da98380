// A write that failed with a 5xx after its transaction went out (the chain dropped while
// the service waited for the receipt) keeps its Idempotency-Key as "interrupted": the
// retry answers from the transaction already sent and never sends it again.
import { expect } from "chai";
import { startTestService, type TestService } from "../harness.js";
import { ApiClient } from "../client.js";
import { createTestParty, validSubmission, type TestParty } from "../scenario.js";

describe("API: retrying a write whose first attempt failed after sending", function () {
  this.timeout(120_000);
  let t: TestService;
  let api: ApiClient;
  let supplier: TestParty;
  let debtor: TestParty;
  let tier2: TestParty;

  before(async function () {
    t = await startTestService({ TIERLINE_KEEPER: "false" });
    api = new ApiClient(() => t.baseUrl);
    const operator = api.as(t.operatorKey);
    supplier = await createTestParty(operator, ["supplier"]);
    debtor = await createTestParty(operator, ["debtor"]);
    tier2 = await createTestParty(operator, ["supplier"]);
  });
  after(async function () {
    await t?.close();
  });

  it("answers the retry from the split already on-chain instead of refusing or splitting again", async function () {
    const submitted = await api.as(supplier.apiKey).post("/v1/receivables", validSubmission(debtor.id));
    const confirmed = await api.as(debtor.apiKey).post(`/v1/receivables/${submitted.body.id}/confirm`);
    const rootId = confirmed.body.certificateId;
    const body = { parts: [{ toPartyId: tier2.id, amount: "100000000" }] };
    const headers = { "Idempotency-Key": `split-${rootId}` };
    const first = await api.as(supplier.apiKey).post(`/v1/certificates/${rootId}/split`, body, headers);
    expect(first.status).to.equal(200);

    // What a 503 after the broadcast leaves behind: the key marked interrupted, no stored answer.
    const db = t.service.ctx.db;
    await db
      .updateTable("idempotency")
      .set({ state: "interrupted", status_code: null, response: null })
      .where("key", "=", headers["Idempotency-Key"])
      .execute();
    const splitsBefore = await db
      .selectFrom("chain_events")
      .select("tx_hash")
      .where("name", "=", "CertificateSplit")
      .execute();

    const retry = await api.as(supplier.apiKey).post(`/v1/certificates/${rootId}/split`, body, headers);
    expect(retry.status, JSON.stringify(retry.body)).to.equal(200);
    expect(retry.body.txHash).to.equal(first.body.txHash);
    expect(retry.body.children.map((c: { id: string }) => c.id)).to.deep.equal(
      first.body.children.map((c: { id: string }) => c.id),
    );
    await t.service.ctx.indexer.sync();
    const splitsAfter = await db
      .selectFrom("chain_events")
      .select("tx_hash")
      .where("name", "=", "CertificateSplit")
      .execute();
    expect(splitsAfter.length).to.equal(splitsBefore.length);

    const replay = await api.as(supplier.apiKey).post(`/v1/certificates/${rootId}/split`, body, headers);
    expect(replay.headers.get("idempotent-replayed")).to.equal("true");
    expect(replay.body.txHash).to.equal(first.body.txHash);
  });

  // The other half, a retry whose failed attempt sent nothing running afresh, is
  // test/faults/rpc-outage.test.ts: a split refused with 503 while the chain is down
  // succeeds when retried with the same key once it is back.
});
