// Behaviour of FinancingMarket: opening, cancelling and funding requests (discount and pledge),
// pledge endings (repayment, foreclosure) and how settlement closes requests and pledges.
import { expect } from "chai";
import { network } from "hardhat";
import { deployWorld, MILLION } from "../helpers/fixture.js";
import { fundRequest, registerReceivable, splitCertificate } from "../helpers/lifecycle.js";
import { FinancingKind, RequestStatus } from "../../server/model/contract-enums.js";

const { ethers, networkHelpers } = await network.create();

// Enum values as the contracts number them.
const DISCOUNT = FinancingKind.discount;
const PLEDGE = FinancingKind.pledge;
const OPEN = RequestStatus.open;
const CANCELLED = RequestStatus.cancelled;
const SOLD = RequestStatus.sold;
const PLEDGED = RequestStatus.pledged;
const RELEASED = RequestStatus.released;
const FORECLOSED = RequestStatus.foreclosed;
const CERT_LIVE = 1n;
const CERT_LOCKED = 2n;
const CERT_RETIRED = 3n;
const CERT_SETTLED = 4n;
const RECEIVABLE_ACTIVE = 1n;
const RECEIVABLE_OVERDUE = 2n;

const FACE = 1_000n * MILLION;
const DISCOUNT_PRICE = 950n * MILLION;
const PLEDGE_PRICE = 800n * MILLION;
const PLEDGE_REPAY = 850n * MILLION;

/** A world with one receivable of 1,000 tUSD whose root certificate tier1 holds. */
async function worldWithReceivable() {
  const w = await deployWorld(ethers);
  const registered = await registerReceivable(w, FACE);
  return { ...w, ...registered };
}

/** tier1 has asked to sell its root certificate for 950 (request 1, unfunded). */
async function worldWithOpenDiscount() {
  const w = await worldWithReceivable();
  await w.financing.connect(w.tier1).openRequest(w.rootId, DISCOUNT, DISCOUNT_PRICE, 0n);
  return { ...w, requestId: 1n };
}

/** tier1 has asked to borrow 800 against its root certificate, owing 850 (request 1, unfunded). */
async function worldWithOpenPledge() {
  const w = await worldWithReceivable();
  await w.financing.connect(w.tier1).openRequest(w.rootId, PLEDGE, PLEDGE_PRICE, PLEDGE_REPAY);
  return { ...w, requestId: 1n };
}

/** The pledge request above, funded by `financier`. */
async function worldWithPledge() {
  const w = await worldWithOpenPledge();
  await fundRequest(w, w.financier, w.requestId, PLEDGE_PRICE, PLEDGE_REPAY);
  return w;
}

type World = Awaited<ReturnType<typeof worldWithReceivable>>;

async function balancesOf(w: World, accounts: string[]): Promise<bigint[]> {
  return Promise.all(accounts.map((a) => w.token.balanceOf(a)));
}

async function defaultReceivable(w: World): Promise<void> {
  const grace = await w.registry.gracePeriod();
  await networkHelpers.time.increaseTo(w.terms.dueDate + grace + 1n);
  await w.registry.markDefaulted(w.receivableId);
}

describe("opening a financing request", function () {
  describe("when the holder asks to sell at a discount", function () {
    it("emits FinancingRequested and locks the certificate to the market", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      const tx = w.financing.connect(w.tier1).openRequest(w.rootId, DISCOUNT, DISCOUNT_PRICE, 0n);
      await expect(tx)
        .to.emit(w.financing, "FinancingRequested")
        .withArgs(1n, w.rootId, w.tier1.address, DISCOUNT, DISCOUNT_PRICE, 0n);
      await expect(tx)
        .to.emit(w.certificates, "CertificateLockPlaced")
        .withArgs(w.rootId, await w.financing.getAddress());
      expect((await w.certificates.certificateOf(w.rootId)).state).to.equal(CERT_LOCKED);
      expect(await w.certificates.lockerOf(w.rootId)).to.equal(await w.financing.getAddress());
      expect(await w.financing.activeRequestOf(w.rootId)).to.equal(1n);
      expect(await w.financing.requestCount()).to.equal(1n);
      const request = await w.financing.requestOf(1n);
      expect(request.certificateId).to.equal(w.rootId);
      expect(request.holder).to.equal(w.tier1.address);
      expect(request.kind).to.equal(DISCOUNT);
      expect(request.status).to.equal(OPEN);
      expect(request.financier).to.equal(ethers.ZeroAddress);
      expect(request.price).to.equal(DISCOUNT_PRICE);
      expect(request.repayAmount).to.equal(0n);
      // The certificate stays with the holder until someone funds it.
      expect(await w.certificates.ownerOf(w.rootId)).to.equal(w.tier1.address);
    });

    it("accepts a price equal to the face value", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await expect(w.financing.connect(w.tier1).openRequest(w.rootId, DISCOUNT, FACE, 0n))
        .to.emit(w.financing, "FinancingRequested")
        .withArgs(1n, w.rootId, w.tier1.address, DISCOUNT, FACE, 0n);
    });
  });

  describe("when the holder asks for a pledge loan", function () {
    it("emits FinancingRequested with the repay amount and locks the certificate", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await expect(w.financing.connect(w.tier1).openRequest(w.rootId, PLEDGE, PLEDGE_PRICE, PLEDGE_REPAY))
        .to.emit(w.financing, "FinancingRequested")
        .withArgs(1n, w.rootId, w.tier1.address, PLEDGE, PLEDGE_PRICE, PLEDGE_REPAY);
      expect((await w.certificates.certificateOf(w.rootId)).state).to.equal(CERT_LOCKED);
      expect(await w.certificates.lockerOf(w.rootId)).to.equal(await w.financing.getAddress());
      expect(await w.financing.activeRequestOf(w.rootId)).to.equal(1n);
      // Not funded yet: no pledge exists.
      expect(await w.financing.pledgeOf(w.rootId)).to.deep.equal([0n, ethers.ZeroAddress, 0n]);
    });

    it("accepts a repay amount equal to the price and one equal to the face value", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      const [a, b] = await splitCertificate(w, w.tier1, w.rootId, [
        { to: w.tier1, amount: 500n * MILLION },
        { to: w.tier1, amount: 500n * MILLION },
      ]);
      await w.financing.connect(w.tier1).openRequest(a!, PLEDGE, 400n * MILLION, 400n * MILLION);
      await w.financing.connect(w.tier1).openRequest(b!, PLEDGE, 400n * MILLION, 500n * MILLION);
      expect((await w.financing.requestOf(1n)).repayAmount).to.equal(400n * MILLION);
      expect((await w.financing.requestOf(2n)).repayAmount).to.equal(500n * MILLION);
    });
  });

  describe("when the caller does not hold the certificate", function () {
    it("refuses the request", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await expect(w.financing.connect(w.tier2).openRequest(w.rootId, DISCOUNT, DISCOUNT_PRICE, 0n))
        .to.be.revertedWithCustomError(w.financing, "FinancingNotHolder")
        .withArgs(w.rootId, w.tier2.address);
    });
  });

  describe("when the terms are inconsistent", function () {
    const cases: Array<[string, bigint, bigint, bigint]> = [
      ["a price of zero", DISCOUNT, 0n, 0n],
      ["a price above the face value", DISCOUNT, FACE + 1n, 0n],
      ["a discount with a repay amount", DISCOUNT, DISCOUNT_PRICE, 1n],
      ["a pledge repaying less than the price", PLEDGE, PLEDGE_PRICE, PLEDGE_PRICE - 1n],
      ["a pledge repaying more than the face value", PLEDGE, PLEDGE_PRICE, FACE + 1n],
      ["a pledge with a price of zero", PLEDGE, 0n, PLEDGE_REPAY],
    ];
    for (const [label, kind, price, repay] of cases) {
      it(`refuses ${label}`, async function () {
        const w = await networkHelpers.loadFixture(worldWithReceivable);
        await expect(w.financing.connect(w.tier1).openRequest(w.rootId, kind, price, repay))
          .to.be.revertedWithCustomError(w.financing, "FinancingTermsInvalid")
          .withArgs(price, repay, FACE);
      });
    }
  });

  describe("when the certificate is already in a financing (double-pledge defence)", function () {
    it("refuses a second request for the same certificate", async function () {
      const w = await networkHelpers.loadFixture(worldWithOpenDiscount);
      await expect(w.financing.connect(w.tier1).openRequest(w.rootId, PLEDGE, PLEDGE_PRICE, PLEDGE_REPAY))
        .to.be.revertedWithCustomError(w.certificates, "CertificateLocked")
        .withArgs(w.rootId);
      expect(await w.financing.requestCount()).to.equal(1n);
    });

    it("refuses a new request on a pledged certificate", async function () {
      const w = await networkHelpers.loadFixture(worldWithPledge);
      await expect(w.financing.connect(w.tier1).openRequest(w.rootId, PLEDGE, 100n * MILLION, 100n * MILLION))
        .to.be.revertedWithCustomError(w.certificates, "CertificateLocked")
        .withArgs(w.rootId);
    });

    it("refuses to hand the pledged certificate to a second financier by transfer", async function () {
      const w = await networkHelpers.loadFixture(worldWithPledge);
      await expect(w.certificates.connect(w.tier1).transferFrom(w.tier1.address, w.financier2.address, w.rootId))
        .to.be.revertedWithCustomError(w.certificates, "CertificateLocked")
        .withArgs(w.rootId);
      expect(await w.certificates.ownerOf(w.rootId)).to.equal(w.tier1.address);
      expect(await w.financing.pledgeOf(w.rootId)).to.deep.equal([1n, w.financier.address, PLEDGE_REPAY]);
    });
  });

  describe("when the certificate is not live", function () {
    it("refuses a retired certificate", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await splitCertificate(w, w.tier1, w.rootId, [{ to: w.tier2, amount: FACE }]);
      await expect(w.financing.connect(w.tier1).openRequest(w.rootId, DISCOUNT, DISCOUNT_PRICE, 0n))
        .to.be.revertedWithCustomError(w.financing, "CertificateWrongState")
        .withArgs(w.rootId, CERT_RETIRED);
    });

    it("refuses a settled certificate", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await w.escrow.connect(w.debtor).repay(w.receivableId, FACE);
      await w.escrow.settle(w.receivableId, [w.rootId]);
      await expect(w.financing.connect(w.tier1).openRequest(w.rootId, DISCOUNT, DISCOUNT_PRICE, 0n))
        .to.be.revertedWithCustomError(w.financing, "CertificateWrongState")
        .withArgs(w.rootId, CERT_SETTLED);
    });

    it("refuses a certificate that was never issued", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await expect(w.financing.connect(w.tier1).openRequest(99n, DISCOUNT, DISCOUNT_PRICE, 0n))
        .to.be.revertedWithCustomError(w.certificates, "CertificateNotFound")
        .withArgs(99n);
    });
  });

  describe("when the receivable is past due or closed", function () {
    it("accepts a request one second before the due date and refuses one at the due date", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      const [a, b] = await splitCertificate(w, w.tier1, w.rootId, [
        { to: w.tier1, amount: 500n * MILLION },
        { to: w.tier1, amount: 500n * MILLION },
      ]);
      await networkHelpers.time.setNextBlockTimestamp(w.terms.dueDate - 1n);
      await w.financing.connect(w.tier1).openRequest(a!, DISCOUNT, 400n * MILLION, 0n);
      await networkHelpers.time.setNextBlockTimestamp(w.terms.dueDate);
      await expect(w.financing.connect(w.tier1).openRequest(b!, DISCOUNT, 400n * MILLION, 0n))
        .to.be.revertedWithCustomError(w.financing, "FinancingReceivableClosed")
        .withArgs(w.receivableId);
    });

    it("refuses a request once the receivable defaulted", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await defaultReceivable(w);
      await expect(w.financing.connect(w.tier1).openRequest(w.rootId, DISCOUNT, DISCOUNT_PRICE, 0n))
        .to.be.revertedWithCustomError(w.financing, "FinancingReceivableClosed")
        .withArgs(w.receivableId);
    });

    it("accepts a request after a partial repayment, the receivable still being active", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await w.escrow.connect(w.debtor).repay(w.receivableId, 100n * MILLION);
      expect(await w.registry.statusOf(w.receivableId)).to.equal(RECEIVABLE_ACTIVE);
      await expect(w.financing.connect(w.tier1).openRequest(w.rootId, DISCOUNT, DISCOUNT_PRICE, 0n))
        .to.emit(w.financing, "FinancingRequested")
        .withArgs(1n, w.rootId, w.tier1.address, DISCOUNT, DISCOUNT_PRICE, 0n);
    });
  });

  describe("when financing is paused", function () {
    it("refuses the request", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await w.financing.connect(w.pauser).pause();
      await expect(
        w.financing.connect(w.tier1).openRequest(w.rootId, DISCOUNT, DISCOUNT_PRICE, 0n),
      ).to.be.revertedWithCustomError(w.financing, "EnforcedPause");
    });
  });

  describe("when the holder has been suspended", function () {
    it("refuses the request", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await w.parties.connect(w.partyManager).setPartyActive(w.tier1.address, false);
      await expect(w.financing.connect(w.tier1).openRequest(w.rootId, PLEDGE, PLEDGE_PRICE, PLEDGE_REPAY))
        .to.be.revertedWithCustomError(w.financing, "PartyNotActive")
        .withArgs(w.tier1.address);
    });
  });
});

describe("cancelling a financing request", function () {
  describe("when the holder cancels an open request", function () {
    it("marks it cancelled, emits FinancingCancelled and unlocks the certificate", async function () {
      const w = await networkHelpers.loadFixture(worldWithOpenDiscount);
      const tx = w.financing.connect(w.tier1).cancelRequest(w.requestId);
      await expect(tx).to.emit(w.financing, "FinancingCancelled").withArgs(w.requestId, w.rootId);
      await expect(tx).to.emit(w.certificates, "CertificateLockLifted").withArgs(w.rootId);
      expect((await w.financing.requestOf(w.requestId)).status).to.equal(CANCELLED);
      expect((await w.certificates.certificateOf(w.rootId)).state).to.equal(CERT_LIVE);
      expect(await w.certificates.lockerOf(w.rootId)).to.equal(ethers.ZeroAddress);
      expect(await w.financing.activeRequestOf(w.rootId)).to.equal(0n);
      // Free again: it can be split.
      await splitCertificate(w, w.tier1, w.rootId, [{ to: w.tier2, amount: FACE }]);
      expect((await w.certificates.certificateOf(w.rootId)).state).to.equal(CERT_RETIRED);
    });

    it("still works while financing is paused", async function () {
      const w = await networkHelpers.loadFixture(worldWithOpenPledge);
      await w.financing.connect(w.pauser).pause();
      await expect(w.financing.connect(w.tier1).cancelRequest(w.requestId))
        .to.emit(w.financing, "FinancingCancelled")
        .withArgs(w.requestId, w.rootId);
    });
  });

  describe("when the caller may not cancel it", function () {
    it("refuses anyone but the holder", async function () {
      const w = await networkHelpers.loadFixture(worldWithOpenDiscount);
      await expect(w.financing.connect(w.financier).cancelRequest(w.requestId))
        .to.be.revertedWithCustomError(w.financing, "FinancingNotHolder")
        .withArgs(w.rootId, w.financier.address);
    });

    it("refuses to cancel twice", async function () {
      const w = await networkHelpers.loadFixture(worldWithOpenDiscount);
      await w.financing.connect(w.tier1).cancelRequest(w.requestId);
      await expect(w.financing.connect(w.tier1).cancelRequest(w.requestId))
        .to.be.revertedWithCustomError(w.financing, "FinancingWrongStatus")
        .withArgs(w.requestId, CANCELLED);
    });

    it("refuses to cancel a funded discount", async function () {
      const w = await networkHelpers.loadFixture(worldWithOpenDiscount);
      await fundRequest(w, w.financier, w.requestId, DISCOUNT_PRICE, 0n);
      await expect(w.financing.connect(w.tier1).cancelRequest(w.requestId))
        .to.be.revertedWithCustomError(w.financing, "FinancingWrongStatus")
        .withArgs(w.requestId, SOLD);
    });

    it("refuses to cancel a funded pledge", async function () {
      const w = await networkHelpers.loadFixture(worldWithPledge);
      await expect(w.financing.connect(w.tier1).cancelRequest(w.requestId))
        .to.be.revertedWithCustomError(w.financing, "FinancingWrongStatus")
        .withArgs(w.requestId, PLEDGED);
      expect(await w.certificates.lockerOf(w.rootId)).to.equal(await w.financing.getAddress());
    });

    it("refuses a request that does not exist", async function () {
      const w = await networkHelpers.loadFixture(worldWithOpenDiscount);
      await expect(w.financing.connect(w.tier1).cancelRequest(99n))
        .to.be.revertedWithCustomError(w.financing, "FinancingRequestNotFound")
        .withArgs(99n);
    });
  });
});

describe("funding a financing request", function () {
  describe("when a financier buys a certificate at a discount", function () {
    it("pays the holder exactly the price and delivers the unlocked certificate to the financier", async function () {
      const w = await networkHelpers.loadFixture(worldWithOpenDiscount);
      const market = await w.financing.getAddress();
      const accounts = [w.tier1.address, w.financier.address, market];
      const before = await balancesOf(w, accounts);
      const tx = fundRequest(w, w.financier, w.requestId, DISCOUNT_PRICE, 0n);
      await expect(tx)
        .to.emit(w.financing, "FinancingFunded")
        .withArgs(w.requestId, w.rootId, w.financier.address, DISCOUNT, DISCOUNT_PRICE);
      await expect(tx).to.emit(w.certificates, "Transfer").withArgs(w.tier1.address, w.financier.address, w.rootId);
      const after = await balancesOf(w, accounts);
      expect(after[0]! - before[0]!).to.equal(DISCOUNT_PRICE);
      expect(before[1]! - after[1]!).to.equal(DISCOUNT_PRICE);
      expect(after[2]).to.equal(before[2]);
      expect(await w.certificates.ownerOf(w.rootId)).to.equal(w.financier.address);
      expect((await w.certificates.certificateOf(w.rootId)).state).to.equal(CERT_LIVE);
      expect(await w.certificates.lockerOf(w.rootId)).to.equal(ethers.ZeroAddress);
      expect(await w.financing.activeRequestOf(w.rootId)).to.equal(0n);
      const request = await w.financing.requestOf(w.requestId);
      expect(request.status).to.equal(SOLD);
      expect(request.financier).to.equal(w.financier.address);
    });

    it("lets the buyer pass the certificate on", async function () {
      const w = await networkHelpers.loadFixture(worldWithOpenDiscount);
      await fundRequest(w, w.financier, w.requestId, DISCOUNT_PRICE, 0n);
      await w.certificates.connect(w.financier).transferFrom(w.financier.address, w.financier2.address, w.rootId);
      expect(await w.certificates.ownerOf(w.rootId)).to.equal(w.financier2.address);
    });
  });

  describe("when a financier funds a pledge", function () {
    it("pays the holder, keeps the certificate locked with the holder and records the pledge", async function () {
      const w = await networkHelpers.loadFixture(worldWithOpenPledge);
      const accounts = [w.tier1.address, w.financier.address];
      const before = await balancesOf(w, accounts);
      await expect(fundRequest(w, w.financier, w.requestId, PLEDGE_PRICE, PLEDGE_REPAY))
        .to.emit(w.financing, "FinancingFunded")
        .withArgs(w.requestId, w.rootId, w.financier.address, PLEDGE, PLEDGE_PRICE);
      const after = await balancesOf(w, accounts);
      expect(after[0]! - before[0]!).to.equal(PLEDGE_PRICE);
      expect(before[1]! - after[1]!).to.equal(PLEDGE_PRICE);
      expect(await w.certificates.ownerOf(w.rootId)).to.equal(w.tier1.address);
      expect((await w.certificates.certificateOf(w.rootId)).state).to.equal(CERT_LOCKED);
      expect(await w.certificates.lockerOf(w.rootId)).to.equal(await w.financing.getAddress());
      expect(await w.financing.pledgeOf(w.rootId)).to.deep.equal([w.requestId, w.financier.address, PLEDGE_REPAY]);
      expect(await w.financing.activeRequestOf(w.rootId)).to.equal(w.requestId);
      const request = await w.financing.requestOf(w.requestId);
      expect(request.status).to.equal(PLEDGED);
      expect(request.outstanding).to.equal(PLEDGE_REPAY);
    });
  });

  describe("when the funder expected other terms (front-run protection)", function () {
    it("refuses a price that differs from the request's", async function () {
      const w = await networkHelpers.loadFixture(worldWithOpenDiscount);
      await expect(fundRequest(w, w.financier, w.requestId, DISCOUNT_PRICE - 1n, 0n))
        .to.be.revertedWithCustomError(w.financing, "FinancingTermsMismatch")
        .withArgs(w.requestId, DISCOUNT_PRICE, 0n);
    });

    it("refuses a repay amount that differs from the request's", async function () {
      const w = await networkHelpers.loadFixture(worldWithOpenPledge);
      await expect(fundRequest(w, w.financier, w.requestId, PLEDGE_PRICE, PLEDGE_REPAY - 1n))
        .to.be.revertedWithCustomError(w.financing, "FinancingTermsMismatch")
        .withArgs(w.requestId, PLEDGE_PRICE, PLEDGE_REPAY);
    });

    it("protects a funder whose request was cancelled and reopened at a worse price", async function () {
      const w = await networkHelpers.loadFixture(worldWithOpenDiscount);
      // The funder agreed to pay 950 for request 1; the holder swaps in a request at 990.
      await w.financing.connect(w.tier1).cancelRequest(w.requestId);
      await w.financing.connect(w.tier1).openRequest(w.rootId, DISCOUNT, 990n * MILLION, 0n);
      const before = await balancesOf(w, [w.tier1.address, w.financier.address]);
      await expect(fundRequest(w, w.financier, w.requestId, DISCOUNT_PRICE, 0n))
        .to.be.revertedWithCustomError(w.financing, "FinancingWrongStatus")
        .withArgs(w.requestId, CANCELLED);
      await expect(fundRequest(w, w.financier, 2n, DISCOUNT_PRICE, 0n))
        .to.be.revertedWithCustomError(w.financing, "FinancingTermsMismatch")
        .withArgs(2n, 990n * MILLION, 0n);
      expect(await balancesOf(w, [w.tier1.address, w.financier.address])).to.deep.equal(before);
      expect(await w.certificates.ownerOf(w.rootId)).to.equal(w.tier1.address);
    });
  });

  describe("when the funder may not fund it", function () {
    it("refuses the holder funding its own request", async function () {
      const w = await networkHelpers.loadFixture(worldWithOpenDiscount);
      await expect(fundRequest(w, w.tier1, w.requestId, DISCOUNT_PRICE, 0n))
        .to.be.revertedWithCustomError(w.financing, "FinancingSelfFunding")
        .withArgs(w.requestId);
    });

    it("refuses an unregistered funder", async function () {
      const w = await networkHelpers.loadFixture(worldWithOpenDiscount);
      await expect(fundRequest(w, w.outsider, w.requestId, DISCOUNT_PRICE, 0n))
        .to.be.revertedWithCustomError(w.financing, "PartyNotActive")
        .withArgs(w.outsider.address);
    });

    it("refuses a suspended funder", async function () {
      const w = await networkHelpers.loadFixture(worldWithOpenPledge);
      await w.parties.connect(w.partyManager).setPartyActive(w.financier.address, false);
      await expect(fundRequest(w, w.financier, w.requestId, PLEDGE_PRICE, PLEDGE_REPAY))
        .to.be.revertedWithCustomError(w.financing, "PartyNotActive")
        .withArgs(w.financier.address);
    });

    it("refuses an auditor funding a pledge: the certificate would reach it at foreclosure", async function () {
      const w = await networkHelpers.loadFixture(worldWithOpenPledge);
      await w.token.mint(w.auditor.address, 1_000n * MILLION);
      await w.token.connect(w.auditor).approve(await w.financing.getAddress(), ethers.MaxUint256);
      const before = await balancesOf(w, [w.tier1.address, w.auditor.address]);
      await expect(fundRequest(w, w.auditor, w.requestId, PLEDGE_PRICE, PLEDGE_REPAY))
        .to.be.revertedWithCustomError(w.certificates, "CertificateRecipientMayNotHold")
        .withArgs(w.rootId, w.auditor.address);
      expect(await balancesOf(w, [w.tier1.address, w.auditor.address])).to.deep.equal(before);
      expect((await w.financing.requestOf(w.requestId)).status).to.equal(OPEN);
    });

    it("refuses a pledge for a holder suspended after it opened the request", async function () {
      const w = await networkHelpers.loadFixture(worldWithOpenPledge);
      await w.parties.connect(w.partyManager).setPartyActive(w.tier1.address, false);
      await expect(fundRequest(w, w.financier, w.requestId, PLEDGE_PRICE, PLEDGE_REPAY))
        .to.be.revertedWithCustomError(w.financing, "PartyNotActive")
        .withArgs(w.tier1.address);
    });
  });

  describe("when the request is not open", function () {
    it("refuses a cancelled request", async function () {
      const w = await networkHelpers.loadFixture(worldWithOpenDiscount);
      await w.financing.connect(w.tier1).cancelRequest(w.requestId);
      await expect(fundRequest(w, w.financier, w.requestId, DISCOUNT_PRICE, 0n))
        .to.be.revertedWithCustomError(w.financing, "FinancingWrongStatus")
        .withArgs(w.requestId, CANCELLED);
    });

    it("refuses to fund a discount twice", async function () {
      const w = await networkHelpers.loadFixture(worldWithOpenDiscount);
      await fundRequest(w, w.financier, w.requestId, DISCOUNT_PRICE, 0n);
      await expect(fundRequest(w, w.financier2, w.requestId, DISCOUNT_PRICE, 0n))
        .to.be.revertedWithCustomError(w.financing, "FinancingWrongStatus")
        .withArgs(w.requestId, SOLD);
    });

    it("refuses to fund a pledge twice", async function () {
      const w = await networkHelpers.loadFixture(worldWithPledge);
      await expect(fundRequest(w, w.financier2, w.requestId, PLEDGE_PRICE, PLEDGE_REPAY))
        .to.be.revertedWithCustomError(w.financing, "FinancingWrongStatus")
        .withArgs(w.requestId, PLEDGED);
      expect(await w.financing.pledgeOf(w.rootId)).to.deep.equal([w.requestId, w.financier.address, PLEDGE_REPAY]);
    });

    it("refuses a request that does not exist", async function () {
      const w = await networkHelpers.loadFixture(worldWithOpenDiscount);
      await expect(fundRequest(w, w.financier, 2n, DISCOUNT_PRICE, 0n))
        .to.be.revertedWithCustomError(w.financing, "FinancingRequestNotFound")
        .withArgs(2n);
    });
  });

  describe("when the receivable reached its due date before funding", function () {
    it("refuses to fund", async function () {
      const w = await networkHelpers.loadFixture(worldWithOpenDiscount);
      await networkHelpers.time.setNextBlockTimestamp(w.terms.dueDate);
      await expect(fundRequest(w, w.financier, w.requestId, DISCOUNT_PRICE, 0n))
        .to.be.revertedWithCustomError(w.financing, "FinancingReceivableClosed")
        .withArgs(w.receivableId);
    });
  });

  describe("when financing is paused", function () {
    it("refuses to fund", async function () {
      const w = await networkHelpers.loadFixture(worldWithOpenDiscount);
      await w.financing.connect(w.pauser).pause();
      await expect(fundRequest(w, w.financier, w.requestId, DISCOUNT_PRICE, 0n)).to.be.revertedWithCustomError(
        w.financing,
        "EnforcedPause",
      );
    });
  });

  describe("when the money leg fails (atomicity)", function () {
    it("moves nothing if the funder has not approved the market", async function () {
      const w = await networkHelpers.loadFixture(worldWithOpenDiscount);
      const market = await w.financing.getAddress();
      await w.token.connect(w.financier2).approve(market, DISCOUNT_PRICE - 1n);
      const accounts = [w.tier1.address, w.financier2.address, market];
      const before = await balancesOf(w, accounts);
      await expect(fundRequest(w, w.financier2, w.requestId, DISCOUNT_PRICE, 0n))
        .to.be.revertedWithCustomError(w.token, "ERC20InsufficientAllowance")
        .withArgs(market, DISCOUNT_PRICE - 1n, DISCOUNT_PRICE);
      expect(await balancesOf(w, accounts)).to.deep.equal(before);
      expect(await w.certificates.ownerOf(w.rootId)).to.equal(w.tier1.address);
      expect((await w.certificates.certificateOf(w.rootId)).state).to.equal(CERT_LOCKED);
      expect(await w.certificates.lockerOf(w.rootId)).to.equal(market);
      const request = await w.financing.requestOf(w.requestId);
      expect(request.status).to.equal(OPEN);
      expect(request.financier).to.equal(ethers.ZeroAddress);
    });

    it("moves nothing if the funder cannot pay", async function () {
      const w = await networkHelpers.loadFixture(worldWithOpenPledge);
      const poor = await w.token.balanceOf(w.financier2.address);
      await w.token.connect(w.financier2).transfer(w.operator.address, poor - (PLEDGE_PRICE - 1n));
      const accounts = [w.tier1.address, w.financier2.address];
      const before = await balancesOf(w, accounts);
      await expect(fundRequest(w, w.financier2, w.requestId, PLEDGE_PRICE, PLEDGE_REPAY))
        .to.be.revertedWithCustomError(w.token, "ERC20InsufficientBalance")
        .withArgs(w.financier2.address, PLEDGE_PRICE - 1n, PLEDGE_PRICE);
      expect(await balancesOf(w, accounts)).to.deep.equal(before);
      expect(await w.certificates.ownerOf(w.rootId)).to.equal(w.tier1.address);
      expect((await w.certificates.certificateOf(w.rootId)).state).to.equal(CERT_LOCKED);
      expect(await w.financing.pledgeOf(w.rootId)).to.deep.equal([0n, ethers.ZeroAddress, 0n]);
      expect((await w.financing.requestOf(w.requestId)).status).to.equal(OPEN);
    });
  });
});

describe("repaying a pledge", function () {
  describe("when the holder repays what is outstanding", function () {
    it("pays the pledgee, releases the pledge and unlocks the certificate", async function () {
      const w = await networkHelpers.loadFixture(worldWithPledge);
      const accounts = [w.tier1.address, w.financier.address];
      const before = await balancesOf(w, accounts);
      const tx = w.financing.connect(w.tier1).repayPledge(w.requestId);
      await expect(tx).to.emit(w.financing, "PledgeRepaid").withArgs(w.requestId, PLEDGE_REPAY, 0n);
      await expect(tx).to.emit(w.financing, "PledgeReleased").withArgs(w.requestId, w.rootId, 0n);
      await expect(tx).to.emit(w.certificates, "CertificateLockLifted").withArgs(w.rootId);
      const after = await balancesOf(w, accounts);
      expect(before[0]! - after[0]!).to.equal(PLEDGE_REPAY);
      expect(after[1]! - before[1]!).to.equal(PLEDGE_REPAY);
      const request = await w.financing.requestOf(w.requestId);
      expect(request.status).to.equal(RELEASED);
      expect(request.outstanding).to.equal(0n);
      expect(await w.financing.pledgeOf(w.rootId)).to.deep.equal([0n, ethers.ZeroAddress, 0n]);
      expect(await w.financing.activeRequestOf(w.rootId)).to.equal(0n);
      expect((await w.certificates.certificateOf(w.rootId)).state).to.equal(CERT_LIVE);
      expect(await w.certificates.lockerOf(w.rootId)).to.equal(ethers.ZeroAddress);
      // Free again: it can move.
      await w.certificates.connect(w.tier1).transferFrom(w.tier1.address, w.tier2.address, w.rootId);
      expect(await w.certificates.ownerOf(w.rootId)).to.equal(w.tier2.address);
    });

    it("pays only what a partial settlement left outstanding", async function () {
      const w = await networkHelpers.loadFixture(worldWithPledge);
      await w.escrow.connect(w.debtor).repay(w.receivableId, 500n * MILLION);
      await w.escrow.settle(w.receivableId, [w.rootId]);
      const left = PLEDGE_REPAY - 500n * MILLION;
      expect(await w.financing.pledgeOf(w.rootId)).to.deep.equal([w.requestId, w.financier.address, left]);
      const before = await balancesOf(w, [w.tier1.address, w.financier.address]);
      await expect(w.financing.connect(w.tier1).repayPledge(w.requestId))
        .to.emit(w.financing, "PledgeRepaid")
        .withArgs(w.requestId, left, 0n);
      const after = await balancesOf(w, [w.tier1.address, w.financier.address]);
      expect(before[0]! - after[0]!).to.equal(left);
      expect(after[1]! - before[1]!).to.equal(left);
    });
  });

  describe("when the caller may not repay it", function () {
    it("refuses anyone but the holder", async function () {
      const w = await networkHelpers.loadFixture(worldWithPledge);
      await expect(w.financing.connect(w.tier2).repayPledge(w.requestId))
        .to.be.revertedWithCustomError(w.financing, "FinancingNotHolder")
        .withArgs(w.rootId, w.tier2.address);
      await expect(w.financing.connect(w.financier).repayPledge(w.requestId))
        .to.be.revertedWithCustomError(w.financing, "FinancingNotHolder")
        .withArgs(w.rootId, w.financier.address);
    });

    it("refuses an unfunded request", async function () {
      const w = await networkHelpers.loadFixture(worldWithOpenPledge);
      await expect(w.financing.connect(w.tier1).repayPledge(w.requestId))
        .to.be.revertedWithCustomError(w.financing, "FinancingWrongStatus")
        .withArgs(w.requestId, OPEN);
    });

    it("refuses to repay twice", async function () {
      const w = await networkHelpers.loadFixture(worldWithPledge);
      await w.financing.connect(w.tier1).repayPledge(w.requestId);
      await expect(w.financing.connect(w.tier1).repayPledge(w.requestId))
        .to.be.revertedWithCustomError(w.financing, "FinancingWrongStatus")
        .withArgs(w.requestId, RELEASED);
    });
  });
});

describe("foreclosing a pledge", function () {
  describe("when the receivable defaulted and the pledgee forecloses", function () {
    it("delivers the certificate to the pledgee and marks the request foreclosed", async function () {
      const w = await networkHelpers.loadFixture(worldWithPledge);
      await defaultReceivable(w);
      const tx = w.financing.connect(w.financier).foreclose(w.requestId);
      await expect(tx).to.emit(w.financing, "PledgeForeclosed").withArgs(w.requestId, w.rootId, w.financier.address);
      await expect(tx).to.emit(w.certificates, "Transfer").withArgs(w.tier1.address, w.financier.address, w.rootId);
      expect(await w.certificates.ownerOf(w.rootId)).to.equal(w.financier.address);
      expect((await w.financing.requestOf(w.requestId)).status).to.equal(FORECLOSED);
      expect((await w.certificates.certificateOf(w.rootId)).state).to.equal(CERT_LIVE);
      expect(await w.certificates.lockerOf(w.rootId)).to.equal(ethers.ZeroAddress);
      expect(await w.financing.activeRequestOf(w.rootId)).to.equal(0n);
      expect(await w.financing.pledgeOf(w.rootId)).to.deep.equal([0n, ethers.ZeroAddress, 0n]);
    });

    it("still delivers it when the holder has been suspended meanwhile", async function () {
      const w = await networkHelpers.loadFixture(worldWithPledge);
      await defaultReceivable(w);
      await w.parties.connect(w.partyManager).setPartyActive(w.tier1.address, false);
      await w.financing.connect(w.financier).foreclose(w.requestId);
      expect(await w.certificates.ownerOf(w.rootId)).to.equal(w.financier.address);
    });
  });

  describe("when the pledgee lost the capability to hold after it funded", function () {
    it("refuses the delivery in the token's hook, and delivers once the capability is back", async function () {
      const w = await networkHelpers.loadFixture(worldWithPledge);
      await defaultReceivable(w);
      await w.parties.connect(w.partyManager).setPartyMayHold(w.financier.address, false);
      await expect(w.financing.connect(w.financier).foreclose(w.requestId))
        .to.be.revertedWithCustomError(w.certificates, "CertificateRecipientMayNotHold")
        .withArgs(w.rootId, w.financier.address);
      expect(await w.certificates.ownerOf(w.rootId)).to.equal(w.tier1.address);
      expect((await w.financing.requestOf(w.requestId)).status).to.equal(PLEDGED);
      await w.parties.connect(w.partyManager).setPartyMayHold(w.financier.address, true);
      await w.financing.connect(w.financier).foreclose(w.requestId);
      expect(await w.certificates.ownerOf(w.rootId)).to.equal(w.financier.address);
    });
  });

  describe("when the caller is not the pledgee", function () {
    it("refuses the holder and another financier", async function () {
      const w = await networkHelpers.loadFixture(worldWithPledge);
      await defaultReceivable(w);
      await expect(w.financing.connect(w.tier1).foreclose(w.requestId))
        .to.be.revertedWithCustomError(w.financing, "FinancingNotPledgee")
        .withArgs(w.requestId, w.tier1.address);
      await expect(w.financing.connect(w.financier2).foreclose(w.requestId))
        .to.be.revertedWithCustomError(w.financing, "FinancingNotPledgee")
        .withArgs(w.requestId, w.financier2.address);
    });
  });

  describe("when the receivable has not defaulted", function () {
    it("refuses while it is active", async function () {
      const w = await networkHelpers.loadFixture(worldWithPledge);
      await expect(w.financing.connect(w.financier).foreclose(w.requestId))
        .to.be.revertedWithCustomError(w.financing, "ReceivableWrongStatus")
        .withArgs(w.receivableId, RECEIVABLE_ACTIVE);
    });

    it("refuses while it is only overdue", async function () {
      const w = await networkHelpers.loadFixture(worldWithPledge);
      await networkHelpers.time.increaseTo(w.terms.dueDate + 1n);
      await w.registry.markOverdue(w.receivableId);
      await expect(w.financing.connect(w.financier).foreclose(w.requestId))
        .to.be.revertedWithCustomError(w.financing, "ReceivableWrongStatus")
        .withArgs(w.receivableId, RECEIVABLE_OVERDUE);
      expect(await w.certificates.ownerOf(w.rootId)).to.equal(w.tier1.address);
    });
  });

  describe("when the request is not a live pledge", function () {
    it("refuses an unfunded request", async function () {
      const w = await networkHelpers.loadFixture(worldWithOpenPledge);
      await defaultReceivable(w);
      await expect(w.financing.connect(w.financier).foreclose(w.requestId))
        .to.be.revertedWithCustomError(w.financing, "FinancingWrongStatus")
        .withArgs(w.requestId, OPEN);
    });

    it("refuses a pledge already repaid", async function () {
      const w = await networkHelpers.loadFixture(worldWithPledge);
      await w.financing.connect(w.tier1).repayPledge(w.requestId);
      await defaultReceivable(w);
      await expect(w.financing.connect(w.financier).foreclose(w.requestId))
        .to.be.revertedWithCustomError(w.financing, "FinancingWrongStatus")
        .withArgs(w.requestId, RELEASED);
    });
  });
});

describe("settling certificates in financing", function () {
  describe("when a pledged certificate is settled after full repayment", function () {
    it("pays the pledgee first up to what it is owed, the rest to the holder, and closes both", async function () {
      const w = await networkHelpers.loadFixture(worldWithPledge);
      await w.escrow.connect(w.debtor).repay(w.receivableId, FACE);
      const accounts = [w.tier1.address, w.financier.address];
      const before = await balancesOf(w, accounts);
      const tx = w.escrow.settle(w.receivableId, [w.rootId]);
      await expect(tx).to.emit(w.financing, "PledgeRepaid").withArgs(w.requestId, PLEDGE_REPAY, 0n);
      await expect(tx).to.emit(w.financing, "PledgeReleased").withArgs(w.requestId, w.rootId, 0n);
      await expect(tx).to.emit(w.certificates, "CertificateSettled").withArgs(w.rootId);
      const after = await balancesOf(w, accounts);
      expect(after[1]! - before[1]!).to.equal(PLEDGE_REPAY);
      expect(after[0]! - before[0]!).to.equal(FACE - PLEDGE_REPAY);
      expect((await w.financing.requestOf(w.requestId)).status).to.equal(RELEASED);
      expect(await w.financing.pledgeOf(w.rootId)).to.deep.equal([0n, ethers.ZeroAddress, 0n]);
      expect(await w.financing.activeRequestOf(w.rootId)).to.equal(0n);
      expect((await w.certificates.certificateOf(w.rootId)).state).to.equal(CERT_SETTLED);
      expect(await w.certificates.lockerOf(w.rootId)).to.equal(ethers.ZeroAddress);
      expect(await w.token.balanceOf(await w.escrow.getAddress())).to.equal(0n);
    });
  });

  describe("when a certificate with an unfunded request is repaid in full and settled", function () {
    it("cancels the request and pays the holder everything", async function () {
      const w = await networkHelpers.loadFixture(worldWithOpenDiscount);
      await w.escrow.connect(w.debtor).repay(w.receivableId, FACE);
      const before = await w.token.balanceOf(w.tier1.address);
      const tx = w.escrow.settle(w.receivableId, [w.rootId]);
      await expect(tx).to.emit(w.financing, "FinancingCancelled").withArgs(w.requestId, w.rootId);
      await expect(tx).to.emit(w.certificates, "CertificateSettled").withArgs(w.rootId);
      expect((await w.token.balanceOf(w.tier1.address)) - before).to.equal(FACE);
      expect((await w.financing.requestOf(w.requestId)).status).to.equal(CANCELLED);
      expect(await w.financing.activeRequestOf(w.rootId)).to.equal(0n);
      expect((await w.certificates.certificateOf(w.rootId)).state).to.equal(CERT_SETTLED);
      expect(await w.certificates.lockerOf(w.rootId)).to.equal(ethers.ZeroAddress);
      // Nothing left to fund.
      await expect(fundRequest(w, w.financier, w.requestId, DISCOUNT_PRICE, 0n))
        .to.be.revertedWithCustomError(w.financing, "FinancingWrongStatus")
        .withArgs(w.requestId, CANCELLED);
    });
  });
});
