// The keeper pays the holders of repaid receivables, marks overdue and defaulted ones on
// chain time and sweeps dust back to debtors: exactly once, across restarts. Most tests
// call runOnce() themselves (TIERLINE_KEEPER=false) so every pass is deterministic; one
// lets the keeper run on its own timer.
import { expect } from "chai";
import { startTestService, type TestService } from "../harness.js";
import { ApiClient } from "../client.js";
import { createTestParty, type TestParty } from "../scenario.js";
import {
  advanceChainTime,
  balancesOf,
  chainTime,
  deltas,
  FACE,
  leafSettledEvents,
  mint,
  pledge,
  SHARES,
  threeTierReceivable,
  type ThreeTierReceivable,
} from "../repayment-scenario.js";

const NOTHING = {
  settled: 0,
  settleTransactions: 0,
  markedOverdue: 0,
  markedDefaulted: 0,
  dustSwept: 0,
  creditNoteChunks: 0,
  tallyRestarts: 0,
  failed: 0,
};
const DAY = 86_400;

describe("Keeper: automated settlement, overdue and default", function () {
  this.timeout(180_000);
  let t: TestService;
  let api: ApiClient;
  let operator: ApiClient;
  let tier1: TestParty;
  let tier2: TestParty;
  let tier3: TestParty;
  let debtor: TestParty;
  let financier: TestParty;

  const parties = () => ({ tier1, tier2, tier3, debtor });
  const holders = () => ({
    tier1: tier1.address,
    tier2: tier2.address,
    tier3: tier3.address,
    debtor: debtor.address,
    financier: financier.address,
  });
  const repay = async (id: string, body: unknown) => {
    const response = await api.as(debtor.apiKey).post(`/v1/receivables/${id}/repayments`, body);
    expect(response.status, JSON.stringify(response.body)).to.equal(200);
    return response.body;
  };
  const keeper = () => t.service.keeper;
  const escrowView = (name: string, ...args: unknown[]) =>
    t.service.ctx.chain.contracts.escrow.getFunction(name)(...args);
  const indexedCertificate = (id: string) =>
    t.service.ctx.db.selectFrom("onchain_certificates").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
  const indexedReceivable = (id: string) =>
    t.service.ctx.db.selectFrom("onchain_receivables").selectAll().where("id", "=", id).executeTakeFirstOrThrow();

  before(async function () {
    // The 52-leaf case splits a 25.00 leaf in 26: pieces below the default minimum piece size (1.00).
    t = await startTestService({ TIERLINE_KEEPER: "false", TIERLINE_MIN_PIECE_SIZE: "1" });
    api = new ApiClient(() => t.baseUrl);
    operator = api.as(t.operatorKey);
    tier1 = await createTestParty(operator, ["supplier"]);
    tier2 = await createTestParty(operator, ["supplier"]);
    tier3 = await createTestParty(operator, ["supplier"]);
    debtor = await createTestParty(operator, ["debtor"]);
    financier = await createTestParty(operator, ["financier"]);
    await mint(t, debtor.address, 100n * FACE);
  });
  after(async function () {
    await t?.close();
  });

  describe("when nothing is due", function () {
    it("does nothing and sends no transaction", async function () {
      await threeTierReceivable(api, parties());
      const blockBefore = await t.service.ctx.chain.provider.getBlockNumber();
      expect(await keeper().runOnce()).to.deep.equal(NOTHING);
      expect(await t.service.ctx.chain.provider.getBlockNumber()).to.equal(blockBefore);
    });
  });

  describe("when a receivable is repaid in full", function () {
    let receivable: ThreeTierReceivable;
    let unpaid: Record<string, bigint>;

    before(async function () {
      receivable = await threeTierReceivable(api, parties());
      await repay(receivable.id, { amount: FACE.toString() });
      unpaid = await balancesOf(t, holders());
    });

    it("pays every holder across three tiers its exact share in one batch", async function () {
      const pass = await keeper().runOnce();
      expect(pass).to.deep.include({ settled: 3, settleTransactions: 1, failed: 0 });
      expect(deltas(unpaid, await balancesOf(t, holders()))).to.deep.equal({ ...SHARES, debtor: 0n, financier: 0n });
      expect(BigInt(await escrowView("distributedOf", receivable.id))).to.equal(FACE);
    });

    it("closes every leaf and records the payouts in the index", async function () {
      for (const [tier, id] of Object.entries(receivable.leaves)) {
        const row = await indexedCertificate(id);
        expect(row.state, tier).to.equal("settled");
        expect(row.paid_out, tier).to.equal(SHARES[tier as keyof typeof SHARES].toString());
      }
      expect((await indexedReceivable(receivable.id)).distributed).to.equal(FACE.toString());
      expect(BigInt(await escrowView("finalizedLeavesOf", receivable.id))).to.equal(3n);
    });

    it("pays nobody again on the next pass", async function () {
      const settledEvents = (await leafSettledEvents(t, receivable.id)).length;
      const paid = await balancesOf(t, holders());
      expect(await keeper().runOnce()).to.deep.equal(NOTHING);
      expect(await balancesOf(t, holders())).to.deep.equal(paid);
      expect(await leafSettledEvents(t, receivable.id)).to.have.length(settledEvents);
    });
  });

  describe("when a leaf is pledged", function () {
    const PRICE = 20_000_000n;
    const OWED = 30_000_000n;
    let receivable: ThreeTierReceivable;
    let requestId: string;

    before(async function () {
      receivable = await threeTierReceivable(api, parties());
      requestId = await pledge(t, tier2, financier, receivable.leaves.tier2, { price: PRICE, repayAmount: OWED });
    });

    it("locks the pledged leaf and pays the loan to its holder", async function () {
      expect((await indexedCertificate(receivable.leaves.tier2)).state).to.equal("locked");
      const request = await t.service.ctx.db
        .selectFrom("onchain_financing_requests")
        .selectAll()
        .where("id", "=", requestId)
        .executeTakeFirstOrThrow();
      expect(request).to.include({ status: "pledged", financier: financier.address, outstanding: OWED.toString() });
    });

    it("pays the pledgee first, up to what it is owed, and the holder the remainder", async function () {
      await repay(receivable.id, { amount: FACE.toString() });
      const before = await balancesOf(t, holders());
      const pass = await keeper().runOnce();
      expect(pass).to.deep.include({ settled: 3, failed: 0 });
      expect(deltas(before, await balancesOf(t, holders()))).to.deep.equal({
        tier1: SHARES.tier1,
        tier2: SHARES.tier2 - OWED,
        tier3: SHARES.tier3,
        debtor: 0n,
        financier: OWED,
      });
      const settled = (await leafSettledEvents(t, receivable.id)).find(
        (e) => e.certificateId === receivable.leaves.tier2,
      )!;
      expect(settled).to.include({
        holder: tier2.address,
        toHolder: (SHARES.tier2 - OWED).toString(),
        pledgee: financier.address,
        toPledgee: OWED.toString(),
      });
    });

    it("releases the pledge and closes the leaf", async function () {
      const request = await t.service.ctx.db
        .selectFrom("onchain_financing_requests")
        .selectAll()
        .where("id", "=", requestId)
        .executeTakeFirstOrThrow();
      expect(request).to.include({ status: "released", outstanding: "0", shortfall: "0" });
      expect((await indexedCertificate(receivable.leaves.tier2)).state).to.equal("settled");
    });
  });

  describe("when the debtor pays in part", function () {
    const FIRST = 33_333_333n;
    let receivable: ThreeTierReceivable;

    before(async function () {
      receivable = await threeTierReceivable(api, parties());
    });

    it("pays each leaf its pro-rata share, rounded down, and keeps the leaves open", async function () {
      await repay(receivable.id, { amount: FIRST.toString() });
      const before = await balancesOf(t, holders());
      expect(await keeper().runOnce()).to.deep.include({ settled: 3, settleTransactions: 1, failed: 0 });
      const expected = { tier1: (FIRST * 40n) / 100n, tier2: (FIRST * 35n) / 100n, tier3: (FIRST * 25n) / 100n };
      expect(expected).to.deep.equal({ tier1: 13_333_333n, tier2: 11_666_666n, tier3: 8_333_333n });
      expect(deltas(before, await balancesOf(t, holders()))).to.deep.equal({ ...expected, debtor: 0n, financier: 0n });
      expect((await indexedReceivable(receivable.id)).distributed).to.equal((FIRST - 1n).toString());
      for (const id of Object.values(receivable.leaves)) expect((await indexedCertificate(id)).state).to.equal("live");
    });

    it("leaves the rounding dust in the escrow while the receivable is open", async function () {
      expect(await keeper().runOnce()).to.deep.equal(NOTHING);
    });

    it("tops every leaf up to its exact share when the rest arrives", async function () {
      await repay(receivable.id, { amount: (FACE - FIRST).toString() });
      const before = await balancesOf(t, holders());
      expect(await keeper().runOnce()).to.deep.include({ settled: 3, settleTransactions: 1, dustSwept: 0, failed: 0 });
      const got = deltas(before, await balancesOf(t, holders()));
      expect(got).to.deep.equal({
        tier1: SHARES.tier1 - 13_333_333n,
        tier2: SHARES.tier2 - 11_666_666n,
        tier3: SHARES.tier3 - 8_333_333n,
        debtor: 0n,
        financier: 0n,
      });
      const paidOut = await Promise.all(
        Object.values(receivable.leaves).map(async (id) => (await indexedCertificate(id)).paid_out),
      );
      expect(paidOut).to.deep.equal([SHARES.tier1, SHARES.tier2, SHARES.tier3].map(String));
      expect((await indexedReceivable(receivable.id)).distributed).to.equal(FACE.toString());
    });
  });

  describe("when the debtor discharges early at a rate", function () {
    const RATE_BPS = 1_000; // 10% a year
    let receivable: ThreeTierReceivable;

    before(async function () {
      const set = await operator.post(`/v1/parties/${debtor.id}/early-payment-rate`, { rateBps: RATE_BPS });
      expect(set.status, JSON.stringify(set.body)).to.equal(200);
      receivable = await threeTierReceivable(api, parties());
    });
    after(async function () {
      // Later receivables of this debtor are repaid at face.
      expect((await operator.post(`/v1/parties/${debtor.id}/early-payment-rate`, { rateBps: 0 })).status).to.equal(200);
    });

    it("pays the holders the discounted amount pro rata and the rounding dust back to the debtor", async function () {
      const early = await repay(receivable.id, { early: true });
      const paid = BigInt(early.paid);
      expect(paid + BigInt(early.discount)).to.equal(FACE);
      expect(BigInt(early.discount) > 0n).to.equal(true);

      const before = await balancesOf(t, holders());
      const shares = { tier1: (paid * 40n) / 100n, tier2: (paid * 35n) / 100n, tier3: (paid * 25n) / 100n };
      const dust = paid - shares.tier1 - shares.tier2 - shares.tier3;
      const pass = await keeper().runOnce();
      expect(pass).to.deep.include({ settled: 3, settleTransactions: 1, dustSwept: dust > 0n ? 1 : 0, failed: 0 });
      expect(deltas(before, await balancesOf(t, holders()))).to.deep.equal({ ...shares, debtor: dust, financier: 0n });
      expect((await indexedReceivable(receivable.id)).distributed).to.equal(paid.toString());
      for (const id of Object.values(receivable.leaves))
        expect((await indexedCertificate(id)).state).to.equal("settled");
    });
  });

  describe("when one receivable has more leaves than a batch holds", function () {
    const PIECES = 26; // two splits of 26: 52 leaves, over MAX_SETTLE_BATCH (50)

    it("settles them in batches of at most 50, every leaf paid once", async function () {
      const receivable = await threeTierReceivable(api, parties());
      // tier1 splits its own 40% leaf into 26 pieces, tier3 its 25% leaf into 26: 3 - 2 + 52 = 53 leaves.
      for (const [party, leaf, face] of [
        [tier1, receivable.leaves.tier1, SHARES.tier1],
        [tier3, receivable.leaves.tier3, SHARES.tier3],
      ] as const) {
        const piece = face / BigInt(PIECES);
        const parts = Array.from({ length: PIECES }, (_, i) => ({
          toPartyId: party.id,
          amount: (i === 0 ? face - piece * BigInt(PIECES - 1) : piece).toString(),
        }));
        const split = await api.as(party.apiKey).post(`/v1/certificates/${leaf}/split`, { parts });
        expect(split.status, JSON.stringify(split.body)).to.equal(200);
      }
      expect(
        BigInt(await t.service.ctx.chain.contracts.certificates.getFunction("leafCountOf")(receivable.id)),
      ).to.equal(53n);

      await repay(receivable.id, { amount: FACE.toString() });
      const before = await balancesOf(t, holders());
      expect(await keeper().runOnce()).to.deep.include({ settled: 53, settleTransactions: 2, failed: 0 });

      const events = await leafSettledEvents(t, receivable.id);
      const perTx = new Map<string, number>();
      for (const e of events) perTx.set(e.txHash, (perTx.get(e.txHash) ?? 0) + 1);
      expect([...perTx.values()]).to.deep.equal([50, 3]);
      expect(new Set(events.map((e) => e.certificateId)).size).to.equal(53);
      expect(deltas(before, await balancesOf(t, holders()))).to.deep.equal({ ...SHARES, debtor: 0n, financier: 0n });
    });
  });

  describe("when the keeper runs on its own", function () {
    afterEach(async function () {
      await keeper().stop();
    });

    it("pays the holders without anyone asking", async function () {
      const receivable = await threeTierReceivable(api, parties());
      keeper().start(100);
      const before = await balancesOf(t, holders());
      await repay(receivable.id, { amount: FACE.toString() });
      const deadline = Date.now() + 20_000;
      while ((await indexedReceivable(receivable.id)).distributed !== FACE.toString()) {
        if (Date.now() > deadline) throw new Error("the keeper did not settle within 20 s");
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await keeper().stop();
      expect(deltas(before, await balancesOf(t, holders()))).to.deep.equal({ ...SHARES, debtor: -FACE, financier: 0n });
      expect(await leafSettledEvents(t, receivable.id)).to.have.length(3);
    });

    it("stops after the running pass and sends nothing more", async function () {
      keeper().start(50);
      await keeper().stop();
      const blockBefore = await t.service.ctx.chain.provider.getBlockNumber();
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await t.service.ctx.chain.provider.getBlockNumber()).to.equal(blockBefore);
    });
  });

  describe("when passes are asked for at the same time", function () {
    it("runs them one after the other, so the second finds nothing to pay", async function () {
      const receivable = await threeTierReceivable(api, parties());
      await repay(receivable.id, { amount: FACE.toString() });
      const [first, second] = await Promise.all([keeper().runOnce(), keeper().runOnce()]);
      expect(first).to.deep.include({ settled: 3, failed: 0 });
      expect(second).to.deep.equal(NOTHING);
      expect(await leafSettledEvents(t, receivable.id)).to.have.length(3);
    });
  });

  describe("when the service restarts", function () {
    let receivable: ThreeTierReceivable;
    let afterFirstPass: Record<string, bigint>;
    let settledEvents: number;

    before(async function () {
      receivable = await threeTierReceivable(api, parties());
      await repay(receivable.id, { amount: FACE.toString() });
    });

    it("pays nobody a second time after a stop and start", async function () {
      const before = await balancesOf(t, holders());
      expect(await keeper().runOnce()).to.deep.include({ settled: 3 });
      afterFirstPass = await balancesOf(t, holders());
      expect(deltas(before, afterFirstPass)).to.deep.equal({ ...SHARES, debtor: 0n, financier: 0n });
      settledEvents = (await leafSettledEvents(t)).length;

      await t.stopService();
      await t.restartService();
      expect(await keeper().runOnce()).to.deep.equal(NOTHING);
      expect(await balancesOf(t, holders())).to.deep.equal(afterFirstPass);
      expect(await leafSettledEvents(t)).to.have.length(settledEvents);
    });

    it("finds its own transaction mined after a crash left it marked sent, and does nothing again", async function () {
      // A crash between broadcast and recording leaves the journal row "sent".
      const { db } = t.service.ctx;
      const row = await db
        .selectFrom("tx_journal")
        .selectAll()
        .where("kind", "=", "keeper.settle")
        .where("ref", "=", receivable.id)
        .executeTakeFirstOrThrow();
      expect(row.state).to.equal("mined");
      await db.updateTable("tx_journal").set({ state: "sent" }).where("id", "=", row.id).execute();

      await t.stopService();
      await t.restartService();
      const reconciled = await t.service.ctx.db
        .selectFrom("tx_journal")
        .select("state")
        .where("id", "=", row.id)
        .executeTakeFirstOrThrow();
      expect(reconciled.state).to.equal("mined");
      expect(await keeper().runOnce()).to.deep.equal(NOTHING);
      expect(await balancesOf(t, holders())).to.deep.equal(afterFirstPass);
      expect(await leafSettledEvents(t)).to.have.length(settledEvents);
    });
  });

  // Chain time moves forward from here: registrations (checked against wall-clock time) come first.
  describe("when receivables pass their due date", function () {
    const PAID = 33_333_333n;
    let partlyPaid: ThreeTierReceivable;
    let unpaid: ThreeTierReceivable;
    let gracePeriod: number;

    const statusOf = async (id: string) => (await indexedReceivable(id)).status;

    before(async function () {
      partlyPaid = await threeTierReceivable(api, parties());
      unpaid = await threeTierReceivable(api, parties());
      await repay(partlyPaid.id, { amount: PAID.toString() });
      expect(await keeper().runOnce()).to.deep.include({ settled: 3, failed: 0 });
      gracePeriod = Number(await t.service.ctx.chain.contracts.registry.getFunction("gracePeriod")());
      expect(gracePeriod).to.equal(30 * DAY);
    });

    it("leaves them active up to the due date", async function () {
      await advanceChainTime(t, Math.min(unpaid.dueDate, partlyPaid.dueDate) - (await chainTime(t)) - 60);
      // (Receivables of earlier tests, registered earlier, may fall due first: only these two count.)
      expect(await keeper().runOnce()).to.deep.include({ markedDefaulted: 0, failed: 0 });
      expect([await statusOf(partlyPaid.id), await statusOf(unpaid.id)]).to.deep.equal(["active", "active"]);
    });

    it("marks them overdue on chain time once the due date has passed", async function () {
      await advanceChainTime(t, Math.max(unpaid.dueDate, partlyPaid.dueDate) - (await chainTime(t)) + 60);
      const pass = await keeper().runOnce();
      expect(pass.markedOverdue).to.be.at.least(2);
      expect(pass).to.deep.include({ markedDefaulted: 0, failed: 0 });
      expect([await statusOf(partlyPaid.id), await statusOf(unpaid.id)]).to.deep.equal(["overdue", "overdue"]);
      expect(await keeper().runOnce()).to.deep.equal(NOTHING);
    });

    // Deliberately changed (trust model, item 5): a defaulted receivable stays open for a late
    // payment, so default finalizes no leaf and sweeps no dust; a late payment is paid out.
    it("marks them defaulted once the grace period has passed too, and leaves their leaves open", async function () {
      await advanceChainTime(t, gracePeriod);
      const pass = await keeper().runOnce();
      expect(pass.markedDefaulted).to.be.at.least(2);
      expect(pass).to.deep.include({ settled: 0, dustSwept: 0, failed: 0 });
      expect([await statusOf(partlyPaid.id), await statusOf(unpaid.id)]).to.deep.equal(["defaulted", "defaulted"]);
      expect(BigInt(await escrowView("finalizedLeavesOf", partlyPaid.id))).to.equal(0n);
      // Each leaf was paid its floor share of what came in; the rounding stays in escrow (no
      // sweep while a late payment may still come): below one unit per leaf.
      const distributed = BigInt((await indexedReceivable(partlyPaid.id)).distributed);
      expect(distributed).to.equal(BigInt(await escrowView("distributedOf", partlyPaid.id)));
      expect(PAID - distributed >= 0n && PAID - distributed < 3n).to.equal(true);
      expect(await leafSettledEvents(t, unpaid.id)).to.have.length(0);
      expect(await keeper().runOnce()).to.deep.equal(NOTHING);
    });

    it("pays a late payment in full to every leaf and closes the receivable", async function () {
      const face = BigInt((await indexedReceivable(partlyPaid.id)).face_value);
      await repay(partlyPaid.id, { amount: (face - PAID).toString() });
      const pass = await keeper().runOnce();
      expect(pass).to.deep.include({ settled: 3, failed: 0 });
      expect(await statusOf(partlyPaid.id)).to.equal("repaid");
      expect(BigInt(await escrowView("finalizedLeavesOf", partlyPaid.id))).to.equal(3n);
      expect((await indexedReceivable(partlyPaid.id)).distributed).to.equal(face.toString());
      expect(await keeper().runOnce()).to.deep.equal(NOTHING);
    });
  });
});
