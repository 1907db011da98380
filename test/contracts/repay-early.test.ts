import { expect } from "chai";
import { network } from "hardhat";
import { deployWorld, DAY, MILLION } from "../helpers/fixture.js";
import { fundRequest, registerReceivable, splitCertificate } from "../helpers/lifecycle.js";

const { ethers, networkHelpers } = await network.create();
const world = () => deployWorld(ethers);

/** A receivable of `face` due in 100 days, split 600/400 (tier 2 / tier 1), debtor offering 10%/year. */
async function discountedWorld(face = 1_000n * MILLION) {
  const w = await networkHelpers.loadFixture(world);
  await w.registry.connect(w.operator).setEarlyPaymentRate(w.debtor.address, 1_000);
  const registered = await registerReceivable(w, face, { tenor: 100n * DAY });
  const dueDate = registered.terms.dueDate;
  return { w, ...registered, dueDate };
}

describe("early repayment with a dynamic discount", function () {
  describe("when the debtor pays 73 days before maturity at 10% a year", function () {
    it("quotes face less 2% and discharges the receivable for that", async function () {
      const { w, receivableId, dueDate } = await discountedWorld();
      await networkHelpers.time.setNextBlockTimestamp(dueDate - 73n * DAY);
      await networkHelpers.mine();
      // 1,000 x 10% x 73/365 = 20 tUSD discount.
      const [amount, discount] = await w.escrow.earlyRepaymentQuote(receivableId);
      expect(discount).to.equal(20n * MILLION);
      expect(amount).to.equal(980n * MILLION);

      await networkHelpers.time.setNextBlockTimestamp(dueDate - 73n * DAY + 1n);
      const before = await w.token.balanceOf(w.debtor.address);
      const tx = w.escrow.connect(w.debtor).repayEarly(receivableId, 980n * MILLION);
      // One second later the discount is a hair smaller, so the debtor pays a hair more.
      const secondLater = 1_000n * MILLION - (1_000n * MILLION * 1_000n * (73n * DAY - 1n)) / (10_000n * 365n * DAY);
      await expect(tx)
        .to.be.revertedWithCustomError(w.escrow, "SettlementQuoteAboveLimit")
        .withArgs(secondLater, 980n * MILLION);

      await networkHelpers.time.setNextBlockTimestamp(dueDate - 73n * DAY + 2n);
      const quoteThen = 1_000n * MILLION - (1_000n * MILLION * 1_000n * (73n * DAY - 2n)) / (10_000n * 365n * DAY);
      await expect(w.escrow.connect(w.debtor).repayEarly(receivableId, quoteThen))
        .to.emit(w.registry, "ReceivableDischargedEarly")
        .withArgs(receivableId, quoteThen, 1_000n * MILLION - quoteThen)
        .and.to.emit(w.registry, "ReceivableStatusChanged")
        .withArgs(receivableId, 4);
      expect(before - (await w.token.balanceOf(w.debtor.address))).to.equal(quoteThen);
      const receivable = await w.registry.receivableOf(receivableId);
      expect(receivable.status).to.equal(4n);
      expect(receivable.repaidAmount).to.equal(quoteThen);
    });

    it("pays every holder its pro-rata share of the discounted amount and closes the certificates", async function () {
      const { w, receivableId, rootId, dueDate } = await discountedWorld();
      const [tier2Piece, tier1Piece] = await splitCertificate(w, w.tier1, rootId, [
        { to: w.tier2, amount: 600n * MILLION },
        { to: w.tier1, amount: 400n * MILLION },
      ]);
      await networkHelpers.time.setNextBlockTimestamp(dueDate - 73n * DAY);
      await w.escrow.connect(w.debtor).repayEarly(receivableId, 980n * MILLION);
      const tier2Before = await w.token.balanceOf(w.tier2.address);
      const tier1Before = await w.token.balanceOf(w.tier1.address);
      await w.escrow.settle(receivableId, [tier2Piece!, tier1Piece!]);
      expect((await w.token.balanceOf(w.tier2.address)) - tier2Before).to.equal(588n * MILLION);
      expect((await w.token.balanceOf(w.tier1.address)) - tier1Before).to.equal(392n * MILLION);
      expect((await w.certificates.certificateOf(tier2Piece!)).state).to.equal(4n);
      expect(await w.token.balanceOf(await w.escrow.getAddress())).to.equal(0n);
    });

    it("returns the rounding dust of uneven pieces to the debtor", async function () {
      const { w, receivableId, rootId, dueDate } = await discountedWorld(1_000n);
      const pieces = await splitCertificate(w, w.tier1, rootId, [
        { to: w.tier2, amount: 333n },
        { to: w.tier3, amount: 333n },
        { to: w.tier1, amount: 334n },
      ]);
      await networkHelpers.time.setNextBlockTimestamp(dueDate - 73n * DAY);
      await w.escrow.connect(w.debtor).repayEarly(receivableId, 980n); // 1,000 less 20
      await w.escrow.settle(receivableId, pieces);
      // floor(980 x 333 / 1000) = 326, twice; floor(980 x 334 / 1000) = 327: 979 paid, 1 unit of dust.
      expect(await w.escrow.distributedOf(receivableId)).to.equal(979n);
      await expect(w.escrow.sweepDust(receivableId))
        .to.emit(w.escrow, "DustSwept")
        .withArgs(receivableId, w.debtor.address, 1n);
      expect(await w.token.balanceOf(await w.escrow.getAddress())).to.equal(0n);
    });

    it("pays a pledgee first and releases the pledge with the shortfall reported", async function () {
      const { w, receivableId, rootId, dueDate } = await discountedWorld();
      const [tier2Piece] = await splitCertificate(w, w.tier1, rootId, [
        { to: w.tier2, amount: 400n * MILLION },
        { to: w.tier1, amount: 600n * MILLION },
      ]);
      await w.financing.connect(w.tier2).openRequest(tier2Piece!, 1, 380n * MILLION, 400n * MILLION);
      await fundRequest(w, w.financier, 1n, 380n * MILLION, 400n * MILLION);
      await networkHelpers.time.setNextBlockTimestamp(dueDate - 73n * DAY);
      await w.escrow.connect(w.debtor).repayEarly(receivableId, 980n * MILLION);
      const bankBefore = await w.token.balanceOf(w.financier.address);
      // The piece's share is 392; the pledgee was owed 400: it gets all 392, 8 short.
      await expect(w.escrow.settle(receivableId, [tier2Piece!]))
        .to.emit(w.financing, "PledgeReleased")
        .withArgs(1n, tier2Piece!, 8n * MILLION);
      expect((await w.token.balanceOf(w.financier.address)) - bankBefore).to.equal(392n * MILLION);
      expect((await w.financing.requestOf(1n)).status).to.equal(5n);
    });
  });

  describe("when early payment is not on offer", function () {
    it("refuses a debtor without a rate", async function () {
      const { w } = await discountedWorld();
      await w.registry.connect(w.operator).setEarlyPaymentRate(w.debtor.address, 0);
      // The rate is frozen at registration: a receivable registered now has none.
      const { receivableId, terms } = await registerReceivable(w, 1_000n * MILLION, { tenor: 100n * DAY });
      const dueDate = terms.dueDate;
      await expect(w.escrow.earlyRepaymentQuote(receivableId))
        .to.be.revertedWithCustomError(w.registry, "EarlyPaymentUnavailable")
        .withArgs(receivableId, 0, dueDate);
    });

    it("refuses once the receivable is due", async function () {
      const { w, receivableId, dueDate } = await discountedWorld();
      await networkHelpers.time.setNextBlockTimestamp(dueDate);
      await expect(w.escrow.connect(w.debtor).repayEarly(receivableId, 1_000n * MILLION))
        .to.be.revertedWithCustomError(w.registry, "EarlyPaymentUnavailable")
        .withArgs(receivableId, 1_000, dueDate);
    });

    it("refuses a receivable already repaid", async function () {
      const { w, receivableId } = await discountedWorld();
      await w.escrow.connect(w.debtor).repay(receivableId, 1_000n * MILLION);
      await expect(w.escrow.connect(w.debtor).repayEarly(receivableId, 1_000n * MILLION))
        .to.be.revertedWithCustomError(w.registry, "ReceivableWrongStatus")
        .withArgs(receivableId, 4);
    });

    it("discounts only what is still outstanding after a partial payment", async function () {
      const { w, receivableId, dueDate } = await discountedWorld();
      await w.escrow.connect(w.debtor).repay(receivableId, 500n * MILLION);
      await networkHelpers.time.setNextBlockTimestamp(dueDate - 73n * DAY);
      await networkHelpers.mine();
      const [amount, discount] = await w.escrow.earlyRepaymentQuote(receivableId);
      expect([amount, discount]).to.deep.equal([490n * MILLION, 10n * MILLION]);
    });
  });

  describe("when someone other than the operator sets a rate", function () {
    it("refuses it, and refuses any rate above 100% a year", async function () {
      const w = await networkHelpers.loadFixture(world);
      // Deliberately changed: a rate is a registration term (frozen into each receivable), so the
      // registrar sets it, not the admin.
      const admin = await w.registry.REGISTRAR_ROLE();
      await expect(w.registry.connect(w.debtor).setEarlyPaymentRate(w.debtor.address, 500))
        .to.be.revertedWithCustomError(w.registry, "AccessControlUnauthorizedAccount")
        .withArgs(w.debtor.address, admin);
      await expect(w.registry.connect(w.operator).setEarlyPaymentRate(w.debtor.address, 10_001))
        .to.be.revertedWithCustomError(w.registry, "EarlyPaymentRateTooHigh")
        .withArgs(10_001);
      await expect(w.registry.connect(w.operator).setEarlyPaymentRate(w.debtor.address, 250))
        .to.emit(w.registry, "EarlyPaymentRateSet")
        .withArgs(w.debtor.address, 250);
      expect(await w.registry.earlyPaymentRateOf(w.debtor.address)).to.equal(250n);
    });
  });

  describe("when anyone but the escrow reports an early discharge", function () {
    it("refuses it", async function () {
      const { w, receivableId } = await discountedWorld();
      await expect(w.registry.connect(w.debtor).recordEarlyDischarge(receivableId, 1n, 0n))
        .to.be.revertedWithCustomError(w.registry, "CallerNotEscrow")
        .withArgs(w.debtor.address);
    });
  });
});
