// Settlement: every leaf certificate is paid its pro-rata share of what the debtor paid in,
// rounded down, in bounded batches that anyone may send; closed receivables finalize their
// leaves and return rounding dust to the debtor. Each scenario ends with the escrow's books.
import { expect } from "chai";
import { network } from "hardhat";
import type { ContractTransactionResponse } from "ethers";
import { deployWorld, type TierlineWorld } from "../helpers/fixture.js";
import { registerReceivable, splitCertificate } from "../helpers/lifecycle.js";
import { escrowBooks } from "../helpers/custom-token-world.js";
import { CertificateState, ReceivableStatus } from "../../server/model/contract-enums.js";

const { ethers, networkHelpers } = await network.create();
const { time } = networkHelpers;

const ACTIVE = ReceivableStatus.active;
const LIVE = CertificateState.live;
const RETIRED = CertificateState.retired;
const SETTLED = CertificateState.settled;

async function world(): Promise<TierlineWorld> {
  return deployWorld(ethers);
}

async function expectSolvent(w: TierlineWorld, receivableIds: string[]): Promise<void> {
  const books = await escrowBooks(w, receivableIds);
  expect(books.balance).to.equal(books.expected);
}

async function balances(w: TierlineWorld): Promise<bigint[]> {
  return Promise.all([w.tier1, w.tier2, w.tier3].map((s) => w.token.balanceOf(s.address)));
}

async function gains(w: TierlineWorld, before: bigint[]): Promise<bigint[]> {
  return (await balances(w)).map((b, i) => b - before[i]!);
}

/** LeafSettled events of a transaction, by certificate id. */
async function leafSettlements(w: TierlineWorld, tx: ContractTransactionResponse) {
  const receipt = await tx.wait();
  const escrowAddress = (await w.escrow.getAddress()).toLowerCase();
  return receipt!.logs
    .filter((log) => log.address.toLowerCase() === escrowAddress)
    .map((log) => w.escrow.interface.parseLog(log))
    .filter((parsed) => parsed?.name === "LeafSettled")
    .map((parsed) => ({
      certificateId: parsed!.args.certificateId as bigint,
      holder: parsed!.args.holder as string,
      toHolder: parsed!.args.toHolder as bigint,
      paidOut: parsed!.args.paidOut as bigint,
    }));
}

/**
 * Face 1000 (smallest units, so rounding shows): tier 1 keeps 401, tier 2 keeps 366,
 * tier 3 holds 233. Leaves are listed tier 1, tier 2, tier 3.
 */
async function threeTierTree() {
  const w = await networkHelpers.loadFixture(world);
  const { receivableId, rootId, terms } = await registerReceivable(w, 1_000n);
  const [toTier2, t1] = await splitCertificate(w, w.tier1, rootId, [
    { to: w.tier2, amount: 599n },
    { to: w.tier1, amount: 401n },
  ]);
  const [t3, t2] = await splitCertificate(w, w.tier2, toTier2!, [
    { to: w.tier3, amount: 233n },
    { to: w.tier2, amount: 366n },
  ]);
  return { w, receivableId, rootId, terms, parentId: toTier2!, leaves: [t1!, t2!, t3!] };
}

describe("settle", function () {
  describe("when the receivable is repaid in full", function () {
    it("pays each leaf of three tiers exactly its face value", async function () {
      const { w, receivableId, leaves } = await threeTierTree();
      expect((await w.certificates.certificateOf(leaves[2]!)).tier).to.equal(3n);
      await w.escrow.connect(w.debtor).repay(receivableId, 1_000n);
      const before = await balances(w);

      await w.escrow.settle(receivableId, leaves);

      expect(await gains(w, before)).to.deep.equal([401n, 366n, 233n]);
      expect(await w.escrow.distributedOf(receivableId)).to.equal(1_000n);
      expect(await w.token.balanceOf(await w.escrow.getAddress())).to.equal(0n);
      await expectSolvent(w, [receivableId]);
    });

    it("reports each leaf's holder, amounts and cumulative payout", async function () {
      const { w, receivableId, leaves } = await threeTierTree();
      await w.escrow.connect(w.debtor).repay(receivableId, 1_000n);

      const tx = w.escrow.settle(receivableId, leaves);

      await expect(tx)
        .to.emit(w.escrow, "LeafSettled")
        .withArgs(receivableId, leaves[0]!, w.tier1.address, 401n, ethers.ZeroAddress, 0n, 401n);
      await expect(tx)
        .to.emit(w.escrow, "LeafSettled")
        .withArgs(receivableId, leaves[1]!, w.tier2.address, 366n, ethers.ZeroAddress, 0n, 366n);
      await expect(tx)
        .to.emit(w.escrow, "LeafSettled")
        .withArgs(receivableId, leaves[2]!, w.tier3.address, 233n, ethers.ZeroAddress, 0n, 233n);
    });

    it("returns the total it paid", async function () {
      const { w, receivableId, leaves } = await threeTierTree();
      await w.escrow.connect(w.debtor).repay(receivableId, 1_000n);

      expect(await w.escrow.settle.staticCall(receivableId, leaves)).to.equal(1_000n);
    });

    it("closes every leaf: the certificates become Settled and their tokens are burned", async function () {
      const { w, receivableId, leaves } = await threeTierTree();
      await w.escrow.connect(w.debtor).repay(receivableId, 1_000n);

      const tx = w.escrow.settle(receivableId, leaves);

      for (const leaf of leaves) {
        await expect(tx).to.emit(w.certificates, "CertificateSettled").withArgs(leaf);
        expect((await w.certificates.certificateOf(leaf)).state).to.equal(SETTLED);
        await expect(w.certificates.ownerOf(leaf))
          .to.be.revertedWithCustomError(w.certificates, "ERC721NonexistentToken")
          .withArgs(leaf);
        expect(await w.escrow.entitlementOf(leaf)).to.deep.equal([
          (await w.certificates.certificateOf(leaf)).faceValue,
          (await w.certificates.certificateOf(leaf)).faceValue,
        ]);
      }
      expect(await w.escrow.finalizedLeavesOf(receivableId)).to.equal(3n);
    });

    it("lets anyone, not only a holder or the debtor, trigger it", async function () {
      const { w, receivableId, leaves } = await threeTierTree();
      await w.escrow.connect(w.debtor).repay(receivableId, 1_000n);
      const before = await balances(w);

      await w.escrow.connect(w.outsider).settle(receivableId, leaves);

      expect(await gains(w, before)).to.deep.equal([401n, 366n, 233n]);
      expect(await w.token.balanceOf(w.outsider.address)).to.equal(0n);
    });

    it("refuses to settle the same leaves again", async function () {
      const { w, receivableId, leaves } = await threeTierTree();
      await w.escrow.connect(w.debtor).repay(receivableId, 1_000n);
      await w.escrow.settle(receivableId, leaves);

      await expect(w.escrow.settle(receivableId, leaves))
        .to.be.revertedWithCustomError(w.escrow, "SettlementNothingDue")
        .withArgs(receivableId);
      expect(await w.escrow.distributedOf(receivableId)).to.equal(1_000n);
      await expectSolvent(w, [receivableId]);
    });

    it("has no dust to sweep", async function () {
      const { w, receivableId, leaves } = await threeTierTree();
      await w.escrow.connect(w.debtor).repay(receivableId, 1_000n);
      await w.escrow.settle(receivableId, leaves);

      await expect(w.escrow.sweepDust(receivableId))
        .to.be.revertedWithCustomError(w.escrow, "SettlementNothingDue")
        .withArgs(receivableId);
    });
  });

  describe("when the debtor repays in parts", function () {
    it("pays pro-rata shares rounded down and keeps the dust in escrow", async function () {
      const { w, receivableId, leaves } = await threeTierTree();
      await w.escrow.connect(w.debtor).repay(receivableId, 333n);
      const before = await balances(w);

      await w.escrow.settle(receivableId, leaves);

      // 333*401/1000 = 133.53, 333*366/1000 = 121.88, 333*233/1000 = 77.59
      expect(await gains(w, before)).to.deep.equal([133n, 121n, 77n]);
      expect(await w.escrow.distributedOf(receivableId)).to.equal(331n);
      expect(await w.token.balanceOf(await w.escrow.getAddress())).to.equal(2n);
      for (const leaf of leaves) expect((await w.certificates.certificateOf(leaf)).state).to.equal(LIVE);
      expect(await w.escrow.finalizedLeavesOf(receivableId)).to.equal(0n);
      await expectSolvent(w, [receivableId]);
    });

    it("tops up on each later payment until the total equals the face value exactly", async function () {
      const { w, receivableId, leaves } = await threeTierTree();
      const start = await balances(w);

      await w.escrow.connect(w.debtor).repay(receivableId, 333n);
      await w.escrow.settle(receivableId, leaves);
      await w.escrow.connect(w.debtor).repay(receivableId, 250n);
      let before = await balances(w);
      const second = await w.escrow.settle(receivableId, leaves);
      // 583*401/1000 = 233.78, 583*366/1000 = 213.38, 583*233/1000 = 135.84
      expect(await gains(w, before)).to.deep.equal([233n - 133n, 213n - 121n, 135n - 77n]);
      await expect(second)
        .to.emit(w.escrow, "LeafSettled")
        .withArgs(receivableId, leaves[0]!, w.tier1.address, 100n, ethers.ZeroAddress, 0n, 233n);
      await expectSolvent(w, [receivableId]);

      await w.escrow.connect(w.debtor).repay(receivableId, 417n);
      before = await balances(w);
      await w.escrow.settle(receivableId, leaves);
      expect(await gains(w, before)).to.deep.equal([401n - 233n, 366n - 213n, 233n - 135n]);

      expect(await gains(w, start)).to.deep.equal([401n, 366n, 233n]);
      expect(await w.escrow.distributedOf(receivableId)).to.equal(1_000n);
      expect(await w.token.balanceOf(await w.escrow.getAddress())).to.equal(0n);
      for (const leaf of leaves) expect((await w.certificates.certificateOf(leaf)).state).to.equal(SETTLED);
      await expectSolvent(w, [receivableId]);
    });

    it("closes every leaf when the last unit arrives, paying each only the difference", async function () {
      const { w, receivableId, leaves } = await threeTierTree();
      await w.escrow.connect(w.debtor).repay(receivableId, 999n);
      await w.escrow.settle(receivableId, leaves);
      // 999*401/1000 = 400.6 -> 400; the tier-3 leaf: 999*233/1000 = 232.77 -> 232.
      expect(await w.escrow.entitlementOf(leaves[0]!)).to.deep.equal([400n, 400n]);
      await w.escrow.connect(w.debtor).repay(receivableId, 1n);
      const before = await balances(w);

      await expect(w.escrow.settle(receivableId, leaves))
        .to.emit(w.escrow, "LeafSettled")
        .withArgs(receivableId, leaves[0]!, w.tier1.address, 1n, ethers.ZeroAddress, 0n, 401n);

      expect(await gains(w, before)).to.deep.equal([1n, 1n, 1n]);
      expect(await w.escrow.finalizedLeavesOf(receivableId)).to.equal(3n);
      await expectSolvent(w, [receivableId]);
    });

    it("reports a settled leaf that was paid in part before as paid its whole share", async function () {
      const { w, receivableId, leaves } = await threeTierTree();
      await w.escrow.connect(w.debtor).repay(receivableId, 999n);
      await w.escrow.settle(receivableId, leaves);
      expect(await w.escrow.paidOutOf(leaves[2]!)).to.equal(232n); // 999*233/1000 rounded down
      await w.escrow.connect(w.debtor).repay(receivableId, 1n);
      await w.escrow.settle(receivableId, leaves);

      // The partial entries are gone; a settled leaf's payout is its final entitlement, its face.
      const faces = [401n, 366n, 233n];
      for (const [i, leaf] of leaves.entries()) {
        expect(await w.escrow.paidOutOf(leaf)).to.equal(faces[i]);
        expect(await w.escrow.entitlementOf(leaf)).to.deep.equal([faces[i], faces[i]]);
        expect(await w.financing.remainingClaimOf(leaf)).to.equal(0n);
        const [claimReceivable, claimFace, claimState, claimHolder] = await w.certificates.claimOf(leaf);
        expect([claimReceivable, claimFace, claimState, claimHolder]).to.deep.equal([
          receivableId,
          faces[i],
          SETTLED,
          ethers.ZeroAddress,
        ]);
        expect(await w.certificates.receivableIdOf(leaf)).to.equal(receivableId);
      }
    });

    it("reports each leaf's entitlement and what it was paid", async function () {
      const { w, receivableId, leaves } = await threeTierTree();
      expect(await w.escrow.entitlementOf(leaves[1]!)).to.deep.equal([0n, 0n]);

      await w.escrow.connect(w.debtor).repay(receivableId, 333n);
      expect(await w.escrow.entitlementOf(leaves[1]!)).to.deep.equal([121n, 0n]);

      await w.escrow.settle(receivableId, leaves);
      expect(await w.escrow.entitlementOf(leaves[1]!)).to.deep.equal([121n, 121n]);

      await w.escrow.connect(w.debtor).repay(receivableId, 250n);
      expect(await w.escrow.entitlementOf(leaves[1]!)).to.deep.equal([213n, 121n]);
    });

    it("refuses to settle again when no new money arrived", async function () {
      const { w, receivableId, leaves } = await threeTierTree();
      await w.escrow.connect(w.debtor).repay(receivableId, 333n);
      await w.escrow.settle(receivableId, leaves);

      await expect(w.escrow.settle(receivableId, leaves))
        .to.be.revertedWithCustomError(w.escrow, "SettlementNothingDue")
        .withArgs(receivableId);
    });

    it("refuses to settle when the payment is too small to give any leaf a whole unit", async function () {
      const { w, receivableId, leaves } = await threeTierTree();
      await w.escrow.connect(w.debtor).repay(receivableId, 2n);

      await expect(w.escrow.settle(receivableId, leaves))
        .to.be.revertedWithCustomError(w.escrow, "SettlementNothingDue")
        .withArgs(receivableId);
      await expectSolvent(w, [receivableId]);
    });
  });

  describe("when the batch is malformed", function () {
    it("refuses an empty batch", async function () {
      const { w, receivableId } = await threeTierTree();
      await expect(w.escrow.settle(receivableId, []))
        .to.be.revertedWithCustomError(w.escrow, "SettlementBatchSize")
        .withArgs(0n, 50n);
    });

    it("refuses a batch of 51 certificates", async function () {
      const { w, receivableId, leaves } = await threeTierTree();
      const batch = Array.from({ length: 51 }, (_, i) => leaves[i % 3]!);
      await expect(w.escrow.settle(receivableId, batch))
        .to.be.revertedWithCustomError(w.escrow, "SettlementBatchSize")
        .withArgs(51n, 50n);
    });

    it("pays a leaf listed twice in one batch only once", async function () {
      const { w, receivableId, leaves } = await threeTierTree();
      await w.escrow.connect(w.debtor).repay(receivableId, 333n);
      const before = await balances(w);

      await w.escrow.settle(receivableId, [leaves[0]!, leaves[0]!, leaves[2]!, leaves[0]!]);
      expect(await gains(w, before)).to.deep.equal([133n, 0n, 77n]);

      await w.escrow.connect(w.debtor).repay(receivableId, 667n);
      await w.escrow.settle(receivableId, [...leaves, ...leaves]);
      expect(await gains(w, before)).to.deep.equal([401n, 366n, 233n]);
      expect(await w.escrow.finalizedLeavesOf(receivableId)).to.equal(3n);
      await expectSolvent(w, [receivableId]);
    });

    it("refuses a certificate of another receivable", async function () {
      const { w, receivableId, leaves } = await threeTierTree();
      const other = await registerReceivable(w, 500n);
      await w.escrow.connect(w.debtor).repay(receivableId, 1_000n);

      await expect(w.escrow.settle(receivableId, [leaves[0]!, other.rootId]))
        .to.be.revertedWithCustomError(w.escrow, "SettlementCertificateMismatch")
        .withArgs(other.rootId, receivableId);
    });

    it("refuses a retired parent in the batch", async function () {
      const { w, receivableId, leaves, rootId, parentId } = await threeTierTree();
      await w.escrow.connect(w.debtor).repay(receivableId, 1_000n);

      await expect(w.escrow.settle(receivableId, [leaves[0]!, parentId]))
        .to.be.revertedWithCustomError(w.certificates, "CertificateWrongState")
        .withArgs(parentId, RETIRED);
      await expect(w.escrow.settle(receivableId, [rootId]))
        .to.be.revertedWithCustomError(w.certificates, "CertificateWrongState")
        .withArgs(rootId, RETIRED);
      expect(await w.escrow.distributedOf(receivableId)).to.equal(0n);
    });

    it("refuses a certificate that was never issued", async function () {
      const { w, receivableId } = await threeTierTree();
      const missing = await w.certificates.nextCertificateId();
      await expect(w.escrow.settle(receivableId, [missing]))
        .to.be.revertedWithCustomError(w.certificates, "CertificateNotFound")
        .withArgs(missing);
    });

    it("refuses an unknown receivable", async function () {
      const { w, leaves } = await threeTierTree();
      const unknown = ethers.id("no such receivable");
      await expect(w.escrow.settle(unknown, leaves))
        .to.be.revertedWithCustomError(w.registry, "ReceivableNotFound")
        .withArgs(unknown);
    });
  });

  describe("when a receivable has 60 leaves", function () {
    // Leaf i (0-based) has face i + 1: tier 2 holds leaves 1..30, tier 3 leaves 31..60.
    async function sixtyLeaves() {
      const w = await networkHelpers.loadFixture(world);
      const faces = Array.from({ length: 60 }, (_, i) => BigInt(i + 1));
      const face = faces.reduce((a, b) => a + b, 0n); // 1830
      const { receivableId, rootId } = await registerReceivable(w, face);
      const [forTier2, forTier3] = await splitCertificate(w, w.tier1, rootId, [
        { to: w.tier2, amount: 465n },
        { to: w.tier3, amount: 1_365n },
      ]);
      const low = await splitCertificate(
        w,
        w.tier2,
        forTier2!,
        faces.slice(0, 30).map((amount) => ({ to: w.tier2, amount })),
      );
      const high = await splitCertificate(
        w,
        w.tier3,
        forTier3!,
        faces.slice(30).map((amount) => ({ to: w.tier3, amount })),
      );
      const leaves = [...low, ...high];
      expect(await w.certificates.leafCountOf(receivableId)).to.equal(60n);
      await w.escrow.connect(w.debtor).repay(receivableId, face);
      return { w, receivableId, leaves, faces, face };
    }

    it("refuses all 60 in one batch", async function () {
      const { w, receivableId, leaves } = await sixtyLeaves();
      await expect(w.escrow.settle(receivableId, leaves))
        .to.be.revertedWithCustomError(w.escrow, "SettlementBatchSize")
        .withArgs(60n, 50n);
    });

    it("settles them in two batches of 30", async function () {
      const { w, receivableId, leaves, face } = await sixtyLeaves();
      const before = await balances(w);

      await w.escrow.settle(receivableId, leaves.slice(0, 30));
      expect(await w.escrow.finalizedLeavesOf(receivableId)).to.equal(30n);
      await w.escrow.settle(receivableId, leaves.slice(30));

      expect(await gains(w, before)).to.deep.equal([0n, 465n, 1_365n]);
      expect(await w.escrow.finalizedLeavesOf(receivableId)).to.equal(60n);
      expect(await w.escrow.distributedOf(receivableId)).to.equal(face);
      expect(await w.token.balanceOf(await w.escrow.getAddress())).to.equal(0n);
      await expectSolvent(w, [receivableId]);
    });

    it("never pays a leaf twice, however the batches overlap", async function () {
      const { w, receivableId, leaves, faces, face } = await sixtyLeaves();
      const batches = [
        leaves.slice(0, 30),
        leaves.slice(20, 50), // 10 already settled, 20 new
        [...leaves.slice(50), ...leaves.slice(0, 10)], // 10 new, 10 already settled
      ];
      const paidTo = new Map<bigint, bigint[]>();
      for (const batch of batches) {
        const tx = await w.escrow.settle(receivableId, batch);
        for (const leaf of await leafSettlements(w, tx)) {
          paidTo.set(leaf.certificateId, [...(paidTo.get(leaf.certificateId) ?? []), leaf.toHolder]);
        }
      }

      expect(paidTo.size).to.equal(60);
      leaves.forEach((leaf, i) => expect(paidTo.get(leaf)).to.deep.equal([faces[i]!]));
      await expect(w.escrow.settle(receivableId, leaves.slice(10, 60)))
        .to.be.revertedWithCustomError(w.escrow, "SettlementNothingDue")
        .withArgs(receivableId);
      expect(await w.escrow.distributedOf(receivableId)).to.equal(face);
      await expectSolvent(w, [receivableId]);
    });
  });

  describe("when the receivable defaults after a partial repayment", function () {
    // Face 10 split 3 (tier 2) / 3 (tier 3) / 4 (tier 1); the debtor pays 5 and defaults.
    // Shares: floor(5*3/10) = 1, 1, floor(5*4/10) = 2 -> 4 paid out, dust 1.
    async function defaulted(settleBeforeDefault: boolean) {
      const w = await networkHelpers.loadFixture(world);
      const { receivableId, rootId, terms } = await registerReceivable(w, 10n);
      const leaves = await splitCertificate(w, w.tier1, rootId, [
        { to: w.tier2, amount: 3n },
        { to: w.tier3, amount: 3n },
        { to: w.tier1, amount: 4n },
      ]);
      await w.escrow.connect(w.debtor).repay(receivableId, 5n);
      if (settleBeforeDefault) await w.escrow.settle(receivableId, leaves);
      await time.increaseTo(terms.dueDate + (await w.registry.gracePeriod()) + 1n);
      await w.registry.markDefaulted(receivableId);
      return { w, receivableId, leaves };
    }

    // Deliberately changed (trust model, item 5): a defaulted receivable may still be paid late,
    // so its leaves are paid what came in so far and stay open; dust is final only once repaid.
    it("distributes what was paid before the default and keeps every leaf open for late payment", async function () {
      const { w, receivableId, leaves } = await defaulted(false);
      const before = await balances(w);

      await w.escrow.settle(receivableId, leaves);

      expect(await gains(w, before)).to.deep.equal([2n, 1n, 1n]);
      expect(await w.escrow.finalizedLeavesOf(receivableId)).to.equal(0n);
      expect(await w.escrow.distributedOf(receivableId)).to.equal(4n);
      // Not paid in full: the claims stay with their holders.
      for (const leaf of leaves) expect((await w.certificates.certificateOf(leaf)).state).to.equal(LIVE);
      await expectSolvent(w, [receivableId]);
    });

    it("has nothing more to pay leaves already paid their share", async function () {
      const { w, receivableId, leaves } = await defaulted(true);
      await expect(w.escrow.settle(receivableId, leaves))
        .to.be.revertedWithCustomError(w.escrow, "SettlementNothingDue")
        .withArgs(receivableId);
    });

    it("refuses to sweep dust while a late payment may still come", async function () {
      const { w, receivableId } = await defaulted(true);
      await expect(w.escrow.sweepDust(receivableId))
        .to.be.revertedWithCustomError(w.registry, "ReceivableWrongStatus")
        .withArgs(receivableId, 3n);
    });

    it("pays a late payment to the holders and closes every leaf once repaid in full", async function () {
      const { w, receivableId, leaves } = await defaulted(true);
      const before = await balances(w);

      await w.escrow.connect(w.debtor).repay(receivableId, 5n);
      await w.escrow.settle(receivableId, leaves);

      // Shares are exact at face: 4, 3, 3 in all, of which 2, 1, 1 were paid before the default.
      expect(await gains(w, before)).to.deep.equal([2n, 2n, 2n]);
      expect(await w.escrow.finalizedLeavesOf(receivableId)).to.equal(3n);
      expect(await w.escrow.distributedOf(receivableId)).to.equal(10n);
      for (const leaf of leaves) expect((await w.certificates.certificateOf(leaf)).state).to.equal(4n); // Settled
      await expectSolvent(w, [receivableId]);
    });
  });

  describe("when the receivable is still active", function () {
    it("refuses to sweep dust", async function () {
      const { w, receivableId, leaves } = await threeTierTree();
      await w.escrow.connect(w.debtor).repay(receivableId, 333n);
      await w.escrow.settle(receivableId, leaves);

      await expect(w.escrow.sweepDust(receivableId))
        .to.be.revertedWithCustomError(w.registry, "ReceivableWrongStatus")
        .withArgs(receivableId, ACTIVE);
    });
  });
});
