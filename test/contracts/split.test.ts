// Behaviour of CertificateToken.split: conservation, lineage, tiers, ids, and every refusal.
import { expect } from "chai";
import { network } from "hardhat";
import { asAdmin, deployWorld, MILLION } from "../helpers/fixture.js";
import { registerReceivable, splitCertificate } from "../helpers/lifecycle.js";
import { decodeRevert } from "../../server/chain/revert-errors.js";
import { CertificateState, FinancingKind, ReceivableStatus } from "../../server/model/contract-enums.js";

const { ethers, networkHelpers } = await network.create();

// Enum values as the contracts number them.
const LIVE = CertificateState.live;
const LOCKED = CertificateState.locked;
const RETIRED = CertificateState.retired;
const DEFAULTED = ReceivableStatus.defaulted;
const DISCOUNT = Number(FinancingKind.discount);
const FACE = 1_000n * MILLION;

/** A world with one receivable of 1,000 tUSD whose root certificate tier1 holds. */
async function worldWithReceivable() {
  const w = await deployWorld(ethers);
  const registered = await registerReceivable(w, FACE);
  return { ...w, ...registered };
}

describe("splitting a certificate", function () {
  describe("when the holder splits into pieces that add up to the face value", function () {
    it("issues children whose face values sum exactly to the parent's", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      const children = await splitCertificate(w, w.tier1, w.rootId, [
        { to: w.tier2, amount: 600n * MILLION },
        { to: w.tier1, amount: 399n * MILLION },
        { to: w.tier3, amount: 1n * MILLION },
      ]);
      let sum = 0n;
      for (const child of children) sum += (await w.certificates.certificateOf(child)).faceValue;
      expect(sum).to.equal(FACE);
      expect((await w.certificates.certificateOf(children[0]!)).faceValue).to.equal(600n * MILLION);
      expect((await w.certificates.certificateOf(children[1]!)).faceValue).to.equal(399n * MILLION);
      expect((await w.certificates.certificateOf(children[2]!)).faceValue).to.equal(1n * MILLION);
    });

    it("retires the parent and burns its token, keeping its record", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await splitCertificate(w, w.tier1, w.rootId, [
        { to: w.tier2, amount: 600n * MILLION },
        { to: w.tier1, amount: 400n * MILLION },
      ]);
      const parent = await w.certificates.certificateOf(w.rootId);
      expect(parent.state).to.equal(RETIRED);
      expect(parent.faceValue).to.equal(FACE);
      await expect(w.certificates.ownerOf(w.rootId))
        .to.be.revertedWithCustomError(w.certificates, "ERC721NonexistentToken")
        .withArgs(w.rootId);
      expect(await w.certificates.balanceOf(w.tier1.address)).to.equal(1n);
    });

    it("gives each child its parent, the receivable, the due date, its holder and a live state", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      const [toTier2, kept] = await splitCertificate(w, w.tier1, w.rootId, [
        { to: w.tier2, amount: 600n * MILLION },
        { to: w.tier1, amount: 400n * MILLION },
      ]);
      for (const [child, holder] of [
        [toTier2!, w.tier2.address],
        [kept!, w.tier1.address],
      ] as const) {
        const record = await w.certificates.certificateOf(child);
        expect(record.parentId).to.equal(w.rootId);
        expect(record.receivableId).to.equal(w.receivableId);
        expect(record.dueDate).to.equal(w.terms.dueDate);
        expect(record.state).to.equal(LIVE);
        expect(await w.certificates.ownerOf(child)).to.equal(holder);
      }
    });

    it("puts a child passed to another party one tier deeper and keeps the holder's own child at its tier", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      const [toTier2, kept] = await splitCertificate(w, w.tier1, w.rootId, [
        { to: w.tier2, amount: 600n * MILLION },
        { to: w.tier1, amount: 400n * MILLION },
      ]);
      expect((await w.certificates.certificateOf(toTier2!)).tier).to.equal(2n);
      expect((await w.certificates.certificateOf(kept!)).tier).to.equal(1n);

      const [toTier3, keptAtTier2] = await splitCertificate(w, w.tier2, toTier2!, [
        { to: w.tier3, amount: 100n * MILLION },
        { to: w.tier2, amount: 500n * MILLION },
      ]);
      expect((await w.certificates.certificateOf(toTier3!)).tier).to.equal(3n);
      expect((await w.certificates.certificateOf(keptAtTier2!)).tier).to.equal(2n);
    });

    it("emits CertificateIssued for every child and CertificateSplit with the child ids", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      const first = await w.certificates.nextCertificateId();
      const tx = w.certificates.connect(w.tier1).split(w.rootId, [
        { to: w.tier2.address, amount: 700n * MILLION },
        { to: w.tier1.address, amount: 300n * MILLION },
      ]);
      await expect(tx)
        .to.emit(w.certificates, "CertificateIssued")
        .withArgs(first, w.receivableId, w.rootId, w.tier2.address, 700n * MILLION, 2n);
      await expect(tx)
        .to.emit(w.certificates, "CertificateIssued")
        .withArgs(first + 1n, w.receivableId, w.rootId, w.tier1.address, 300n * MILLION, 1n);
      await expect(tx)
        .to.emit(w.certificates, "CertificateSplit")
        .withArgs(w.rootId, [first, first + 1n]);
    });

    it("returns the child ids from the call", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      const first = await w.certificates.nextCertificateId();
      const ids = await w.certificates.connect(w.tier1).split.staticCall(w.rootId, [
        { to: w.tier2.address, amount: 700n * MILLION },
        { to: w.tier1.address, amount: 300n * MILLION },
      ]);
      expect(ids).to.deep.equal([first, first + 1n]);
    });

    it("updates the receivable's leaf count", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      expect(await w.certificates.leafCountOf(w.receivableId)).to.equal(1n);
      const [toTier2] = await splitCertificate(w, w.tier1, w.rootId, [
        { to: w.tier2, amount: 500n * MILLION },
        { to: w.tier1, amount: 300n * MILLION },
        { to: w.tier3, amount: 200n * MILLION },
      ]);
      expect(await w.certificates.leafCountOf(w.receivableId)).to.equal(3n);
      await splitCertificate(w, w.tier2, toTier2!, [
        { to: w.tier3, amount: 250n * MILLION },
        { to: w.tier2, amount: 250n * MILLION },
      ]);
      expect(await w.certificates.leafCountOf(w.receivableId)).to.equal(4n);
      // A split into one piece passes the certificate on whole: still four leaves.
      await splitCertificate(w, w.tier1, toTier2! + 1n, [{ to: w.tier3, amount: 300n * MILLION }]);
      expect(await w.certificates.leafCountOf(w.receivableId)).to.equal(4n);
    });

    it("never reuses an id: the counter grows by the number of children", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      const before = await w.certificates.nextCertificateId();
      expect(before).to.equal(w.rootId + 1n);
      const children = await splitCertificate(w, w.tier1, w.rootId, [
        { to: w.tier2, amount: 600n * MILLION },
        { to: w.tier1, amount: 400n * MILLION },
      ]);
      expect(children).to.deep.equal([before, before + 1n]);
      expect(await w.certificates.nextCertificateId()).to.equal(before + 2n);
      const grandchildren = await splitCertificate(w, w.tier2, children[0]!, [
        { to: w.tier3, amount: 100n * MILLION },
        { to: w.tier2, amount: 500n * MILLION },
      ]);
      expect(grandchildren).to.deep.equal([before + 2n, before + 3n]);
      expect(await w.certificates.nextCertificateId()).to.equal(before + 4n);
      // The retired ids keep their records and are never handed out again.
      expect((await w.certificates.certificateOf(w.rootId)).state).to.equal(RETIRED);
      expect((await w.certificates.certificateOf(children[0]!)).state).to.equal(RETIRED);
    });

    it("splits into ten pieces", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      const recipients = [w.tier2, w.tier3, w.tier1, w.financier, w.financier2];
      const parts = Array.from({ length: 10 }, (_, i) => ({
        to: recipients[i % recipients.length]!,
        amount: 100n * MILLION,
      }));
      const children = await splitCertificate(w, w.tier1, w.rootId, parts);
      expect(children).to.have.length(10);
      for (let i = 0; i < 10; i++) {
        const record = await w.certificates.certificateOf(children[i]!);
        expect(record.faceValue).to.equal(100n * MILLION);
        expect(record.tier).to.equal(parts[i]!.to === w.tier1 ? 1n : 2n);
        expect(await w.certificates.ownerOf(children[i]!)).to.equal(parts[i]!.to.address);
      }
      expect(await w.certificates.leafCountOf(w.receivableId)).to.equal(10n);
    });
  });

  describe("when the pieces do not add up to the face value", function () {
    it("refuses a split whose pieces add up to more", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await expect(
        w.certificates.connect(w.tier1).split(w.rootId, [
          { to: w.tier2.address, amount: 600n * MILLION },
          { to: w.tier1.address, amount: 400n * MILLION + 1n },
        ]),
      )
        .to.be.revertedWithCustomError(w.certificates, "SplitAmountMismatch")
        .withArgs(w.rootId, FACE, FACE + 1n);
    });

    it("refuses a split whose pieces add up to less", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await expect(
        w.certificates.connect(w.tier1).split(w.rootId, [
          { to: w.tier2.address, amount: 600n * MILLION },
          { to: w.tier1.address, amount: 400n * MILLION - 1n },
        ]),
      )
        .to.be.revertedWithCustomError(w.certificates, "SplitAmountMismatch")
        .withArgs(w.rootId, FACE, FACE - 1n);
    });
  });

  describe("when the number of parts is outside the policy", function () {
    it("refuses a split into no parts", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await expect(w.certificates.connect(w.tier1).split(w.rootId, []))
        .to.be.revertedWithCustomError(w.certificates, "SplitPartCount")
        .withArgs(0n, 32n);
    });

    it("refuses a split into more parts than the default maximum", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      const parts = Array.from({ length: 33 }, (_, i) => ({
        to: w.tier2.address,
        amount: i === 0 ? FACE - 32n * MILLION : MILLION,
      }));
      await expect(w.certificates.connect(w.tier1).split(w.rootId, parts))
        .to.be.revertedWithCustomError(w.certificates, "SplitPartCount")
        .withArgs(33n, 32n);
    });

    it("refuses one part more than a lowered maximum, and accepts the maximum itself", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await asAdmin(w, w.certificates, "setTierPolicy", [10, 1n, 3]);
      const four = [400n, 200n, 200n, 200n].map((m) => ({ to: w.tier2.address, amount: m * MILLION }));
      await expect(w.certificates.connect(w.tier1).split(w.rootId, four))
        .to.be.revertedWithCustomError(w.certificates, "SplitPartCount")
        .withArgs(4n, 3n);
      const three = [400n, 400n, 200n].map((m) => ({ to: w.tier2, amount: m * MILLION }));
      const children = await splitCertificate(w, w.tier1, w.rootId, three);
      expect(children).to.have.length(3);
    });
  });

  describe("when a piece is too small", function () {
    it("refuses a piece below a raised minimum piece size, and accepts one at it", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await asAdmin(w, w.certificates, "setTierPolicy", [10, 100n * MILLION, 32]);
      await expect(
        w.certificates.connect(w.tier1).split(w.rootId, [
          { to: w.tier2.address, amount: 100n * MILLION - 1n },
          { to: w.tier1.address, amount: 900n * MILLION + 1n },
        ]),
      )
        .to.be.revertedWithCustomError(w.certificates, "SplitPieceTooSmall")
        .withArgs(100n * MILLION - 1n, 100n * MILLION);
      const [small] = await splitCertificate(w, w.tier1, w.rootId, [
        { to: w.tier2, amount: 100n * MILLION },
        { to: w.tier1, amount: 900n * MILLION },
      ]);
      expect((await w.certificates.certificateOf(small!)).faceValue).to.equal(100n * MILLION);
    });

    it("refuses a piece of zero", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await expect(
        w.certificates.connect(w.tier1).split(w.rootId, [
          { to: w.tier2.address, amount: FACE },
          { to: w.tier1.address, amount: 0n },
        ]),
      )
        .to.be.revertedWithCustomError(w.certificates, "SplitPieceTooSmall")
        .withArgs(0n, 1n);
    });
  });

  describe("when a child would sit deeper than the policy's deepest tier", function () {
    it("refuses a tier-3 child under a maximum tier of 2, but lets the tier-2 holder keep pieces", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await asAdmin(w, w.certificates, "setTierPolicy", [2, 1n, 32]);
      const [atTier2] = await splitCertificate(w, w.tier1, w.rootId, [
        { to: w.tier2, amount: 600n * MILLION },
        { to: w.tier1, amount: 400n * MILLION },
      ]);
      expect((await w.certificates.certificateOf(atTier2!)).tier).to.equal(2n);
      await expect(
        w.certificates.connect(w.tier2).split(atTier2!, [
          { to: w.tier2.address, amount: 500n * MILLION },
          { to: w.tier3.address, amount: 100n * MILLION },
        ]),
      )
        .to.be.revertedWithCustomError(w.certificates, "SplitTierTooDeep")
        .withArgs(3n, 2n);
      const kept = await splitCertificate(w, w.tier2, atTier2!, [
        { to: w.tier2, amount: 500n * MILLION },
        { to: w.tier2, amount: 100n * MILLION },
      ]);
      expect((await w.certificates.certificateOf(kept[1]!)).tier).to.equal(2n);
    });
  });

  describe("when a piece would go to the receivable's own debtor", function () {
    it("refuses the split, and leaves the certificate as it was", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      const nextIdBefore = await w.certificates.nextCertificateId();
      await expect(
        w.certificates.connect(w.tier1).split(w.rootId, [
          { to: w.tier2.address, amount: FACE / 2n },
          { to: w.debtor.address, amount: FACE - FACE / 2n },
        ]),
      )
        .to.be.revertedWithCustomError(w.certificates, "CertificateRecipientIsDebtor")
        .withArgs(w.rootId, w.debtor.address);
      expect(await w.certificates.ownerOf(w.rootId)).to.equal(w.tier1.address);
      expect((await w.certificates.certificateOf(w.rootId)).state).to.equal(LIVE);
      expect(await w.certificates.nextCertificateId()).to.equal(nextIdBefore);
    });
  });

  describe("when a piece would go to an auditor (an active party that may not hold)", function () {
    it("refuses the split, naming the piece, and leaves the certificate as it was", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      const nextIdBefore = await w.certificates.nextCertificateId();
      await expect(
        w.certificates.connect(w.tier1).split(w.rootId, [
          { to: w.tier2.address, amount: FACE / 2n },
          { to: w.auditor.address, amount: FACE - FACE / 2n },
        ]),
      )
        .to.be.revertedWithCustomError(w.certificates, "CertificateRecipientMayNotHold")
        .withArgs(nextIdBefore + 1n, w.auditor.address);
      expect(await w.certificates.ownerOf(w.rootId)).to.equal(w.tier1.address);
      expect((await w.certificates.certificateOf(w.rootId)).state).to.equal(LIVE);
      expect(await w.certificates.nextCertificateId()).to.equal(nextIdBefore);
      expect(await w.certificates.balanceOf(w.auditor.address)).to.equal(0n);
    });

    it("refuses to let a holder that may no longer hold keep a piece, but lets it split all of it away", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await w.parties.connect(w.partyManager).setPartyMayHold(w.tier1.address, false);
      const nextIdBefore = await w.certificates.nextCertificateId();
      await expect(
        w.certificates.connect(w.tier1).split(w.rootId, [
          { to: w.tier1.address, amount: FACE / 2n },
          { to: w.tier2.address, amount: FACE - FACE / 2n },
        ]),
      )
        .to.be.revertedWithCustomError(w.certificates, "CertificateRecipientMayNotHold")
        .withArgs(nextIdBefore, w.tier1.address);
      const children = await splitCertificate(w, w.tier1, w.rootId, [
        { to: w.tier2, amount: FACE / 2n },
        { to: w.tier3, amount: FACE - FACE / 2n },
      ]);
      expect(await w.certificates.ownerOf(children[0]!)).to.equal(w.tier2.address);
      expect(await w.certificates.ownerOf(children[1]!)).to.equal(w.tier3.address);
    });
  });

  describe("when the split would change nothing", function () {
    it("refuses one piece kept by the holder, and leaves the certificate as it was", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      const nextIdBefore = await w.certificates.nextCertificateId();
      await expect(w.certificates.connect(w.tier1).split(w.rootId, [{ to: w.tier1.address, amount: FACE }]))
        .to.be.revertedWithCustomError(w.certificates, "SplitChangesNothing")
        .withArgs(w.rootId);
      expect(await w.certificates.ownerOf(w.rootId)).to.equal(w.tier1.address);
      expect((await w.certificates.certificateOf(w.rootId)).state).to.equal(LIVE);
      expect(await w.certificates.nextCertificateId()).to.equal(nextIdBefore);
      expect(await w.certificates.leafCountOf(w.receivableId)).to.equal(1n);
    });

    it("is refused with the API's own code, SPLIT_CHANGES_NOTHING (422)", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      const refused = await w.certificates
        .connect(w.tier1)
        .split.staticCall(w.rootId, [{ to: w.tier1.address, amount: FACE }])
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      const mapped = decodeRevert(refused);
      expect(mapped?.code).to.equal("SPLIT_CHANGES_NOTHING");
      expect(mapped?.status).to.equal(422);
      expect(mapped?.details).to.deep.equal({
        contractError: "SplitChangesNothing",
        certificateId: w.rootId.toString(),
      });
    });

    it("allows one piece to another party, one tier down", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      const [child] = await splitCertificate(w, w.tier1, w.rootId, [{ to: w.tier2, amount: FACE }]);
      expect(await w.certificates.ownerOf(child!)).to.equal(w.tier2.address);
      expect((await w.certificates.certificateOf(child!)).tier).to.equal(2n);
    });

    it("allows two pieces both kept by the holder", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      const half = FACE / 2n;
      const children = await splitCertificate(w, w.tier1, w.rootId, [
        { to: w.tier1, amount: half },
        { to: w.tier1, amount: FACE - half },
      ]);
      for (const child of children) expect(await w.certificates.ownerOf(child)).to.equal(w.tier1.address);
      expect(await w.certificates.leafCountOf(w.receivableId)).to.equal(2n);
    });
  });

  describe("when the receivable is no longer splittable", function () {
    it("refuses a split once the debtor has repaid part of it", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await w.escrow.connect(w.debtor).repay(w.receivableId, 1n);
      await expect(w.certificates.connect(w.tier1).split(w.rootId, [{ to: w.tier2.address, amount: FACE }]))
        .to.be.revertedWithCustomError(w.certificates, "SplitClosed")
        .withArgs(w.receivableId);
    });

    it("accepts a split one second before the due date and refuses it at the due date", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await networkHelpers.time.setNextBlockTimestamp(w.terms.dueDate - 1n);
      const [child] = await splitCertificate(w, w.tier1, w.rootId, [
        { to: w.tier2, amount: 600n * MILLION },
        { to: w.tier1, amount: 400n * MILLION },
      ]);
      await networkHelpers.time.setNextBlockTimestamp(w.terms.dueDate);
      await expect(w.certificates.connect(w.tier2).split(child!, [{ to: w.tier3.address, amount: 600n * MILLION }]))
        .to.be.revertedWithCustomError(w.certificates, "SplitClosed")
        .withArgs(w.receivableId);
    });

    it("refuses a split after the receivable defaulted", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      const grace = await w.registry.gracePeriod();
      await networkHelpers.time.increaseTo(w.terms.dueDate + grace + 1n);
      await w.registry.markDefaulted(w.receivableId);
      expect(await w.registry.statusOf(w.receivableId)).to.equal(DEFAULTED);
      await expect(w.certificates.connect(w.tier1).split(w.rootId, [{ to: w.tier2.address, amount: FACE }]))
        .to.be.revertedWithCustomError(w.certificates, "SplitClosed")
        .withArgs(w.receivableId);
    });
  });

  describe("when the caller may not split this certificate", function () {
    it("refuses a caller that does not hold it", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await expect(w.certificates.connect(w.tier2).split(w.rootId, [{ to: w.tier2.address, amount: FACE }]))
        .to.be.revertedWithCustomError(w.certificates, "CertificateNotHolder")
        .withArgs(w.rootId, w.tier2.address);
    });

    it("refuses to split a retired certificate", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      // Retired by a split into two kept pieces (one kept piece alone is SplitChangesNothing).
      await splitCertificate(w, w.tier1, w.rootId, [
        { to: w.tier1, amount: FACE / 2n },
        { to: w.tier1, amount: FACE - FACE / 2n },
      ]);
      await expect(w.certificates.connect(w.tier1).split(w.rootId, [{ to: w.tier2.address, amount: FACE }]))
        .to.be.revertedWithCustomError(w.certificates, "CertificateWrongState")
        .withArgs(w.rootId, RETIRED);
    });

    it("refuses to split a certificate in a financing request", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await w.financing.connect(w.tier1).openRequest(w.rootId, DISCOUNT, 900n * MILLION, 0n);
      expect((await w.certificates.certificateOf(w.rootId)).state).to.equal(LOCKED);
      await expect(w.certificates.connect(w.tier1).split(w.rootId, [{ to: w.tier2.address, amount: FACE }]))
        .to.be.revertedWithCustomError(w.certificates, "CertificateLocked")
        .withArgs(w.rootId);
    });

    it("refuses a split while the certificate token is paused", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await w.certificates.connect(w.pauser).pause();
      await expect(
        w.certificates.connect(w.tier1).split(w.rootId, [{ to: w.tier2.address, amount: FACE }]),
      ).to.be.revertedWithCustomError(w.certificates, "EnforcedPause");
    });
  });

  describe("when a party of the split is not active", function () {
    it("refuses a child to an unregistered outsider", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await expect(
        w.certificates.connect(w.tier1).split(w.rootId, [
          { to: w.tier2.address, amount: 600n * MILLION },
          { to: w.outsider.address, amount: 400n * MILLION },
        ]),
      )
        .to.be.revertedWithCustomError(w.certificates, "CertificatePartyNotActive")
        .withArgs(w.outsider.address);
    });

    it("refuses a child to a suspended party", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await w.parties.connect(w.partyManager).setPartyActive(w.tier2.address, false);
      await expect(w.certificates.connect(w.tier1).split(w.rootId, [{ to: w.tier2.address, amount: FACE }]))
        .to.be.revertedWithCustomError(w.certificates, "CertificatePartyNotActive")
        .withArgs(w.tier2.address);
    });

    it("refuses a suspended holder that keeps a piece", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await w.parties.connect(w.partyManager).setPartyActive(w.tier1.address, false);
      await expect(
        w.certificates.connect(w.tier1).split(w.rootId, [
          { to: w.tier2.address, amount: 600n * MILLION },
          { to: w.tier1.address, amount: 400n * MILLION },
        ]),
      )
        .to.be.revertedWithCustomError(w.certificates, "CertificatePartyNotActive")
        .withArgs(w.tier1.address);
    });

    it("refuses a suspended holder that passes every piece to active parties", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await w.parties.connect(w.partyManager).setPartyActive(w.tier1.address, false);
      await expect(
        w.certificates.connect(w.tier1).split(w.rootId, [
          { to: w.tier2.address, amount: 600n * MILLION },
          { to: w.tier3.address, amount: 400n * MILLION },
        ]),
      )
        .to.be.revertedWithCustomError(w.certificates, "CertificatePartyNotActive")
        .withArgs(w.tier1.address);
    });
  });
});

describe("setting the tier policy", function () {
  describe("when the admin sets a valid policy", function () {
    it("stores it and emits TierPolicySet", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      expect(await w.certificates.tierPolicy()).to.deep.equal([10n, 1n, 32n]);
      await expect(asAdmin(w, w.certificates, "setTierPolicy", [4, 5n * MILLION, 8]))
        .to.emit(w.certificates, "TierPolicySet")
        .withArgs(4n, 5n * MILLION, 8n);
      expect(await w.certificates.tierPolicy()).to.deep.equal([4n, 5n * MILLION, 8n]);
    });
  });

  describe("when the policy is invalid", function () {
    for (const [label, maxTier, minPiece, maxParts] of [
      ["a maximum tier of zero", 0, 1n, 32],
      ["a minimum piece of zero", 10, 0n, 32],
      ["a maximum of zero parts", 10, 1n, 0],
    ] as const) {
      it(`refuses ${label}`, async function () {
        const w = await networkHelpers.loadFixture(worldWithReceivable);
        await expect(asAdmin(w, w.certificates, "setTierPolicy", [maxTier, minPiece, maxParts]))
          .to.be.revertedWithCustomError(w.certificates, "TierPolicyInvalid")
          .withArgs(maxTier, minPiece, maxParts);
      });
    }
  });

  describe("when the caller is not the admin", function () {
    it("refuses it", async function () {
      const w = await networkHelpers.loadFixture(worldWithReceivable);
      await expect(w.certificates.connect(w.tier1).setTierPolicy(2, 1n, 4))
        .to.be.revertedWithCustomError(w.certificates, "AccessControlUnauthorizedAccount")
        .withArgs(w.tier1.address, ethers.ZeroHash);
    });
  });
});
