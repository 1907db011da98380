// A root certificate is issued without an ERC-721 owner slot (issue 12: registration writes the
// seller once, in the receivable's record, and one new slot fewer). Until the root first moves
// its seller holds it through that record; every ERC-721 answer and every path that moves,
// locks, splits or settles the root must see exactly what a written owner slot would show.
import { expect } from "chai";
import { network } from "hardhat";
import { DAY, deployWorld, MILLION } from "../helpers/fixture.js";
import { fundRequest, registerReceivable, splitCertificate } from "../helpers/lifecycle.js";

const { ethers, networkHelpers } = await network.create();

const FACE = 1_000n * MILLION;
const DISCOUNT = 0;
const PLEDGE = 1;

describe("a root its seller still holds (no ERC-721 owner slot until it moves)", function () {
  async function registered() {
    const w = await deployWorld(ethers);
    return { w, ...(await registerReceivable(w, FACE, { tenor: 100n * DAY })) };
  }

  it("is owned by its seller, counted in its balance, and announced by a mint Transfer", async function () {
    const { w, receivableId, rootId } = await networkHelpers.loadFixture(registered);
    expect(await w.certificates.ownerOf(rootId)).to.equal(w.tier1.address);
    expect(await w.certificates.balanceOf(w.tier1.address)).to.equal(1n);
    expect(await w.registry.liveRootSellerOf(receivableId)).to.equal(w.tier1.address);
    const [mint] = await w.certificates.queryFilter(
      w.certificates.filters.Transfer(ethers.ZeroAddress, undefined, rootId),
    );
    expect(mint!.args.to).to.equal(w.tier1.address);
    const claim = await w.certificates.claimOf(rootId);
    expect(claim.holder).to.equal(w.tier1.address);
  });

  it("moves on its seller's transfer, and its approved operator's, like any token", async function () {
    const { w, rootId } = await networkHelpers.loadFixture(registered);
    await w.certificates.connect(w.tier1).approve(w.tier2.address, rootId);
    expect(await w.certificates.getApproved(rootId)).to.equal(w.tier2.address);
    await w.certificates.connect(w.tier2).transferFrom(w.tier1.address, w.tier3.address, rootId);
    expect(await w.certificates.ownerOf(rootId)).to.equal(w.tier3.address);
    expect(await w.certificates.getApproved(rootId)).to.equal(ethers.ZeroAddress);
    expect(await w.certificates.balanceOf(w.tier1.address)).to.equal(0n);
    expect(await w.certificates.balanceOf(w.tier3.address)).to.equal(1n);
    // The approval went with the move: the old operator cannot take it back.
    await expect(
      w.certificates.connect(w.tier2).transferFrom(w.tier3.address, w.tier2.address, rootId),
    ).to.be.revertedWithCustomError(w.certificates, "ERC721InsufficientApproval");
    // Back to the seller: now from its written owner slot, still the seller's.
    await w.certificates.connect(w.tier3).transferFrom(w.tier3.address, w.tier1.address, rootId);
    expect(await w.certificates.ownerOf(rootId)).to.equal(w.tier1.address);
  });

  it("refuses anyone but its seller, and a transfer from a wrong sender", async function () {
    const { w, rootId } = await networkHelpers.loadFixture(registered);
    await expect(
      w.certificates.connect(w.tier2).transferFrom(w.tier1.address, w.tier2.address, rootId),
    ).to.be.revertedWithCustomError(w.certificates, "ERC721InsufficientApproval");
    await expect(
      w.certificates.connect(w.tier1).transferFrom(w.tier2.address, w.tier3.address, rootId),
    ).to.be.revertedWithCustomError(w.certificates, "ERC721IncorrectOwner");
    expect(await w.certificates.ownerOf(rootId)).to.equal(w.tier1.address);
  });

  it("is gone once split: no owner, the seller's balance passes to the children", async function () {
    const { w, receivableId, rootId } = await networkHelpers.loadFixture(registered);
    const [a, b] = await splitCertificate(w, w.tier1, rootId, [
      { to: w.tier1, amount: 600n * MILLION },
      { to: w.tier2, amount: 400n * MILLION },
    ]);
    await expect(w.certificates.ownerOf(rootId)).to.be.revertedWithCustomError(
      w.certificates,
      "ERC721NonexistentToken",
    );
    expect(await w.registry.liveRootSellerOf(receivableId)).to.equal(ethers.ZeroAddress);
    expect(await w.certificates.ownerOf(a!)).to.equal(w.tier1.address);
    expect(await w.certificates.ownerOf(b!)).to.equal(w.tier2.address);
    expect(await w.certificates.balanceOf(w.tier1.address)).to.equal(1n);
    const [burn] = await w.certificates.queryFilter(
      w.certificates.filters.Transfer(w.tier1.address, ethers.ZeroAddress, rootId),
    );
    expect(burn).to.not.equal(undefined);
    // The seller's retired root cannot be split or moved again.
    await expect(
      w.certificates.connect(w.tier1).transferFrom(w.tier1.address, w.tier2.address, rootId),
    ).to.be.revertedWithCustomError(w.certificates, "ERC721NonexistentToken");
  });

  it("stays its seller's while locked, and goes to the financier that funds it", async function () {
    const { w, rootId } = await networkHelpers.loadFixture(registered);
    await w.financing.connect(w.tier1).openRequest(rootId, DISCOUNT, 970n * MILLION, 0n);
    expect(await w.certificates.ownerOf(rootId)).to.equal(w.tier1.address);
    await expect(
      w.certificates.connect(w.tier1).transferFrom(w.tier1.address, w.tier2.address, rootId),
    ).to.be.revertedWithCustomError(w.certificates, "CertificateLocked");
    await fundRequest(w, w.financier, 1n, 970n * MILLION, 0n);
    expect(await w.certificates.ownerOf(rootId)).to.equal(w.financier.address);
    expect(await w.certificates.balanceOf(w.tier1.address)).to.equal(0n);
  });

  it("pays its seller at settlement and is burned, pledged or not", async function () {
    for (const pledged of [false, true]) {
      const { w, receivableId, rootId } = await networkHelpers.loadFixture(registered);
      if (pledged) {
        await w.financing.connect(w.tier1).openRequest(rootId, PLEDGE, 500n * MILLION, 510n * MILLION);
        await fundRequest(w, w.financier, 1n, 500n * MILLION, 510n * MILLION);
        expect(await w.certificates.ownerOf(rootId)).to.equal(w.tier1.address);
      }
      const sellerBefore = await w.token.balanceOf(w.tier1.address);
      await w.escrow.connect(w.debtor).repay(receivableId, FACE);
      await w.escrow.settle(receivableId, [rootId]);
      const paid = (await w.token.balanceOf(w.tier1.address)) - sellerBefore;
      expect(paid).to.equal(pledged ? FACE - 510n * MILLION : FACE);
      await expect(w.certificates.ownerOf(rootId)).to.be.revertedWithCustomError(
        w.certificates,
        "ERC721NonexistentToken",
      );
      expect(await w.certificates.balanceOf(w.tier1.address)).to.equal(0n);
      expect(await w.registry.liveRootSellerOf(receivableId)).to.equal(ethers.ZeroAddress);
    }
  });

  it("is not issued while the token is paused, nor to a seller that may not hold", async function () {
    const { w } = await networkHelpers.loadFixture(registered);
    await w.certificates.connect(w.pauser).pause();
    await expect(registerReceivable(w, FACE)).to.be.revertedWithCustomError(w.certificates, "EnforcedPause");
    await w.certificates.connect(w.pauser).unpause();
    // The registry refuses such a seller before the token's own check (which names the root's id).
    await expect(registerReceivable(w, FACE, { seller: w.auditor }))
      .to.be.revertedWithCustomError(w.registry, "ReceivableSellerMayNotHold")
      .withArgs(w.auditor.address);
  });

  it("answers no owner for an id never issued, without a seller to fall back on", async function () {
    const { w, rootId } = await networkHelpers.loadFixture(registered);
    await expect(w.certificates.ownerOf(rootId + 100n)).to.be.revertedWithCustomError(
      w.certificates,
      "ERC721NonexistentToken",
    );
    expect(await w.registry.liveRootSellerOf(ethers.ZeroHash)).to.equal(ethers.ZeroAddress);
  });
});
