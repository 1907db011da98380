// Disputes and credit notes (issue 16): who may open and end them, what a dispute stops, how a
// credit note flows down the tree (retained pieces first, then pro rata by cumulative rounding),
// the operator's timelocked path, and settlement and financing of diluted claims.
import { expect } from "chai";
import { network } from "hardhat";
import { id } from "ethers";
import { asAdmin, deployWorld, DAY, MILLION, type TierlineWorld } from "../helpers/fixture.js";
import { fundRequest, registerReceivable, splitCertificate } from "../helpers/lifecycle.js";
import { leavesOf, signCreditNoteConsent } from "../helpers/dilution.js";
import {
  CertificateState,
  CreditNoteStatus,
  FinancingKind,
  ReceivableStatus,
} from "../../server/model/contract-enums.js";

const { ethers, networkHelpers } = await network.create();

const FACE = 1_000n * MILLION;
const RETURN = id("RETURN");
const DOCS = id("credit note CN-1");
const SELLER_APPROVED = 0n;
const ARBITER_APPROVED = 1n;

/**
 * A receivable of 1,000 tUSD that tier1 (its seller) split into 300 kept, 500 to tier2 and 200
 * to tier3: the leaves are [retained, toTier2, toTier3] in ascending id order.
 */
async function worldWithTree() {
  const w = await deployWorld(ethers);
  const registered = await registerReceivable(w, FACE);
  const [retained, toTier2, toTier3] = await splitCertificate(w, w.tier1, registered.rootId, [
    { to: w.tier1, amount: 300n * MILLION },
    { to: w.tier2, amount: 500n * MILLION },
    { to: w.tier3, amount: 200n * MILLION },
  ]);
  return { ...w, ...registered, retained: retained!, toTier2: toTier2!, toTier3: toTier3! };
}
type Tree = Awaited<ReturnType<typeof worldWithTree>>;

async function now(): Promise<bigint> {
  return BigInt(await networkHelpers.time.latest());
}

/** The debtor proposes a credit note of `amount`; returns its id. */
async function propose(w: TierlineWorld & { receivableId: string }, amount: bigint): Promise<bigint> {
  await w.dilution.connect(w.debtor).proposeCreditNote(w.receivableId, amount, RETURN, DOCS);
  return w.dilution.creditNoteCount();
}

/** The seller's signature on `creditNoteId` (valid an hour), submitted by an outsider. */
async function applyWithConsent(w: Tree, creditNoteId: bigint) {
  const consent = await signCreditNoteConsent(w, w.tier1, creditNoteId, (await now()) + 3_600n);
  return w.dilution
    .connect(w.outsider)
    .applyWithSellerConsent(creditNoteId, consent, await leavesOf(w, w.receivableId));
}

async function claimsOf(w: Tree, leaves: bigint[]): Promise<bigint[]> {
  return Promise.all(leaves.map((leaf) => w.dilution.claimOf(leaf)));
}

const sum = (values: bigint[]) => values.reduce((a, b) => a + b, 0n);

describe("disputes", function () {
  describe("when the debtor disputes a receivable before maturity", function () {
    it("records the dispute and says so", async function () {
      const w = await networkHelpers.loadFixture(worldWithTree);
      await expect(w.dilution.connect(w.debtor).openDispute(w.receivableId, RETURN, DOCS))
        .to.emit(w.dilution, "DisputeOpened")
        .withArgs(w.receivableId, w.debtor.address, 1n, RETURN, DOCS);
      expect(await w.dilution.isDisputed(w.receivableId)).to.equal(true);
      expect(await w.dilution.disputeOf(w.receivableId)).to.deep.equal([1n, true]);
    });

    it("refuses to split any of its certificates", async function () {
      const w = await networkHelpers.loadFixture(worldWithTree);
      await w.dilution.connect(w.debtor).openDispute(w.receivableId, RETURN, DOCS);
      await expect(
        w.certificates.connect(w.tier2).split(w.toTier2, [
          { to: w.tier3.address, amount: 100n * MILLION },
          { to: w.tier2.address, amount: 400n * MILLION },
        ]),
      )
        .to.be.revertedWithCustomError(w.certificates, "CertificateReceivableDisputed")
        .withArgs(w.receivableId);
    });

    it("refuses new financing requests and funding of requests opened before it", async function () {
      const w = await networkHelpers.loadFixture(worldWithTree);
      await w.financing.connect(w.tier3).openRequest(w.toTier3, FinancingKind.discount, 190n * MILLION, 0n);
      const requestId = await w.financing.requestCount();
      await w.dilution.connect(w.debtor).openDispute(w.receivableId, RETURN, DOCS);
      await expect(w.financing.connect(w.tier2).openRequest(w.toTier2, FinancingKind.discount, 450n * MILLION, 0n))
        .to.be.revertedWithCustomError(w.financing, "FinancingReceivableDisputed")
        .withArgs(w.receivableId);
      await expect(fundRequest(w, w.financier, requestId, 190n * MILLION, 0n))
        .to.be.revertedWithCustomError(w.financing, "FinancingReceivableDisputed")
        .withArgs(w.receivableId);
    });

    it("lets existing holders keep and transfer their claims", async function () {
      const w = await networkHelpers.loadFixture(worldWithTree);
      await w.dilution.connect(w.debtor).openDispute(w.receivableId, RETURN, DOCS);
      await w.certificates.connect(w.tier2).transferFrom(w.tier2.address, w.financier.address, w.toTier2);
      expect(await w.certificates.ownerOf(w.toTier2)).to.equal(w.financier.address);
      expect(await w.dilution.claimOf(w.toTier2)).to.equal(500n * MILLION);
    });

    it("ends when the debtor withdraws it, and splitting works again", async function () {
      const w = await networkHelpers.loadFixture(worldWithTree);
      await w.dilution.connect(w.debtor).openDispute(w.receivableId, RETURN, DOCS);
      await expect(w.dilution.connect(w.debtor).withdrawDispute(w.receivableId))
        .to.emit(w.dilution, "DisputeWithdrawn")
        .withArgs(w.receivableId);
      expect(await w.dilution.isDisputed(w.receivableId)).to.equal(false);
      await splitCertificate(w, w.tier2, w.toTier2, [
        { to: w.tier3, amount: 100n * MILLION },
        { to: w.tier2, amount: 400n * MILLION },
      ]);
    });

    it("can be dismissed by the arbiter only through the timelock", async function () {
      const w = await networkHelpers.loadFixture(worldWithTree);
      await w.dilution.connect(w.debtor).openDispute(w.receivableId, RETURN, DOCS);
      await expect(w.dilution.connect(w.governor).dismissDispute(w.receivableId, 1n))
        .to.be.revertedWithCustomError(w.dilution, "AccessControlUnauthorizedAccount")
        .withArgs(w.governor.address, await w.dilution.ARBITER_ROLE());
      await expect(asAdmin(w, w.dilution, "dismissDispute", [w.receivableId, 1n]))
        .to.emit(w.dilution, "DisputeDismissed")
        .withArgs(w.receivableId, await w.timelock.getAddress(), 1n);
      expect(await w.dilution.isDisputed(w.receivableId)).to.equal(false);
      expect(await w.dilution.disputeOf(w.receivableId)).to.deep.equal([1n, false]);
    });
  });

  describe("when a dismissal was scheduled for a dispute the debtor then withdrew and opened again", function () {
    const ZERO = "0x" + "00".repeat(32);
    const SALT = id("dismiss dispute 1");

    /** Dispute 1 open and its dismissal scheduled on the timelock (delay 0: ready at once), then replaced by dispute 2. */
    async function staleDismissal() {
      const w = await networkHelpers.loadFixture(worldWithTree);
      await w.dilution.connect(w.debtor).openDispute(w.receivableId, RETURN, DOCS);
      const data = w.dilution.interface.encodeFunctionData("dismissDispute", [w.receivableId, 1n]);
      const target = await w.dilution.getAddress();
      const timelock = w.timelock.connect(w.governor);
      await timelock.schedule(target, 0n, data, ZERO, SALT, await timelock.getMinDelay());
      await w.dilution.connect(w.debtor).withdrawDispute(w.receivableId);
      await expect(w.dilution.connect(w.debtor).openDispute(w.receivableId, id("SHORT"), DOCS))
        .to.emit(w.dilution, "DisputeOpened")
        .withArgs(w.receivableId, w.debtor.address, 2n, id("SHORT"), DOCS);
      return { ...w, execute: () => timelock.execute(target, 0n, data, ZERO, SALT) };
    }

    it("refuses the old dismissal: it names dispute 1 and dispute 2 stays open", async function () {
      const w = await staleDismissal();
      await expect(w.execute())
        .to.be.revertedWithCustomError(w.dilution, "DisputeNotTheOneNamed")
        .withArgs(w.receivableId, 1n, 2n);
      expect(await w.dilution.isDisputed(w.receivableId)).to.equal(true);
      expect(await w.dilution.disputeOf(w.receivableId)).to.deep.equal([2n, true]);
    });

    it("dismisses dispute 2 when a dismissal names it", async function () {
      const w = await staleDismissal();
      await expect(asAdmin(w, w.dilution, "dismissDispute", [w.receivableId, 2n]))
        .to.emit(w.dilution, "DisputeDismissed")
        .withArgs(w.receivableId, await w.timelock.getAddress(), 2n);
      expect(await w.dilution.disputeOf(w.receivableId)).to.deep.equal([2n, false]);
    });

    it("still refuses a dismissal from anyone but the arbiter, naming the right number or not", async function () {
      const w = await staleDismissal();
      for (const number of [1n, 2n])
        await expect(w.dilution.connect(w.governor).dismissDispute(w.receivableId, number))
          .to.be.revertedWithCustomError(w.dilution, "AccessControlUnauthorizedAccount")
          .withArgs(w.governor.address, await w.dilution.ARBITER_ROLE());
      expect(await w.dilution.disputeOf(w.receivableId)).to.deep.equal([2n, true]);
    });

    it("refuses a dismissal naming a dispute not opened yet, and one when none is open", async function () {
      const w = await staleDismissal();
      await expect(asAdmin(w, w.dilution, "dismissDispute", [w.receivableId, 3n]))
        .to.be.revertedWithCustomError(w.dilution, "DisputeNotTheOneNamed")
        .withArgs(w.receivableId, 3n, 2n);
      await w.dilution.connect(w.debtor).withdrawDispute(w.receivableId);
      await expect(asAdmin(w, w.dilution, "dismissDispute", [w.receivableId, 2n]))
        .to.be.revertedWithCustomError(w.dilution, "DisputeNotOpen")
        .withArgs(w.receivableId);
    });

    it("numbers a dispute a credit note opens in the same sequence", async function () {
      const w = await staleDismissal();
      await w.dilution.connect(w.debtor).withdrawDispute(w.receivableId);
      await expect(w.dilution.connect(w.debtor).proposeCreditNote(w.receivableId, 10n * MILLION, RETURN, DOCS))
        .to.emit(w.dilution, "DisputeOpened")
        .withArgs(w.receivableId, w.debtor.address, 3n, RETURN, DOCS);
      expect(await w.dilution.disputeOf(w.receivableId)).to.deep.equal([3n, true]);
    });
  });

  describe("refusals", function () {
    it("refuses anyone but the debtor", async function () {
      const w = await networkHelpers.loadFixture(worldWithTree);
      await expect(w.dilution.connect(w.tier1).openDispute(w.receivableId, RETURN, DOCS))
        .to.be.revertedWithCustomError(w.dilution, "DilutionNotDebtor")
        .withArgs(w.receivableId, w.tier1.address);
    });

    it("refuses a dispute at or after the due date", async function () {
      const w = await networkHelpers.loadFixture(worldWithTree);
      await networkHelpers.time.increaseTo(w.terms.dueDate);
      await expect(w.dilution.connect(w.debtor).openDispute(w.receivableId, RETURN, DOCS))
        .to.be.revertedWithCustomError(w.dilution, "DisputeAfterMaturity")
        .withArgs(w.receivableId, w.terms.dueDate);
    });

    it("refuses a second dispute while one is open", async function () {
      const w = await networkHelpers.loadFixture(worldWithTree);
      await w.dilution.connect(w.debtor).openDispute(w.receivableId, RETURN, DOCS);
      await expect(w.dilution.connect(w.debtor).openDispute(w.receivableId, RETURN, DOCS))
        .to.be.revertedWithCustomError(w.dilution, "DisputeAlreadyOpen")
        .withArgs(w.receivableId);
    });

    it("refuses to withdraw a dispute while a credit note is pending on it", async function () {
      const w = await networkHelpers.loadFixture(worldWithTree);
      const creditNoteId = await propose(w, 10n * MILLION);
      await expect(w.dilution.connect(w.debtor).withdrawDispute(w.receivableId))
        .to.be.revertedWithCustomError(w.dilution, "DisputeHasPendingCreditNote")
        .withArgs(w.receivableId, creditNoteId);
    });
  });
});

describe("credit notes", function () {
  describe("when the debtor proposes one", function () {
    it("records it, opens a dispute and freezes the tree", async function () {
      const w = await networkHelpers.loadFixture(worldWithTree);
      const tx = w.dilution.connect(w.debtor).proposeCreditNote(w.receivableId, 100n * MILLION, RETURN, DOCS);
      const respondBy = (await now()) + 1n + 7n * DAY;
      await expect(tx)
        .to.emit(w.dilution, "CreditNoteProposed")
        .withArgs(1n, w.receivableId, 100n * MILLION, RETURN, DOCS, respondBy);
      await expect(tx).to.emit(w.dilution, "DisputeOpened");
      const note = await w.dilution.creditNoteOf(1n);
      expect(note.status).to.equal(CreditNoteStatus.proposed);
      expect(note.sellerRespondBy).to.equal(respondBy);
      expect(await w.dilution.pendingCreditNoteOf(w.receivableId)).to.equal(1n);
      expect(await w.dilution.isDisputed(w.receivableId)).to.equal(true);
    });

    it("refuses anyone but the debtor", async function () {
      const w = await networkHelpers.loadFixture(worldWithTree);
      await expect(w.dilution.connect(w.tier1).proposeCreditNote(w.receivableId, MILLION, RETURN, DOCS))
        .to.be.revertedWithCustomError(w.dilution, "DilutionNotDebtor")
        .withArgs(w.receivableId, w.tier1.address);
    });

    it("refuses to credit more than the outstanding face value, or nothing", async function () {
      const w = await networkHelpers.loadFixture(worldWithTree);
      await expect(w.dilution.connect(w.debtor).proposeCreditNote(w.receivableId, FACE + 1n, RETURN, DOCS))
        .to.be.revertedWithCustomError(w.dilution, "CreditNoteExceedsOutstanding")
        .withArgs(w.receivableId, FACE + 1n, FACE);
      await expect(
        w.dilution.connect(w.debtor).proposeCreditNote(w.receivableId, 0n, RETURN, DOCS),
      ).to.be.revertedWithCustomError(w.dilution, "CreditNoteZeroAmount");
      // After a first credit of 600, at most 400 is left to credit.
      await applyWithConsent(w, await propose(w, 600n * MILLION));
      await expect(w.dilution.connect(w.debtor).proposeCreditNote(w.receivableId, 401n * MILLION, RETURN, DOCS))
        .to.be.revertedWithCustomError(w.dilution, "CreditNoteExceedsOutstanding")
        .withArgs(w.receivableId, 401n * MILLION, 400n * MILLION);
    });

    it("refuses a credit note once repayment has begun", async function () {
      const w = await networkHelpers.loadFixture(worldWithTree);
      await w.escrow.connect(w.debtor).repay(w.receivableId, MILLION);
      await expect(w.dilution.connect(w.debtor).proposeCreditNote(w.receivableId, MILLION, RETURN, DOCS))
        .to.be.revertedWithCustomError(w.dilution, "CreditNoteClosed")
        .withArgs(w.receivableId, ReceivableStatus.active, MILLION);
    });

    it("lets the debtor withdraw it, then the dispute", async function () {
      const w = await networkHelpers.loadFixture(worldWithTree);
      const creditNoteId = await propose(w, MILLION);
      await expect(w.dilution.connect(w.debtor).withdrawCreditNote(creditNoteId))
        .to.emit(w.dilution, "CreditNoteWithdrawn")
        .withArgs(creditNoteId, w.receivableId);
      await w.dilution.connect(w.debtor).withdrawDispute(w.receivableId);
      expect((await w.dilution.creditNoteOf(creditNoteId)).status).to.equal(CreditNoteStatus.withdrawn);
      expect(await w.dilution.isDisputed(w.receivableId)).to.equal(false);
    });
  });

  describe("when the seller co-signs a credit note within the retained pieces", function () {
    it("takes it off the seller's retained piece only and resolves the dispute", async function () {
      const w = await networkHelpers.loadFixture(worldWithTree);
      const creditNoteId = await propose(w, 100n * MILLION);
      const tx = applyWithConsent(w, creditNoteId);
      await expect(tx)
        .to.emit(w.dilution, "LeafDiluted")
        .withArgs(w.retained, w.receivableId, w.tier1.address, creditNoteId, 100n * MILLION, 200n * MILLION, true);
      await expect(tx)
        .to.emit(w.dilution, "CreditNoteApplied")
        .withArgs(creditNoteId, w.receivableId, SELLER_APPROVED, 100n * MILLION, 100n * MILLION, 0n, 100n * MILLION);
      await expect(tx).to.emit(w.dilution, "DisputeResolved").withArgs(w.receivableId, creditNoteId);
      await expect(tx)
        .to.emit(w.registry, "CreditRecorded")
        .withArgs(w.receivableId, 100n * MILLION, 100n * MILLION);
      expect(await claimsOf(w, [w.retained, w.toTier2, w.toTier3])).to.deep.equal([
        200n * MILLION,
        500n * MILLION,
        200n * MILLION,
      ]);
      expect(await w.registry.creditedOf(w.receivableId)).to.equal(100n * MILLION);
      expect(await w.dilution.isDisputed(w.receivableId)).to.equal(false);
      expect((await w.dilution.creditNoteOf(creditNoteId)).status).to.equal(CreditNoteStatus.applied);
    });

    it("accepts the seller submitting it itself, with no signature", async function () {
      const w = await networkHelpers.loadFixture(worldWithTree);
      const creditNoteId = await propose(w, 100n * MILLION);
      await w.dilution
        .connect(w.tier1)
        .applyWithSellerConsent(creditNoteId, { deadline: 0n, signature: "0x" }, await leavesOf(w, w.receivableId));
      expect(await w.dilution.claimOf(w.retained)).to.equal(200n * MILLION);
    });
  });

  describe("when a credit note goes beyond the retained pieces", function () {
    it("uses the retained pieces up, then shares the rest pro rata by cumulative rounding in id order", async function () {
      const w = await networkHelpers.loadFixture(worldWithTree);
      await applyWithConsent(w, await propose(w, 400n * MILLION));
      // 100 tUSD over 500 and 200 (pool 700): tier2's cut floor(100 x 500/700) = 71.428571, tier3's
      // floor(100 x 700/700) - 71.428571 = 28.571429 (cumulative rounding: the last leaf takes the unit).
      const claims = await claimsOf(w, [w.retained, w.toTier2, w.toTier3]);
      expect(claims).to.deep.equal([0n, 500n * MILLION - 71_428_571n, 200n * MILLION - 28_571_429n]);
      expect(sum(claims)).to.equal(FACE - 400n * MILLION);
      expect(await w.dilution.lossOf(w.toTier2, w.tier2.address)).to.equal(71_428_571n);
      expect(await w.dilution.lossOf(w.toTier3, w.tier3.address)).to.equal(28_571_429n);
      expect(await w.financing.remainingClaimOf(w.toTier2)).to.equal(claims[1]);
    });

    it("refuses to split a reduced piece, and still splits an untouched one, keeping conservation", async function () {
      const w = await networkHelpers.loadFixture(worldWithTree);
      // 100 tUSD: off tier1's retained 300 only; tier2's piece is untouched.
      await applyWithConsent(w, await propose(w, 100n * MILLION));
      await expect(
        w.certificates.connect(w.tier1).split(w.retained, [
          { to: w.tier2.address, amount: 100n * MILLION },
          { to: w.tier1.address, amount: 200n * MILLION },
        ]),
      )
        .to.be.revertedWithCustomError(w.certificates, "CertificateDiluted")
        .withArgs(w.retained, 100n * MILLION);
      await splitCertificate(w, w.tier2, w.toTier2, [
        { to: w.tier3, amount: 100n * MILLION },
        { to: w.tier2, amount: 400n * MILLION },
      ]);
      const leaves = await leavesOf(w, w.receivableId);
      expect(leaves.length).to.equal(4);
      expect(sum(await claimsOf(w, leaves))).to.equal(FACE - 100n * MILLION);
      // The next credit note is applied over the new leaf set.
      await applyWithConsent(w, await propose(w, 500n * MILLION));
      expect(sum(await claimsOf(w, leaves))).to.equal(FACE - 600n * MILLION);
    });

    it("keeps conservation over successive credit notes down to the whole face value, then closes it", async function () {
      const w = await networkHelpers.loadFixture(worldWithTree);
      for (const amount of [333_333_333n, 1n, 250n * MILLION]) {
        await applyWithConsent(w, await propose(w, amount));
        const credited = await w.registry.creditedOf(w.receivableId);
        expect(sum(await claimsOf(w, [w.retained, w.toTier2, w.toTier3]))).to.equal(FACE - credited);
      }
      const rest = FACE - (await w.registry.creditedOf(w.receivableId));
      const tx = applyWithConsent(w, await propose(w, rest));
      await expect(tx).to.emit(w.registry, "ReceivableStatusChanged").withArgs(w.receivableId, ReceivableStatus.repaid);
      expect(await claimsOf(w, [w.retained, w.toTier2, w.toTier3])).to.deep.equal([0n, 0n, 0n]);
      // Nothing owed: settlement closes every leaf with nothing to pay.
      await w.escrow.settle(w.receivableId, [w.retained, w.toTier2, w.toTier3]);
      expect((await w.certificates.certificateOf(w.toTier2)).state).to.equal(CertificateState.settled);
    });
  });

  describe("refusals when applying", function () {
    it("refuses a signature by anyone but the seller", async function () {
      const w = await networkHelpers.loadFixture(worldWithTree);
      const creditNoteId = await propose(w, 100n * MILLION);
      const consent = await signCreditNoteConsent(w, w.tier2, creditNoteId, (await now()) + 3_600n);
      await expect(
        w.dilution.connect(w.tier2).applyWithSellerConsent(creditNoteId, consent, await leavesOf(w, w.receivableId)),
      )
        .to.be.revertedWithCustomError(w.dilution, "CreditNoteInvalidSignature")
        .withArgs(w.tier1.address);
    });

    it("refuses the seller's signature for another amount than proposed", async function () {
      const w = await networkHelpers.loadFixture(worldWithTree);
      const first = await propose(w, 100n * MILLION);
      const consent = await signCreditNoteConsent(w, w.tier1, first, (await now()) + 3_600n);
      await w.dilution.connect(w.debtor).withdrawCreditNote(first);
      const second = await propose(w, 300n * MILLION);
      await expect(w.dilution.applyWithSellerConsent(second, consent, await leavesOf(w, w.receivableId)))
        .to.be.revertedWithCustomError(w.dilution, "CreditNoteInvalidSignature")
        .withArgs(w.tier1.address);
    });

    it("refuses an expired signature", async function () {
      const w = await networkHelpers.loadFixture(worldWithTree);
      const creditNoteId = await propose(w, 100n * MILLION);
      const deadline = (await now()) + 60n;
      const consent = await signCreditNoteConsent(w, w.tier1, creditNoteId, deadline);
      await networkHelpers.time.increaseTo(deadline + 1n);
      await expect(w.dilution.applyWithSellerConsent(creditNoteId, consent, await leavesOf(w, w.receivableId)))
        .to.be.revertedWithCustomError(w.dilution, "CreditNoteConsentExpired")
        .withArgs(deadline, deadline + 2n);
    });

    it("refuses an incomplete, unsorted or foreign leaf list", async function () {
      const w = await networkHelpers.loadFixture(worldWithTree);
      const other = await registerReceivable(w, FACE);
      const creditNoteId = await propose(w, 100n * MILLION);
      const consent = await signCreditNoteConsent(w, w.tier1, creditNoteId, (await now()) + 3_600n);
      await expect(w.dilution.applyWithSellerConsent(creditNoteId, consent, [w.retained, w.toTier2]))
        .to.be.revertedWithCustomError(w.dilution, "DilutionLeafCount")
        .withArgs(w.receivableId, 2n, 3n, 128n);
      await expect(w.dilution.applyWithSellerConsent(creditNoteId, consent, [w.retained, w.toTier3, w.toTier2]))
        .to.be.revertedWithCustomError(w.dilution, "DilutionLeavesNotSorted")
        .withArgs(w.toTier2);
      await expect(w.dilution.applyWithSellerConsent(creditNoteId, consent, [w.rootId, w.retained, w.toTier2]))
        .to.be.revertedWithCustomError(w.dilution, "DilutionNotALeaf")
        .withArgs(w.rootId, w.receivableId);
      await expect(w.dilution.applyWithSellerConsent(creditNoteId, consent, [w.retained, w.toTier2, other.rootId]))
        .to.be.revertedWithCustomError(w.dilution, "DilutionNotALeaf")
        .withArgs(other.rootId, w.receivableId);
    });

    it("refuses to apply a credit note twice", async function () {
      const w = await networkHelpers.loadFixture(worldWithTree);
      const creditNoteId = await propose(w, 100n * MILLION);
      const consent = await signCreditNoteConsent(w, w.tier1, creditNoteId, (await now()) + 3_600n);
      const leaves = await leavesOf(w, w.receivableId);
      await w.dilution.applyWithSellerConsent(creditNoteId, consent, leaves);
      await expect(w.dilution.applyWithSellerConsent(creditNoteId, consent, leaves))
        .to.be.revertedWithCustomError(w.dilution, "CreditNoteWrongStatus")
        .withArgs(creditNoteId, CreditNoteStatus.applied);
    });
  });

  describe("when the seller does not sign within its response period", function () {
    it("refuses the arbiter before the period ends", async function () {
      const w = await networkHelpers.loadFixture(worldWithTree);
      const creditNoteId = await propose(w, 100n * MILLION);
      const respondBy = (await w.dilution.creditNoteOf(creditNoteId)).sellerRespondBy;
      await expect(asAdmin(w, w.dilution, "decideCreditNote", [creditNoteId, true, await leavesOf(w, w.receivableId)]))
        .to.be.revertedWithCustomError(w.dilution, "CreditNoteSellerStillToRespond")
        .withArgs(creditNoteId, respondBy);
    });

    it("lets the arbiter (the timelock) apply exactly what the debtor proposed", async function () {
      const w = await networkHelpers.loadFixture(worldWithTree);
      const creditNoteId = await propose(w, 400n * MILLION);
      await networkHelpers.time.increase(7n * DAY + 1n);
      await expect(asAdmin(w, w.dilution, "decideCreditNote", [creditNoteId, true, await leavesOf(w, w.receivableId)]))
        .to.emit(w.dilution, "CreditNoteApplied")
        .withArgs(
          creditNoteId,
          w.receivableId,
          ARBITER_APPROVED,
          400n * MILLION,
          300n * MILLION,
          100n * MILLION,
          400n * MILLION,
        );
      expect(await w.registry.creditedOf(w.receivableId)).to.equal(400n * MILLION);
    });

    it("lets the arbiter reject it, leaving the dispute to the debtor", async function () {
      const w = await networkHelpers.loadFixture(worldWithTree);
      const creditNoteId = await propose(w, 400n * MILLION);
      await networkHelpers.time.increase(7n * DAY + 1n);
      await expect(asAdmin(w, w.dilution, "decideCreditNote", [creditNoteId, false, []]))
        .to.emit(w.dilution, "CreditNoteRejected")
        .withArgs(creditNoteId, w.receivableId, await w.timelock.getAddress());
      expect(await w.registry.creditedOf(w.receivableId)).to.equal(0n);
      expect(await w.dilution.isDisputed(w.receivableId)).to.equal(true);
      await w.dilution.connect(w.debtor).withdrawDispute(w.receivableId);
    });

    it("keeps a pending note's response period when the admin shortens it for later notes", async function () {
      const w = await networkHelpers.loadFixture(worldWithTree);
      const creditNoteId = await propose(w, 100n * MILLION);
      const respondBy = (await w.dilution.creditNoteOf(creditNoteId)).sellerRespondBy;
      await expect(asAdmin(w, w.dilution, "setSellerResponsePeriod", [0n]))
        .to.emit(w.dilution, "SellerResponsePeriodSet")
        .withArgs(0n);
      await expect(asAdmin(w, w.dilution, "decideCreditNote", [creditNoteId, true, await leavesOf(w, w.receivableId)]))
        .to.be.revertedWithCustomError(w.dilution, "CreditNoteSellerStillToRespond")
        .withArgs(creditNoteId, respondBy);
    });

    it("refuses every other key, the governor's and the operator's included", async function () {
      const w = await networkHelpers.loadFixture(worldWithTree);
      const creditNoteId = await propose(w, 100n * MILLION);
      await networkHelpers.time.increase(7n * DAY + 1n);
      const role = await w.dilution.ARBITER_ROLE();
      for (const key of [w.operator, w.governor, w.outsider]) {
        await expect(w.dilution.connect(key).decideCreditNote(creditNoteId, true, await leavesOf(w, w.receivableId)))
          .to.be.revertedWithCustomError(w.dilution, "AccessControlUnauthorizedAccount")
          .withArgs(key.address, role);
      }
    });
  });

  describe("settlement of a diluted receivable", function () {
    it("takes only face less credits from the debtor and pays each leaf exactly its diluted claim", async function () {
      const w = await networkHelpers.loadFixture(worldWithTree);
      await applyWithConsent(w, await propose(w, 400n * MILLION));
      await expect(w.escrow.connect(w.debtor).repay(w.receivableId, FACE))
        .to.be.revertedWithCustomError(w.registry, "RepaymentExceedsOutstanding")
        .withArgs(w.receivableId, FACE, 600n * MILLION);
      await w.escrow.connect(w.debtor).repay(w.receivableId, 600n * MILLION);
      expect(await w.registry.statusOf(w.receivableId)).to.equal(ReceivableStatus.repaid);

      const holders = [w.tier1, w.tier2, w.tier3];
      const before = await Promise.all(holders.map((h) => w.token.balanceOf(h.address)));
      const leaves = [w.retained, w.toTier2, w.toTier3];
      const claims = await claimsOf(w, leaves);
      await w.escrow.settle(w.receivableId, leaves);
      const after = await Promise.all(holders.map((h) => w.token.balanceOf(h.address)));
      expect(after.map((b, i) => b - before[i]!)).to.deep.equal(claims);
      expect(await w.token.balanceOf(await w.escrow.getAddress())).to.equal(0n);
      for (const leaf of leaves) {
        const [entitled, paidOut] = await w.escrow.entitlementOf(leaf);
        expect([entitled, paidOut]).to.deep.equal([await w.dilution.claimOf(leaf), await w.dilution.claimOf(leaf)]);
      }
    });

    it("quotes early repayment on what is owed after credits", async function () {
      const w = await deployWorld(ethers);
      await w.registry.connect(w.operator).setEarlyPaymentRate(w.debtor.address, 1_000);
      const registered = await registerReceivable(w, FACE);
      const tree = { ...w, ...registered, retained: registered.rootId, toTier2: 0n, toTier3: 0n };
      await applyWithConsent(tree, await propose(tree, 250n * MILLION));
      const [amount, discount] = await w.escrow.earlyRepaymentQuote(registered.receivableId);
      expect(amount + discount).to.equal(750n * MILLION);
    });
  });

  describe("when a credit note reaches a pledged retained piece", function () {
    it("keeps the lock, uses unpledged retained pieces first, and reports the pledgee's shortfall", async function () {
      const w = await networkHelpers.loadFixture(worldWithTree);
      // tier1 splits its retained 300 into 100 (to pledge) and 200 (kept free).
      const [pledged, free] = await splitCertificate(w, w.tier1, w.retained, [
        { to: w.tier1, amount: 100n * MILLION },
        { to: w.tier1, amount: 200n * MILLION },
      ]);
      await w.financing.connect(w.tier1).openRequest(pledged!, FinancingKind.pledge, 80n * MILLION, 90n * MILLION);
      const requestId = await w.financing.requestCount();
      await fundRequest(w, w.financier, requestId, 80n * MILLION, 90n * MILLION);

      const tx = applyWithConsent(w, await propose(w, 250n * MILLION));
      await expect(tx)
        .to.emit(w.dilution, "PledgeCollateralShortfall")
        .withArgs(pledged!, requestId, w.financier.address, 90n * MILLION, 50n * MILLION);
      expect(await w.dilution.claimOf(free!)).to.equal(0n);
      expect(await w.dilution.claimOf(pledged!)).to.equal(50n * MILLION);
      expect(await w.dilution.collateralShortfallOf(pledged!)).to.equal(40n * MILLION);
      expect(await w.certificates.lockerOf(pledged!)).to.equal(await w.financing.getAddress());
      const [, pledgee, outstanding] = await w.financing.pledgeOf(pledged!);
      expect([pledgee, outstanding]).to.deep.equal([w.financier.address, 90n * MILLION]);
    });
  });
});
