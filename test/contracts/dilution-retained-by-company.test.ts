// The seller's retained pieces are its company's, not one address's (issue 16, review F2): a
// credit note's first loss falls on every leaf held by an address registered under the seller's
// legal id, whether the seller kept it at an alias when it split, moved it to an alias while the
// note was pending, or moved it to an alias added between two chunks of a wide tree's tally.
import { expect } from "chai";
import { network } from "hardhat";
import { id } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { deployWorld, MILLION, registerAliasOf, type TierlineWorld } from "../helpers/fixture.js";
import { registerReceivable, splitCertificate } from "../helpers/lifecycle.js";
import { leavesOf, signCreditNoteConsent } from "../helpers/dilution.js";

const { ethers, networkHelpers } = await network.create();

const FACE = 1_000n * MILLION;
const RETURN = id("RETURN");
const DOCS = id("credit note CN-ALIAS");
const SELLER_APPROVED = 0n;

/** A world in which tier1 (the seller) has a second address, `alias`, under its legal id. */
async function worldWithSellerAlias() {
  const w = await deployWorld(ethers);
  const alias = (await ethers.getSigners())[14]!;
  await registerAliasOf(w, w.tier1, alias.address);
  return { ...w, alias };
}
type AliasWorld = Awaited<ReturnType<typeof worldWithSellerAlias>>;

/** 1,000 tUSD split by tier1 into 300 to `keeper` (an address of its own) and 700 to tier2. */
async function treeKeptAt(w: AliasWorld, keeper: HardhatEthersSigner) {
  const registered = await registerReceivable(w, FACE);
  const [kept, sold] = await splitCertificate(w, w.tier1, registered.rootId, [
    { to: keeper, amount: 300n * MILLION },
    { to: w.tier2, amount: 700n * MILLION },
  ]);
  return { ...registered, kept: kept!, sold: sold! };
}

async function propose(w: TierlineWorld, receivableId: string, amount: bigint): Promise<bigint> {
  await w.dilution.connect(w.debtor).proposeCreditNote(receivableId, amount, RETURN, DOCS);
  return w.dilution.creditNoteCount();
}

async function approveBySeller(w: TierlineWorld, creditNoteId: bigint, leafIds: bigint[]) {
  const deadline = BigInt(await networkHelpers.time.latest()) + 3_600n;
  const consent = await signCreditNoteConsent(w, w.tier1, creditNoteId, deadline);
  return w.dilution.connect(w.outsider).applyWithSellerConsent(creditNoteId, consent, leafIds);
}

describe("the seller's retained pieces, by company", function () {
  describe("when the seller kept its piece at an alias when it split", function () {
    it("cuts the alias's piece first and leaves the sold piece whole", async function () {
      const w = await networkHelpers.loadFixture(worldWithSellerAlias);
      const tree = await treeKeptAt(w, w.alias);
      const creditNoteId = await propose(w, tree.receivableId, 300n * MILLION);

      const tx = approveBySeller(w, creditNoteId, await leavesOf(w, tree.receivableId));
      await expect(tx)
        .to.emit(w.dilution, "LeafDiluted")
        .withArgs(tree.kept, tree.receivableId, w.alias.address, creditNoteId, 300n * MILLION, 0n, true);
      await expect(tx)
        .to.emit(w.dilution, "CreditNoteApplied")
        .withArgs(creditNoteId, tree.receivableId, SELLER_APPROVED, 300n * MILLION, 300n * MILLION, 0n, 300n * MILLION);
      expect(await w.dilution.reductionOf(tree.sold)).to.equal(0n);
      expect(await w.dilution.lossOf(tree.kept, w.alias.address)).to.equal(300n * MILLION);
    });

    it("shares only what the company's pieces cannot absorb", async function () {
      const w = await networkHelpers.loadFixture(worldWithSellerAlias);
      const tree = await treeKeptAt(w, w.alias);
      const creditNoteId = await propose(w, tree.receivableId, 370n * MILLION);

      await approveBySeller(w, creditNoteId, await leavesOf(w, tree.receivableId));
      expect(await w.dilution.reductionOf(tree.kept)).to.equal(300n * MILLION);
      expect(await w.dilution.reductionOf(tree.sold)).to.equal(70n * MILLION);
    });
  });

  describe("when the seller moves its kept piece to an alias while the note is pending", function () {
    it("still cuts that piece first, its new holder bearing the loss", async function () {
      const w = await networkHelpers.loadFixture(worldWithSellerAlias);
      const tree = await treeKeptAt(w, w.tier1);
      const creditNoteId = await propose(w, tree.receivableId, 300n * MILLION);
      await w.certificates.connect(w.tier1).transferFrom(w.tier1.address, w.alias.address, tree.kept);

      await expect(approveBySeller(w, creditNoteId, await leavesOf(w, tree.receivableId)))
        .to.emit(w.dilution, "LeafDiluted")
        .withArgs(tree.kept, tree.receivableId, w.alias.address, creditNoteId, 300n * MILLION, 0n, true);
      expect(await w.dilution.reductionOf(tree.sold)).to.equal(0n);
      expect(await w.dilution.lossOf(tree.kept, w.alias.address)).to.equal(300n * MILLION);
      expect(await w.dilution.lossOf(tree.kept, w.tier1.address)).to.equal(0n);
    });

    it("still cuts it first when the alias was registered after the proposal", async function () {
      const w = await networkHelpers.loadFixture(worldWithSellerAlias);
      const tree = await treeKeptAt(w, w.tier1);
      const creditNoteId = await propose(w, tree.receivableId, 300n * MILLION);
      const lateAlias = (await ethers.getSigners())[13]!;
      await registerAliasOf(w, w.tier1, lateAlias.address, 2n);
      await w.certificates.connect(w.tier1).transferFrom(w.tier1.address, lateAlias.address, tree.kept);

      await approveBySeller(w, creditNoteId, await leavesOf(w, tree.receivableId));
      expect(await w.dilution.reductionOf(tree.kept)).to.equal(300n * MILLION);
      expect(await w.dilution.reductionOf(tree.sold)).to.equal(0n);
    });
  });

  describe("when the kept piece goes to another company", function () {
    it("shares the note pro rata: a sale to an outsider is not the seller's", async function () {
      const w = await networkHelpers.loadFixture(worldWithSellerAlias);
      const tree = await treeKeptAt(w, w.tier1);
      const creditNoteId = await propose(w, tree.receivableId, 300n * MILLION);
      await w.certificates.connect(w.tier1).transferFrom(w.tier1.address, w.tier3.address, tree.kept);

      await approveBySeller(w, creditNoteId, await leavesOf(w, tree.receivableId));
      expect(await w.dilution.reductionOf(tree.kept)).to.equal(90n * MILLION);
      expect(await w.dilution.reductionOf(tree.sold)).to.equal(210n * MILLION);
    });
  });

  describe("over a tree wider than MAX_DILUTION_LEAVES", function () {
    const PIECES = 5;
    const PARTS = 30; // 150 leaves

    /**
     * 150 leaves of 1,000 tUSD each under tier1's receivable, every fifth one kept by tier1, the
     * others sold to tier2 and tier3; tier1 has no alias yet (so the ledger's no-alias shortcut
     * is what the first tally chunk takes).
     */
    async function wideTree() {
      const w = await deployWorld(ethers);
      const leafFace = 1_000n * MILLION;
      const registered = await registerReceivable(w, leafFace * BigInt(PIECES * PARTS));
      const pieces = await splitCertificate(
        w,
        w.tier1,
        registered.rootId,
        Array.from({ length: PIECES }, () => ({ to: w.tier1, amount: leafFace * BigInt(PARTS) })),
      );
      let n = 0;
      for (const piece of pieces) {
        const parts = Array.from({ length: PARTS }, () => {
          const to = n % 5 === 0 ? w.tier1 : n % 2 ? w.tier2 : w.tier3;
          n++;
          return { to, amount: leafFace };
        });
        await splitCertificate(w, w.tier1, piece, parts);
      }
      const leaves = await leavesOf(w, registered.receivableId);
      return { ...w, ...registered, leaves, leafFace };
    }

    it("counts a kept leaf moved to an alias added between two tally chunks as retained", async function () {
      const w = await networkHelpers.loadFixture(wideTree);
      expect(w.leaves.length).to.equal(PIECES * PARTS);
      const kept: bigint[] = [];
      for (const leaf of w.leaves) if ((await w.certificates.ownerOf(leaf)) === w.tier1.address) kept.push(leaf);
      const late = kept.find((leaf) => w.leaves.indexOf(leaf) >= 128)!;
      const creditNoteId = await propose(w, w.receivableId, w.leafFace * BigInt(kept.length));
      await approveBySeller(w, creditNoteId, []);

      await w.dilution.connect(w.outsider).continueCreditNote(creditNoteId, w.leaves.slice(0, 128));
      const alias = (await ethers.getSigners())[14]!;
      await registerAliasOf(w, w.tier1, alias.address);
      await w.certificates.connect(w.tier1).transferFrom(w.tier1.address, alias.address, late);
      const retainedSum = w.leafFace * BigInt(kept.length);
      await expect(w.dilution.connect(w.outsider).continueCreditNote(creditNoteId, w.leaves.slice(128)))
        .to.emit(w.dilution, "CreditNoteTallied")
        .withArgs(creditNoteId, retainedSum, 0n, w.leafFace * BigInt(w.leaves.length) - retainedSum);

      await w.dilution.connect(w.outsider).continueCreditNote(creditNoteId, w.leaves.slice(0, 128));
      await w.dilution.connect(w.outsider).continueCreditNote(creditNoteId, w.leaves.slice(128));
      for (const leaf of w.leaves) {
        expect(await w.dilution.reductionOf(leaf)).to.equal(kept.includes(leaf) ? w.leafFace : 0n);
      }
      expect(await w.dilution.lossOf(late, alias.address)).to.equal(w.leafFace);
    });
  });
});
