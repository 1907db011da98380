// A default claim is opened for what the leaf is still owed, and paid later. A debtor may pay
// late in between, and settlement pays the leaf's holder (the claim's creditor) its share: the
// guarantor then pays only the loss still standing, at each step up the chain of endorsers.
import { expect } from "chai";
import { network } from "hardhat";
import { deployWorld, MILLION } from "../helpers/fixture.js";
import { registerReceivable, splitCertificate } from "../helpers/lifecycle.js";
import { RecourseKind } from "../../server/model/contract-enums.js";

const { ethers, networkHelpers } = await network.create();

const FACE = 1_000n * MILLION;

type World = Awaited<ReturnType<typeof deployWorld>>;

async function markDefaulted(w: World, receivableId: string) {
  const receivable = await w.registry.receivableOf(receivableId);
  await networkHelpers.time.increaseTo(receivable.dueDate + receivable.gracePeriod + 1n);
  await w.registry.markDefaulted(receivableId);
}

/** The debtor pays `amount` late and the leaf is settled to whoever holds it. */
async function latePayment(w: World, receivableId: string, leaf: bigint, amount: bigint) {
  await w.escrow.connect(w.debtor).repay(receivableId, amount);
  await w.escrow.settle(receivableId, [leaf]);
}

/** tier1 endorses the root and sells all of it to tier2; the debtor pays nothing and defaults. */
async function wholeReceivableInDefault() {
  const w = await deployWorld(ethers);
  const { receivableId, rootId } = await registerReceivable(w, FACE);
  await w.recourse.connect(w.tier1).grantRecourse(rootId);
  const [leaf] = await splitCertificate(w, w.tier1, rootId, [{ to: w.tier2, amount: FACE }]);
  await markDefaulted(w, receivableId);
  await w.certificates.connect(w.tier2).approve(await w.recourse.getAddress(), leaf!);
  await w.recourse.connect(w.tier2).openDefaultClaim(leaf!, rootId, 0n);
  return { ...w, receivableId, rootId, leaf: leaf! };
}

/**
 * tier3 <- tier2 <- tier1: tier1 endorses the root and passes 500 to tier2, which endorses it and
 * passes it on to tier3. The debtor paid 100 of 1,000 before defaulting (the leaf got 50), and
 * tier3 claims the 450 its leaf is still owed from tier2.
 */
async function chainInDefault() {
  const w = await deployWorld(ethers);
  const { receivableId, rootId } = await registerReceivable(w, FACE);
  await w.recourse.connect(w.tier1).grantRecourse(rootId);
  const [, toTier2] = await splitCertificate(w, w.tier1, rootId, [
    { to: w.tier1, amount: 500n * MILLION },
    { to: w.tier2, amount: 500n * MILLION },
  ]);
  await w.recourse.connect(w.tier2).grantRecourse(toTier2!);
  const [leaf] = await splitCertificate(w, w.tier2, toTier2!, [{ to: w.tier3, amount: 500n * MILLION }]);
  await latePayment(w, receivableId, leaf!, 100n * MILLION);
  await markDefaulted(w, receivableId);
  await w.certificates.connect(w.tier3).approve(await w.recourse.getAddress(), leaf!);
  await w.recourse.connect(w.tier3).openDefaultClaim(leaf!, toTier2!, 0n);
  return { ...w, receivableId, rootId, toTier2: toTier2!, leaf: leaf! };
}

/** tier2 pays claim 1 and takes the leaf; it approves the ledger for it, to pass it up. */
async function tier2PaysTier3(w: Awaited<ReturnType<typeof chainInDefault>>) {
  await w.recourse.connect(w.tier2).payClaim(1n);
  await w.certificates.connect(w.tier2).approve(await w.recourse.getAddress(), w.leaf);
}

describe("a default claim after the debtor pays late", function () {
  describe("when the late payment reached the creditor before the guarantor paid", function () {
    it("has the guarantor pay only what the leaf is still owed, and says so", async function () {
      const w = await networkHelpers.loadFixture(wholeReceivableInDefault);
      expect((await w.recourse.claimOf(1n)).amount).to.equal(FACE);
      const creditorBefore = await w.token.balanceOf(w.tier2.address);
      await latePayment(w, w.receivableId, w.leaf, 600n * MILLION);

      await expect(w.recourse.connect(w.tier1).payClaim(1n))
        .to.emit(w.recourse, "RecourseClaimPaid")
        .withArgs(1n, w.tier1.address, w.tier2.address, 400n * MILLION);

      // tier2 was owed 1,000: 600 from the debtor, 400 from its endorser, not 1,600.
      expect((await w.token.balanceOf(w.tier2.address)) - creditorBefore).to.equal(FACE);
      expect((await w.recourse.claimOf(1n)).amount).to.equal(400n * MILLION);
      expect(await w.certificates.ownerOf(w.leaf)).to.equal(w.tier1.address);
    });

    it("passes on only what the guarantor paid, less what the leaf paid it since", async function () {
      const w = await networkHelpers.loadFixture(chainInDefault);
      const tier3Before = await w.token.balanceOf(w.tier3.address);
      await latePayment(w, w.receivableId, w.leaf, 200n * MILLION); // the leaf's share: 100

      await expect(w.recourse.connect(w.tier2).payClaim(1n))
        .to.emit(w.recourse, "RecourseClaimPaid")
        .withArgs(1n, w.tier2.address, w.tier3.address, 350n * MILLION);
      expect((await w.token.balanceOf(w.tier3.address)) - tier3Before).to.equal(450n * MILLION);

      await w.certificates.connect(w.tier2).approve(await w.recourse.getAddress(), w.leaf);
      const tier2Before = await w.token.balanceOf(w.tier2.address);
      await latePayment(w, w.receivableId, w.leaf, 200n * MILLION); // another 100, now to tier2
      await expect(w.recourse.connect(w.tier2).escalate(1n, w.rootId, 0n))
        .to.emit(w.recourse, "RecourseClaimOpened")
        .withArgs(2n, w.leaf, w.tier1.address, w.tier2.address, RecourseKind.default, 250n * MILLION, w.rootId, 0n, 1n);
      await w.recourse.connect(w.tier1).payClaim(2n);

      // tier2 paid 350 and got back 100 from the debtor and 250 from the seller: whole, no more.
      expect((await w.token.balanceOf(w.tier2.address)) - tier2Before).to.equal(350n * MILLION);
      expect(await w.certificates.ownerOf(w.leaf)).to.equal(w.tier1.address);
    });
  });

  describe("when the late payment reached a guarantor after its claim was passed up", function () {
    it("has the next guarantor pay only what the leaf is still owed", async function () {
      const w = await networkHelpers.loadFixture(chainInDefault);
      await tier2PaysTier3(w);
      await w.recourse.connect(w.tier2).escalate(1n, w.rootId, 0n);
      expect((await w.recourse.claimOf(2n)).amount).to.equal(450n * MILLION);
      const tier2Before = await w.token.balanceOf(w.tier2.address);
      await latePayment(w, w.receivableId, w.leaf, 200n * MILLION); // the leaf's share: 100

      await expect(w.recourse.connect(w.tier1).payClaim(2n))
        .to.emit(w.recourse, "RecourseClaimPaid")
        .withArgs(2n, w.tier1.address, w.tier2.address, 350n * MILLION);

      expect((await w.token.balanceOf(w.tier2.address)) - tier2Before).to.equal(450n * MILLION);
      expect((await w.recourse.claimOf(2n)).amount).to.equal(350n * MILLION);
    });
  });

  describe("when the debtor paid in full after the guarantor paid", function () {
    it("leaves nothing to pass up the chain", async function () {
      const w = await networkHelpers.loadFixture(chainInDefault);
      await tier2PaysTier3(w);
      const tier2Before = await w.token.balanceOf(w.tier2.address);
      await latePayment(w, w.receivableId, w.leaf, 900n * MILLION); // the leaf's last 450, final

      expect((await w.token.balanceOf(w.tier2.address)) - tier2Before).to.equal(450n * MILLION);
      await expect(w.recourse.connect(w.tier2).escalate(1n, w.rootId, 0n))
        .to.be.revertedWithCustomError(w.recourse, "RecourseNothingToClaim")
        .withArgs(w.leaf, w.tier2.address);
    });
  });
});
