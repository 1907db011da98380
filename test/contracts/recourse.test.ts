// Recourse (issue 16): endorsements with recourse fixed before a piece is passed, claims for a
// dilution beyond the retained pieces and for a default, paid in the settlement token, and passed
// up the chain of endorsers to the original seller.
import { expect } from "chai";
import { network } from "hardhat";
import { id } from "ethers";
import { deployWorld, MILLION } from "../helpers/fixture.js";
import { registerReceivable, splitCertificate } from "../helpers/lifecycle.js";
import { leavesOf, signCreditNoteConsent } from "../helpers/dilution.js";
import { RecourseClaimStatus, RecourseKind } from "../../server/model/contract-enums.js";

const { ethers, networkHelpers } = await network.create();

const FACE = 1_000n * MILLION;

/**
 * tier1 (the seller) endorses the root with recourse, then splits it: 300 kept, 500 to tier2,
 * 200 to tier3. tier2 and tier3 are guaranteed by tier1; tier1 by nobody.
 */
async function worldWithEndorsedTree() {
  const w = await deployWorld(ethers);
  const registered = await registerReceivable(w, FACE);
  await w.recourse.connect(w.tier1).grantRecourse(registered.rootId);
  const [retained, toTier2, toTier3] = await splitCertificate(w, w.tier1, registered.rootId, [
    { to: w.tier1, amount: 300n * MILLION },
    { to: w.tier2, amount: 500n * MILLION },
    { to: w.tier3, amount: 200n * MILLION },
  ]);
  return { ...w, ...registered, retained: retained!, toTier2: toTier2!, toTier3: toTier3! };
}
type World = Awaited<ReturnType<typeof worldWithEndorsedTree>>;

/** The debtor credits `amount`, the seller co-signs, and it is applied. */
async function credit(w: World, amount: bigint) {
  await w.dilution.connect(w.debtor).proposeCreditNote(w.receivableId, amount, id("RETURN"), id("CN"));
  const creditNoteId = await w.dilution.creditNoteCount();
  const deadline = BigInt(await networkHelpers.time.latest()) + 3_600n;
  const consent = await signCreditNoteConsent(w, w.tier1, creditNoteId, deadline);
  await w.dilution.applyWithSellerConsent(creditNoteId, consent, await leavesOf(w, w.receivableId));
}

async function defaulted(w: World) {
  const receivable = await w.registry.receivableOf(w.receivableId);
  await networkHelpers.time.increaseTo(receivable.dueDate + receivable.gracePeriod + 1n);
  await w.registry.markDefaulted(w.receivableId);
}

describe("recourse", function () {
  describe("endorsing a piece with recourse", function () {
    it("is recorded on the certificate, visible before anyone buys it", async function () {
      const w = await networkHelpers.loadFixture(worldWithEndorsedTree);
      const endorsements = await w.recourse.endorsementsOf(w.rootId);
      expect(endorsements.map((e) => e.endorser)).to.deep.equal([w.tier1.address]);
      expect(await w.recourse.guarantees(w.toTier2, w.rootId, 0n, w.tier2.address)).to.equal(true);
      // Never to the endorser itself, and never off the leaf's lineage.
      expect(await w.recourse.guarantees(w.retained, w.rootId, 0n, w.tier1.address)).to.equal(false);
      expect(await w.recourse.guarantees(w.toTier2, w.toTier3, 0n, w.tier2.address)).to.equal(false);
    });

    it("can only be made by the certificate's holder, once, and not on a retired certificate", async function () {
      const w = await networkHelpers.loadFixture(worldWithEndorsedTree);
      await expect(w.recourse.connect(w.tier3).grantRecourse(w.toTier2))
        .to.be.revertedWithCustomError(w.recourse, "RecourseNotHolder")
        .withArgs(w.toTier2, w.tier3.address);
      await w.recourse.connect(w.tier2).grantRecourse(w.toTier2);
      await expect(w.recourse.connect(w.tier2).grantRecourse(w.toTier2))
        .to.be.revertedWithCustomError(w.recourse, "RecourseAlreadyGranted")
        .withArgs(w.toTier2, w.tier2.address);
      await expect(w.recourse.connect(w.tier1).grantRecourse(w.rootId))
        .to.be.revertedWithCustomError(w.recourse, "RecourseCertificateNotLive")
        .withArgs(w.rootId);
    });

    it("travels with the piece through a market sale", async function () {
      const w = await networkHelpers.loadFixture(worldWithEndorsedTree);
      await w.financing.connect(w.tier2).openRequest(w.toTier2, 0, 450n * MILLION, 0n);
      await w.recourse.connect(w.tier2).grantRecourse(w.toTier2); // while listed (locked)
      const requestId = await w.financing.requestCount();
      await w.financing.connect(w.financier).fund(requestId, 450n * MILLION, 0n, 500n * MILLION);
      expect(await w.recourse.guarantees(w.toTier2, w.toTier2, 0n, w.financier.address)).to.equal(true);
      expect(await w.recourse.guarantees(w.toTier2, w.rootId, 0n, w.financier.address)).to.equal(true);
    });
  });

  describe("after a credit note beyond the seller's retained pieces", function () {
    it("gives each cut holder a claim on the seller for exactly its cut, paid in the settlement token", async function () {
      const w = await networkHelpers.loadFixture(worldWithEndorsedTree);
      await credit(w, 400n * MILLION);
      const loss = await w.dilution.lossOf(w.toTier2, w.tier2.address);
      // floor(100 x 500/700) tUSD: cumulative rounding gives the rounding unit to the last leaf.
      expect(loss).to.equal(71_428_571n);

      await expect(w.recourse.connect(w.outsider).openDilutionClaim(w.toTier2, w.tier2.address, w.rootId, 0n))
        .to.be.revertedWithCustomError(w.recourse, "RecourseNotCreditor")
        .withArgs(w.outsider.address, w.tier2.address);
      await expect(w.recourse.connect(w.tier2).openDilutionClaim(w.toTier2, w.tier2.address, w.rootId, 0n))
        .to.emit(w.recourse, "RecourseClaimOpened")
        .withArgs(1n, w.toTier2, w.tier1.address, w.tier2.address, RecourseKind.dilution, loss, w.rootId, 0n, 0n);
      await w.recourse.connect(w.tier3).openDilutionClaim(w.toTier3, w.tier3.address, w.rootId, 0n);
      const claims = [await w.recourse.claimOf(1n), await w.recourse.claimOf(2n)];
      // The claims add up to the loss beyond the retained pieces: 400 - 300.
      expect(claims[0]!.amount + claims[1]!.amount).to.equal(100n * MILLION);

      const before = await w.token.balanceOf(w.tier2.address);
      await expect(w.recourse.connect(w.tier1).payClaim(1n))
        .to.emit(w.recourse, "RecourseClaimPaid")
        .withArgs(1n, w.tier1.address, w.tier2.address, loss);
      expect((await w.token.balanceOf(w.tier2.address)) - before).to.equal(loss);
      expect((await w.recourse.claimOf(1n)).status).to.equal(RecourseClaimStatus.paid);
    });

    it("refuses a second claim for the same cut, and a claim with no guarantor", async function () {
      const w = await networkHelpers.loadFixture(worldWithEndorsedTree);
      await credit(w, 400n * MILLION);
      await w.recourse.connect(w.tier2).openDilutionClaim(w.toTier2, w.tier2.address, w.rootId, 0n);
      await expect(w.recourse.connect(w.tier2).openDilutionClaim(w.toTier2, w.tier2.address, w.rootId, 0n))
        .to.be.revertedWithCustomError(w.recourse, "RecourseNothingToClaim")
        .withArgs(w.toTier2, w.tier2.address);
      // The seller's own retained cut: the only endorsement is its own.
      await expect(w.recourse.connect(w.tier1).openDilutionClaim(w.retained, w.tier1.address, w.rootId, 0n))
        .to.be.revertedWithCustomError(w.recourse, "RecourseNotAGuarantor")
        .withArgs(w.retained, w.rootId, 0n);
      await expect(w.recourse.connect(w.tier3).openDilutionClaim(w.toTier3, w.tier3.address, w.toTier3, 0n))
        .to.be.revertedWithCustomError(w.recourse, "RecourseNotAGuarantor")
        .withArgs(w.toTier3, w.toTier3, 0n);
    });

    it("gives nothing to a holder that passed without recourse", async function () {
      const w = await deployWorld(ethers);
      const registered = await registerReceivable(w, FACE);
      const [, toTier2] = await splitCertificate(w, w.tier1, registered.rootId, [
        { to: w.tier1, amount: 100n * MILLION },
        { to: w.tier2, amount: 900n * MILLION },
      ]);
      expect((await w.recourse.endorsementsOf(registered.rootId)).length).to.equal(0);
      await credit({ ...w, ...registered, retained: 0n, toTier2: toTier2!, toTier3: 0n }, 400n * MILLION);
      expect(await w.dilution.lossOf(toTier2!, w.tier2.address)).to.equal(300n * MILLION);
      await expect(w.recourse.connect(w.tier2).openDilutionClaim(toTier2!, w.tier2.address, registered.rootId, 0n))
        .to.be.revertedWithCustomError(w.recourse, "RecourseNotAGuarantor")
        .withArgs(toTier2!, registered.rootId, 0n);
    });
  });

  describe("on default, up the chain of endorsers", function () {
    /** tier2 endorses its 500 piece and passes all of it to tier3: tier3 <- tier2 <- tier1. */
    async function chain() {
      const w = await networkHelpers.loadFixture(worldWithEndorsedTree);
      await w.recourse.connect(w.tier2).grantRecourse(w.toTier2);
      const [leaf] = await splitCertificate(w, w.tier2, w.toTier2, [{ to: w.tier3, amount: 500n * MILLION }]);
      // The debtor paid 10% before defaulting: the leaf got its share.
      await w.escrow.connect(w.debtor).repay(w.receivableId, 100n * MILLION);
      await w.escrow.settle(w.receivableId, [leaf!]);
      await defaulted(w);
      return { ...w, leaf: leaf! };
    }

    it("lets the holder claim what its leaf is still owed from its endorser, and hands the leaf over on payment", async function () {
      const w = await chain();
      await w.certificates.connect(w.tier3).approve(await w.recourse.getAddress(), w.leaf);
      await expect(w.recourse.connect(w.tier3).openDefaultClaim(w.leaf, w.toTier2, 0n))
        .to.emit(w.recourse, "RecourseClaimOpened")
        .withArgs(
          1n,
          w.leaf,
          w.tier2.address,
          w.tier3.address,
          RecourseKind.default,
          450n * MILLION,
          w.toTier2,
          0n,
          0n,
        );
      const before = await w.token.balanceOf(w.tier3.address);
      await w.recourse.connect(w.tier2).payClaim(1n);
      expect((await w.token.balanceOf(w.tier3.address)) - before).to.equal(450n * MILLION);
      expect(await w.certificates.ownerOf(w.leaf)).to.equal(w.tier2.address);
    });

    it("passes the same amount up to the original seller, never more than the loss at once", async function () {
      const w = await chain();
      await w.certificates.connect(w.tier3).approve(await w.recourse.getAddress(), w.leaf);
      await w.recourse.connect(w.tier3).openDefaultClaim(w.leaf, w.toTier2, 0n);
      await w.recourse.connect(w.tier2).payClaim(1n);
      await w.certificates.connect(w.tier2).approve(await w.recourse.getAddress(), w.leaf);
      await expect(w.recourse.connect(w.tier3).escalate(1n, w.rootId, 0n))
        .to.be.revertedWithCustomError(w.recourse, "RecourseNotCreditor")
        .withArgs(w.tier3.address, w.tier2.address);
      await expect(w.recourse.connect(w.tier2).escalate(1n, w.rootId, 0n))
        .to.emit(w.recourse, "RecourseClaimOpened")
        .withArgs(2n, w.leaf, w.tier1.address, w.tier2.address, RecourseKind.default, 450n * MILLION, w.rootId, 0n, 1n);
      await expect(w.recourse.connect(w.tier2).escalate(1n, w.rootId, 0n))
        .to.be.revertedWithCustomError(w.recourse, "RecourseAlreadyEscalated")
        .withArgs(1n);
      const before = await w.token.balanceOf(w.tier2.address);
      await w.recourse.connect(w.tier1).payClaim(2n);
      expect((await w.token.balanceOf(w.tier2.address)) - before).to.equal(450n * MILLION);
      expect(await w.certificates.ownerOf(w.leaf)).to.equal(w.tier1.address);
      // A late payment now reaches the seller, who bore the loss.
      await w.escrow.connect(w.debtor).repay(w.receivableId, 900n * MILLION);
      const sellerBefore = await w.token.balanceOf(w.tier1.address);
      await w.escrow.settle(w.receivableId, [w.leaf]);
      expect((await w.token.balanceOf(w.tier1.address)) - sellerBefore).to.equal(450n * MILLION);
    });

    it("refuses a claim before default, without the leaf approved, twice, or down the chain", async function () {
      const w = await networkHelpers.loadFixture(worldWithEndorsedTree);
      await expect(w.recourse.connect(w.tier2).openDefaultClaim(w.toTier2, w.rootId, 0n))
        .to.be.revertedWithCustomError(w.recourse, "RecourseNotDefaulted")
        .withArgs(w.receivableId);
      const c = await chain();
      await expect(c.recourse.connect(c.tier3).openDefaultClaim(c.leaf, c.toTier2, 0n))
        .to.be.revertedWithCustomError(c.recourse, "RecourseLeafNotApproved")
        .withArgs(c.leaf);
      await c.certificates.connect(c.tier3).approve(await c.recourse.getAddress(), c.leaf);
      await c.recourse.connect(c.tier3).openDefaultClaim(c.leaf, c.rootId, 0n); // straight to the seller
      await expect(c.recourse.connect(c.tier3).openDefaultClaim(c.leaf, c.toTier2, 0n))
        .to.be.revertedWithCustomError(c.recourse, "RecourseDefaultAlreadyClaimed")
        .withArgs(c.leaf);
      await c.recourse.connect(c.tier1).payClaim(1n);
      // The seller paid: nobody above it, and tier2's endorsement is below its own.
      await expect(c.recourse.connect(c.tier1).escalate(1n, c.toTier2, 0n))
        .to.be.revertedWithCustomError(c.recourse, "RecourseNotAGuarantor")
        .withArgs(c.leaf, c.toTier2, 0n);
    });
  });
});
