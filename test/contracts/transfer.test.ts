// Behaviour of whole-certificate ERC-721 transfers: who may send, who may receive, and when nothing moves.
import { expect } from "chai";
import { network } from "hardhat";
import { deployWorld, MILLION } from "../helpers/fixture.js";
import { fundRequest, registerReceivable, splitCertificate } from "../helpers/lifecycle.js";
import { CertificateState, FinancingKind } from "../../server/model/contract-enums.js";

const { ethers, networkHelpers } = await network.create();

const LIVE = CertificateState.live;
const SETTLED = CertificateState.settled;
const DISCOUNT = Number(FinancingKind.discount);
const PLEDGE = Number(FinancingKind.pledge);
const FACE = 1_000n * MILLION;

/** A world with one receivable of 1,000 tUSD whose root certificate tier1 holds. */
async function worldWithReceivable() {
  const w = await deployWorld(ethers);
  const registered = await registerReceivable(w, FACE);
  return { ...w, ...registered };
}

describe("transferring a whole certificate", function () {
  describe("when both ends are active parties", function () {
    it("moves it with transferFrom and keeps its tier and record", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      const before = await w.certificates.certificateOf(w.rootId);
      await expect(w.certificates.connect(w.tier1).transferFrom(w.tier1.address, w.tier2.address, w.rootId))
        .to.emit(w.certificates, "Transfer")
        .withArgs(w.tier1.address, w.tier2.address, w.rootId);
      expect(await w.certificates.ownerOf(w.rootId)).to.equal(w.tier2.address);
      const after = await w.certificates.certificateOf(w.rootId);
      expect(after.tier).to.equal(1n);
      expect(after.state).to.equal(LIVE);
      expect(after.faceValue).to.equal(before.faceValue);
      expect(after.parentId).to.equal(before.parentId);
    });

    it("moves it with safeTransferFrom", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      const [child] = await splitCertificate(w, w.tier1, w.rootId, [
        { to: w.tier2, amount: 600n * MILLION },
        { to: w.tier1, amount: 400n * MILLION },
      ]);
      await w.certificates
        .connect(w.tier2)
        ["safeTransferFrom(address,address,uint256)"](w.tier2.address, w.tier3.address, child!);
      expect(await w.certificates.ownerOf(child!)).to.equal(w.tier3.address);
      expect((await w.certificates.certificateOf(child!)).tier).to.equal(2n);
      await w.certificates
        .connect(w.tier3)
        ["safeTransferFrom(address,address,uint256,bytes)"](w.tier3.address, w.financier.address, child!, "0x1234");
      expect(await w.certificates.ownerOf(child!)).to.equal(w.financier.address);
    });

    it("lets the new holder split what it received", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await w.certificates.connect(w.tier1).transferFrom(w.tier1.address, w.tier2.address, w.rootId);
      const [child] = await splitCertificate(w, w.tier2, w.rootId, [{ to: w.tier3, amount: FACE }]);
      // The whole transfer did not change the tier, so the next hop is tier 2.
      expect((await w.certificates.certificateOf(child!)).tier).to.equal(2n);
    });
  });

  describe("when the holder has approved someone", function () {
    it("lets a token-approved account move it", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await w.certificates.connect(w.tier1).approve(w.financier.address, w.rootId);
      await w.certificates.connect(w.financier).transferFrom(w.tier1.address, w.tier2.address, w.rootId);
      expect(await w.certificates.ownerOf(w.rootId)).to.equal(w.tier2.address);
      // The approval is spent with the transfer.
      expect(await w.certificates.getApproved(w.rootId)).to.equal(ethers.ZeroAddress);
    });

    it("lets an operator approved for all move it", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await w.certificates.connect(w.tier1).setApprovalForAll(w.financier2.address, true);
      await w.certificates.connect(w.financier2).transferFrom(w.tier1.address, w.tier3.address, w.rootId);
      expect(await w.certificates.ownerOf(w.rootId)).to.equal(w.tier3.address);
    });

    it("refuses anyone who was not approved", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await expect(w.certificates.connect(w.tier2).transferFrom(w.tier1.address, w.tier2.address, w.rootId))
        .to.be.revertedWithCustomError(w.certificates, "ERC721InsufficientApproval")
        .withArgs(w.tier2.address, w.rootId);
    });
  });

  describe("when the receiver is not an active party", function () {
    it("refuses to send it to an unregistered outsider", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await expect(w.certificates.connect(w.tier1).transferFrom(w.tier1.address, w.outsider.address, w.rootId))
        .to.be.revertedWithCustomError(w.certificates, "CertificatePartyNotActive")
        .withArgs(w.outsider.address);
      expect(await w.certificates.ownerOf(w.rootId)).to.equal(w.tier1.address);
    });

    it("refuses to send it to a suspended party, and sends it once the party is active again", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await w.parties.connect(w.partyManager).setPartyActive(w.tier2.address, false);
      await expect(
        w.certificates
          .connect(w.tier1)
          ["safeTransferFrom(address,address,uint256)"](w.tier1.address, w.tier2.address, w.rootId),
      )
        .to.be.revertedWithCustomError(w.certificates, "CertificatePartyNotActive")
        .withArgs(w.tier2.address);
      await w.parties.connect(w.partyManager).setPartyActive(w.tier2.address, true);
      await w.certificates.connect(w.tier1).transferFrom(w.tier1.address, w.tier2.address, w.rootId);
      expect(await w.certificates.ownerOf(w.rootId)).to.equal(w.tier2.address);
    });
  });

  describe("when the receiver is the receivable's own debtor", function () {
    it("refuses a transfer by the holder, plain or safe, and leaves the certificate where it was", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await expect(w.certificates.connect(w.tier1).transferFrom(w.tier1.address, w.debtor.address, w.rootId))
        .to.be.revertedWithCustomError(w.certificates, "CertificateRecipientIsDebtor")
        .withArgs(w.rootId, w.debtor.address);
      await expect(
        w.certificates
          .connect(w.tier1)
          ["safeTransferFrom(address,address,uint256)"](w.tier1.address, w.debtor.address, w.rootId),
      )
        .to.be.revertedWithCustomError(w.certificates, "CertificateRecipientIsDebtor")
        .withArgs(w.rootId, w.debtor.address);
      expect(await w.certificates.ownerOf(w.rootId)).to.equal(w.tier1.address);
    });

    it("refuses a transfer by an approved operator", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await w.certificates.connect(w.tier1).setApprovalForAll(w.tier2.address, true);
      await expect(w.certificates.connect(w.tier2).transferFrom(w.tier1.address, w.debtor.address, w.rootId))
        .to.be.revertedWithCustomError(w.certificates, "CertificateRecipientIsDebtor")
        .withArgs(w.rootId, w.debtor.address);
    });

    it("refuses to deliver it to the debtor funding a discount, and the money stays put", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await w.financing.connect(w.tier1).openRequest(w.rootId, DISCOUNT, 950n * MILLION, 0n);
      const requestId = await w.financing.activeRequestOf(w.rootId);
      const debtorBalance = await w.token.balanceOf(w.debtor.address);
      await expect(fundRequest(w, w.debtor, requestId, 950n * MILLION, 0n))
        .to.be.revertedWithCustomError(w.certificates, "CertificateRecipientIsDebtor")
        .withArgs(w.rootId, w.debtor.address);
      expect(await w.certificates.ownerOf(w.rootId)).to.equal(w.tier1.address);
      expect(await w.token.balanceOf(w.debtor.address)).to.equal(debtorBalance);
    });

    it("still lets another party receive it", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await w.certificates.connect(w.tier1).transferFrom(w.tier1.address, w.financier.address, w.rootId);
      expect(await w.certificates.ownerOf(w.rootId)).to.equal(w.financier.address);
    });
  });

  describe("when the receiver is an auditor (an active party that may not hold)", function () {
    it("refuses a transfer by the holder, plain or safe, and leaves the certificate where it was", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      expect(await w.parties.isActive(w.auditor.address)).to.equal(true);
      await expect(w.certificates.connect(w.tier1).transferFrom(w.tier1.address, w.auditor.address, w.rootId))
        .to.be.revertedWithCustomError(w.certificates, "CertificateRecipientMayNotHold")
        .withArgs(w.rootId, w.auditor.address);
      await expect(
        w.certificates
          .connect(w.tier1)
          ["safeTransferFrom(address,address,uint256)"](w.tier1.address, w.auditor.address, w.rootId),
      )
        .to.be.revertedWithCustomError(w.certificates, "CertificateRecipientMayNotHold")
        .withArgs(w.rootId, w.auditor.address);
      expect(await w.certificates.ownerOf(w.rootId)).to.equal(w.tier1.address);
      expect(await w.certificates.balanceOf(w.auditor.address)).to.equal(0n);
    });

    it("refuses a transfer by an approved operator", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await w.certificates.connect(w.tier1).setApprovalForAll(w.tier2.address, true);
      await expect(w.certificates.connect(w.tier2).transferFrom(w.tier1.address, w.auditor.address, w.rootId))
        .to.be.revertedWithCustomError(w.certificates, "CertificateRecipientMayNotHold")
        .withArgs(w.rootId, w.auditor.address);
    });

    it("refuses to let it fund a discount, so the market never delivers to it, and the money stays put", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await w.token.mint(w.auditor.address, 1_000n * MILLION);
      await w.token.connect(w.auditor).approve(await w.financing.getAddress(), ethers.MaxUint256);
      await w.financing.connect(w.tier1).openRequest(w.rootId, DISCOUNT, 950n * MILLION, 0n);
      const requestId = await w.financing.activeRequestOf(w.rootId);
      await expect(fundRequest(w, w.auditor, requestId, 950n * MILLION, 0n))
        .to.be.revertedWithCustomError(w.certificates, "CertificateRecipientMayNotHold")
        .withArgs(w.rootId, w.auditor.address);
      expect(await w.certificates.ownerOf(w.rootId)).to.equal(w.tier1.address);
      expect(await w.token.balanceOf(w.auditor.address)).to.equal(1_000n * MILLION);
    });

    it("still says CertificatePartyNotActive when the receiver is suspended as well", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await w.parties.connect(w.partyManager).setPartyActive(w.auditor.address, false);
      await expect(w.certificates.connect(w.tier1).transferFrom(w.tier1.address, w.auditor.address, w.rootId))
        .to.be.revertedWithCustomError(w.certificates, "CertificatePartyNotActive")
        .withArgs(w.auditor.address);
    });

    it("lets it receive once the party manager grants the capability, and pass it on once withdrawn", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await w.parties.connect(w.partyManager).setPartyMayHold(w.auditor.address, true);
      await w.certificates.connect(w.tier1).transferFrom(w.tier1.address, w.auditor.address, w.rootId);
      expect(await w.certificates.ownerOf(w.rootId)).to.equal(w.auditor.address);
      // Withdrawing the capability traps nothing: the sender is checked for being active only.
      await w.parties.connect(w.partyManager).setPartyMayHold(w.auditor.address, false);
      await w.certificates.connect(w.auditor).transferFrom(w.auditor.address, w.tier2.address, w.rootId);
      expect(await w.certificates.ownerOf(w.rootId)).to.equal(w.tier2.address);
    });
  });

  describe("when the holder has been suspended", function () {
    it("refuses to let it send the certificate", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await w.parties.connect(w.partyManager).setPartyActive(w.tier1.address, false);
      await expect(w.certificates.connect(w.tier1).transferFrom(w.tier1.address, w.tier2.address, w.rootId))
        .to.be.revertedWithCustomError(w.certificates, "CertificatePartyNotActive")
        .withArgs(w.tier1.address);
    });

    it("refuses an approved operator moving it for the suspended holder", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await w.certificates.connect(w.tier1).approve(w.financier.address, w.rootId);
      await w.parties.connect(w.partyManager).setPartyActive(w.tier1.address, false);
      await expect(w.certificates.connect(w.financier).transferFrom(w.tier1.address, w.tier2.address, w.rootId))
        .to.be.revertedWithCustomError(w.certificates, "CertificatePartyNotActive")
        .withArgs(w.tier1.address);
    });
  });

  describe("when the certificate is locked in financing", function () {
    it("refuses to move it while a request is open", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await w.financing.connect(w.tier1).openRequest(w.rootId, DISCOUNT, 950n * MILLION, 0n);
      await expect(w.certificates.connect(w.tier1).transferFrom(w.tier1.address, w.tier2.address, w.rootId))
        .to.be.revertedWithCustomError(w.certificates, "CertificateLocked")
        .withArgs(w.rootId);
      expect(await w.certificates.ownerOf(w.rootId)).to.equal(w.tier1.address);
    });

    it("refuses to move it while it is pledged, even by an approved operator", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await w.certificates.connect(w.tier1).approve(w.tier2.address, w.rootId);
      await w.financing.connect(w.tier1).openRequest(w.rootId, PLEDGE, 800n * MILLION, 850n * MILLION);
      await fundRequest(w, w.financier, 1n, 800n * MILLION, 850n * MILLION);
      await expect(w.certificates.connect(w.tier2).transferFrom(w.tier1.address, w.tier2.address, w.rootId))
        .to.be.revertedWithCustomError(w.certificates, "CertificateLocked")
        .withArgs(w.rootId);
    });

    it("moves it again once the request is cancelled", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await w.financing.connect(w.tier1).openRequest(w.rootId, DISCOUNT, 950n * MILLION, 0n);
      await w.financing.connect(w.tier1).cancelRequest(1n);
      await w.certificates.connect(w.tier1).transferFrom(w.tier1.address, w.tier2.address, w.rootId);
      expect(await w.certificates.ownerOf(w.rootId)).to.equal(w.tier2.address);
    });
  });

  describe("when transfers are paused", function () {
    it("refuses to move it, and moves it after unpause", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await w.certificates.connect(w.pauser).pause();
      await expect(
        w.certificates.connect(w.tier1).transferFrom(w.tier1.address, w.tier2.address, w.rootId),
      ).to.be.revertedWithCustomError(w.certificates, "EnforcedPause");
      await w.certificates.connect(w.pauser).unpause();
      await w.certificates.connect(w.tier1).transferFrom(w.tier1.address, w.tier2.address, w.rootId);
      expect(await w.certificates.ownerOf(w.rootId)).to.equal(w.tier2.address);
    });

    it("refuses a pause by anyone but the pauser", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await expect(w.certificates.connect(w.tier1).pause())
        .to.be.revertedWithCustomError(w.certificates, "AccessControlUnauthorizedAccount")
        .withArgs(w.tier1.address, await w.certificates.PAUSER_ROLE());
    });
  });

  describe("when the certificate is closed", function () {
    it("refuses to move a retired certificate", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await splitCertificate(w, w.tier1, w.rootId, [
        { to: w.tier1, amount: 500n * MILLION },
        { to: w.tier2, amount: 500n * MILLION },
      ]);
      await expect(w.certificates.connect(w.tier1).transferFrom(w.tier1.address, w.tier2.address, w.rootId))
        .to.be.revertedWithCustomError(w.certificates, "ERC721NonexistentToken")
        .withArgs(w.rootId);
    });

    it("refuses to move a settled certificate", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await w.escrow.connect(w.debtor).repay(w.receivableId, FACE);
      await w.escrow.settle(w.receivableId, [w.rootId]);
      expect((await w.certificates.certificateOf(w.rootId)).state).to.equal(SETTLED);
      await expect(w.certificates.connect(w.tier1).transferFrom(w.tier1.address, w.tier2.address, w.rootId))
        .to.be.revertedWithCustomError(w.certificates, "ERC721NonexistentToken")
        .withArgs(w.rootId);
      expect(await w.certificates.balanceOf(w.tier1.address)).to.equal(0n);
    });
  });
});
