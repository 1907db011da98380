// A default claim the debtor's late payment partly made good: the guarantor pays only the loss
// still standing (RecourseLedger.payClaim), and the service approves exactly that, so no
// allowance to the ledger is left behind (it approved the claim's opening amount once, and
// the difference stayed approved: a review found it).
import { expect } from "chai";
import { startTestService, type TestService } from "../harness.js";
import { ApiClient } from "../client.js";
import { createTestParty, type TestParty } from "../scenario.js";
import { advanceChainTime, balanceOf, chainTime, mint, registeredReceivable } from "../repayment-scenario.js";

const TIER2_SHARE = 60_000_000n;
const LATE_PAYMENT = 50_000_000n; // half the face: the leaf's share is 30,000,000

describe("API: a recourse claim after a late payment", function () {
  this.timeout(120_000);
  let t: TestService;
  let api: ApiClient;

  before(async function () {
    t = await startTestService({ TIERLINE_KEEPER: "false" });
    api = new ApiClient(() => t.baseUrl);
  });
  after(async function () {
    await t?.close();
  });

  it("has the guarantor pay the claim less the late payment's share, and leaves no allowance", async function () {
    const operator = api.as(t.operatorKey);
    const seller: TestParty = await createTestParty(operator, ["supplier"]);
    const debtor: TestParty = await createTestParty(operator, ["debtor"]);
    const tier2: TestParty = await createTestParty(operator, ["supplier"]);
    const tier3: TestParty = await createTestParty(operator, ["financier"]);
    await mint(t, tier2.address, TIER2_SHARE);
    await mint(t, debtor.address, LATE_PAYMENT);
    const receivable = await registeredReceivable(api, seller, debtor);
    const split = await api.as(seller.apiKey).post(`/v1/certificates/${receivable.rootId}/split`, {
      parts: [
        { toPartyId: tier2.id, amount: TIER2_SHARE.toString() },
        { toPartyId: seller.id, amount: "40000000" },
      ],
    });
    expect(split.status, JSON.stringify(split.body)).to.equal(200);
    const leaf = split.body.children.find((c: { holderPartyId: string }) => c.holderPartyId === tier2.id).id;
    expect((await api.as(tier2.apiKey).post(`/v1/certificates/${leaf}/recourse`)).status).to.equal(200);
    expect(
      (await api.as(tier2.apiKey).post(`/v1/certificates/${leaf}/transfer`, { toPartyId: tier3.id })).status,
    ).to.equal(200);

    const grace = Number(await t.service.ctx.chain.contracts.registry.getFunction("gracePeriod")());
    await advanceChainTime(t, receivable.dueDate + grace - (await chainTime(t)) + 60);
    expect((await t.service.keeper.runOnce()).markedDefaulted).to.be.at.least(1);
    const opened = await api.as(tier3.apiKey).post(`/v1/certificates/${leaf}/recourse-claims`, { kind: "default" });
    expect(opened.status, JSON.stringify(opened.body)).to.equal(200);
    expect(opened.body.claim.amount).to.equal(TIER2_SHARE.toString());

    // The debtor pays half late; the keeper pays the leaf's holder, tier 3, its share.
    const repaid = await api
      .as(debtor.apiKey)
      .post(`/v1/receivables/${receivable.id}/repayments`, { amount: LATE_PAYMENT.toString() });
    expect(repaid.status, JSON.stringify(repaid.body)).to.equal(200);
    await t.service.keeper.runOnce();
    const share = (TIER2_SHARE * LATE_PAYMENT) / 100_000_000n;
    const paidOut = await t.service.ctx.chain.contracts.escrow.getFunction("paidOutOf")(leaf);
    expect(paidOut).to.equal(share);

    const before = { tier2: await balanceOf(t, tier2.address), tier3: await balanceOf(t, tier3.address) };
    const paid = await api.as(tier2.apiKey).post(`/v1/recourse-claims/${opened.body.claim.id}/pay`);
    expect(paid.status, JSON.stringify(paid.body)).to.equal(200);
    expect(before.tier2 - (await balanceOf(t, tier2.address))).to.equal(TIER2_SHARE - share);
    expect((await balanceOf(t, tier3.address)) - before.tier3).to.equal(TIER2_SHARE - share);
    const allowance = await t.service.ctx.chain.contracts.token.getFunction("allowance")(
      tier2.address,
      t.service.ctx.chain.deployment.addresses.recourseLedger!,
    );
    expect(allowance).to.equal(0n);
  });
});
