// A credit note over a certificate tree wider than MAX_DILUTION_LEAVES (issue 16): approved with
// an empty leaf list (the credit is recorded at once, the note goes Applying), then cut by
// permissionless continueCreditNote chunks, a tally pass and a cut pass, to exactly what the
// documented rule says (checked against a TypeScript model of it), with conservation; and what
// waits meanwhile (settlement, recourse claims, splits, further notes).
import { expect } from "chai";
import { network } from "hardhat";
import { id } from "ethers";
import { asAdmin, deployWorld, DAY, MILLION } from "../helpers/fixture.js";
import { fundRequest, registerReceivable, splitCertificate } from "../helpers/lifecycle.js";
import { leavesOf, signCreditNoteConsent } from "../helpers/dilution.js";
import { CertificateState, CreditNoteStatus, FinancingKind } from "../../server/model/contract-enums.js";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";

const { ethers, networkHelpers } = await network.create();

const PIECES = 10;
const PARTS = 30; // 10 x 30 = 300 leaves
const FACE = 3_000_000n * MILLION;
const RETURN = id("RETURN");
const DOCS = id("credit note CN-WIDE");
const SELLER_APPROVED = 0n;
const ARBITER_APPROVED = 1n;
const TALLYING = 1n;
const CUTTING = 2n;

/**
 * A receivable of 3,000,000 tUSD that tier1 (its seller) split into 10 pieces of its own, each
 * then split into 30 leaves of uneven sizes: every fifth leaf kept by tier1 (retained), the
 * others to tier2, tier3 and the financier in turn. Two retained leaves are locked: one listed
 * for discount sale, one pledged to the financier (funded). 300 leaves in all.
 */
async function worldWithWideTree() {
  const w = await deployWorld(ethers);
  const registered = await registerReceivable(w, FACE);
  const pieceFace = FACE / BigInt(PIECES);
  const pieces = await splitCertificate(
    w,
    w.tier1,
    registered.rootId,
    Array.from({ length: PIECES }, () => ({ to: w.tier1, amount: pieceFace })),
  );
  const others = [w.tier2, w.tier3, w.financier];
  let n = 0;
  for (const piece of pieces) {
    let left = pieceFace;
    const parts: Array<{ to: HardhatEthersSigner; amount: bigint }> = [];
    for (let j = 0; j < PARTS; j++) {
      // Uneven sizes (a prime step) so that the pro rata shares do not divide evenly.
      const amount = j === PARTS - 1 ? left : 7_000n * MILLION + BigInt(((n * 7_919) % 3_001) * 1_000_003);
      left -= amount;
      parts.push({ to: n % 5 === 0 ? w.tier1 : others[n % 3]!, amount });
      n++;
    }
    await splitCertificate(w, w.tier1, piece, parts);
  }
  const leaves = await leavesOf(w, registered.receivableId);
  const retained: bigint[] = [];
  for (const leaf of leaves) if ((await w.certificates.ownerOf(leaf)) === w.tier1.address) retained.push(leaf);
  // Two retained leaves locked: one listed for sale, one pledged (funded) to the financier.
  const listed = retained[3]!;
  const pledged = retained[7]!;
  await w.financing.connect(w.tier1).openRequest(listed, FinancingKind.discount, 1_000n * MILLION, 0n);
  const pledgedFace = (await w.certificates.certificateOf(pledged)).faceValue;
  await w.financing.connect(w.tier1).openRequest(pledged, FinancingKind.pledge, pledgedFace / 2n, pledgedFace - 1n);
  await fundRequest(w, w.financier, await w.financing.requestCount(), pledgedFace / 2n, pledgedFace - 1n);
  return { ...w, ...registered, leaves, retained, listed, pledged };
}
type WideTree = Awaited<ReturnType<typeof worldWithWideTree>>;

async function now(): Promise<bigint> {
  return BigInt(await networkHelpers.time.latest());
}

async function propose(w: WideTree, amount: bigint): Promise<bigint> {
  await w.dilution.connect(w.debtor).proposeCreditNote(w.receivableId, amount, RETURN, DOCS);
  return w.dilution.creditNoteCount();
}

async function approveBySeller(w: WideTree, creditNoteId: bigint, leafIds: bigint[] = []) {
  const consent = await signCreditNoteConsent(w, w.tier1, creditNoteId, (await now()) + 3_600n);
  return w.dilution.connect(w.outsider).applyWithSellerConsent(creditNoteId, consent, leafIds);
}

interface LeafState {
  id: bigint;
  claim: bigint;
  retained: boolean;
  locked: boolean;
}

async function statesOf(w: WideTree): Promise<LeafState[]> {
  return Promise.all(
    w.leaves.map(async (leaf) => ({
      id: leaf,
      claim: await w.dilution.claimOf(leaf),
      retained: (await w.certificates.ownerOf(leaf)) === w.tier1.address,
      locked: (await w.certificates.certificateOf(leaf)).state === CertificateState.locked,
    })),
  );
}

/**
 * The documented rule, written again from its description (IDilutionLedger): retained unlocked
 * leaves absorb first, then retained pledged ones, each in ascending id order down to zero; the
 * rest is shared over the other leaves by cumulative rounding in ascending id order.
 */
function modelCuts(leaves: LeafState[], amount: bigint) {
  const sorted = [...leaves].sort((a, b) => (a.id < b.id ? -1 : 1));
  const cuts = new Map<bigint, bigint>();
  let left = amount;
  for (const locked of [false, true]) {
    for (const leaf of sorted) {
      if (!leaf.retained || leaf.locked !== locked) continue;
      const cut = leaf.claim < left ? leaf.claim : left;
      cuts.set(leaf.id, cut);
      left -= cut;
    }
  }
  const others = sorted.filter((leaf) => !leaf.retained);
  const pool = others.reduce((sum, leaf) => sum + leaf.claim, 0n);
  let seen = 0n;
  let given = 0n;
  for (const leaf of others) {
    seen += leaf.claim;
    const total = pool === 0n ? 0n : (left * seen) / pool;
    cuts.set(leaf.id, total - given);
    given = total;
  }
  const sum = (filter: (leaf: LeafState) => boolean) =>
    sorted.filter(filter).reduce((total, leaf) => total + leaf.claim, 0n);
  return {
    cuts,
    shared: left,
    retainedUnlocked: sum((leaf) => leaf.retained && !leaf.locked),
    retainedLocked: sum((leaf) => leaf.retained && leaf.locked),
    pool,
  };
}

/** Drives both passes in chunks of `size` (the keeper's job); returns the last transaction. */
async function applyInChunks(w: WideTree, creditNoteId: bigint, size = 128) {
  let last;
  for (;;) {
    const note = await w.dilution.creditNoteOf(creditNoteId);
    if (note.status !== CreditNoteStatus.applying) return last;
    const [, processed] = await w.dilution.applicationOf(creditNoteId);
    const chunk = w.leaves.slice(Number(processed), Number(processed) + size);
    last = await w.dilution.connect(w.outsider).continueCreditNote(creditNoteId, chunk);
  }
}

async function tallyAll(w: WideTree, creditNoteId: bigint, size = 128) {
  for (let start = 0; start < w.leaves.length; start += size) {
    await w.dilution.connect(w.outsider).continueCreditNote(creditNoteId, w.leaves.slice(start, start + size));
  }
}

const sumOf = (values: bigint[]) => values.reduce((a, b) => a + b, 0n);

describe("a credit note over a tree wider than MAX_DILUTION_LEAVES", function () {
  // Beyond the retained pieces: the retained leaves are used up, the rest is shared.
  const AMOUNT = 900_000n * MILLION + 12_345n;

  describe("when the seller approves it", function () {
    it("records the credit at once and leaves the note Applying, the dispute open", async function () {
      const w = await networkHelpers.loadFixture(worldWithWideTree);
      expect(w.leaves.length).to.equal(300);
      const creditNoteId = await propose(w, AMOUNT);
      const tx = approveBySeller(w, creditNoteId);
      await expect(tx)
        .to.emit(w.dilution, "CreditNoteApplying")
        .withArgs(creditNoteId, w.receivableId, SELLER_APPROVED, 300n);
      await expect(tx).to.emit(w.registry, "CreditRecorded").withArgs(w.receivableId, AMOUNT, AMOUNT);
      await expect(tx).not.to.emit(w.dilution, "CreditNoteApplied");
      expect((await w.dilution.creditNoteOf(creditNoteId)).status).to.equal(CreditNoteStatus.applying);
      expect(await w.registry.creditedOf(w.receivableId)).to.equal(AMOUNT);
      expect(await w.dilution.isDisputed(w.receivableId)).to.equal(true);
      expect(await w.dilution.applyingCreditNoteOf(w.receivableId)).to.equal(creditNoteId);
      expect(await w.dilution.applicationOf(creditNoteId)).to.deep.equal([TALLYING, 0n, 300n, 0n]);
      // Nothing is cut yet.
      expect(await w.dilution.claimOf(w.retained[0]!)).to.equal(
        (await w.certificates.certificateOf(w.retained[0]!)).faceValue,
      );
    });

    it("cuts every leaf exactly as the rule says, keeping conservation, in two passes of chunks", async function () {
      const w = await networkHelpers.loadFixture(worldWithWideTree);
      const before = await statesOf(w);
      const model = modelCuts(before, AMOUNT);
      expect(model.retainedLocked).to.be.greaterThan(0n);
      expect(model.shared).to.be.greaterThan(0n);
      const creditNoteId = await propose(w, AMOUNT);
      await approveBySeller(w, creditNoteId);

      // Tally: 128 + 128 + 44.
      await w.dilution.connect(w.outsider).continueCreditNote(creditNoteId, w.leaves.slice(0, 128));
      expect(await w.dilution.applicationOf(creditNoteId)).to.deep.equal([TALLYING, 128n, 300n, w.leaves[127]!]);
      await w.dilution.connect(w.outsider).continueCreditNote(creditNoteId, w.leaves.slice(128, 256));
      await expect(w.dilution.connect(w.outsider).continueCreditNote(creditNoteId, w.leaves.slice(256)))
        .to.emit(w.dilution, "CreditNoteTallied")
        .withArgs(creditNoteId, model.retainedUnlocked, model.retainedLocked, model.pool);
      expect(await w.dilution.applicationOf(creditNoteId)).to.deep.equal([CUTTING, 0n, 300n, 0n]);
      // Nothing is cut by the tally.
      expect((await statesOf(w)).map((leaf) => leaf.claim)).to.deep.equal(before.map((leaf) => leaf.claim));

      // Cut: the same chunks.
      const first = w.dilution.connect(w.outsider).continueCreditNote(creditNoteId, w.leaves.slice(0, 128));
      await expect(first)
        .to.emit(w.dilution, "LeafDiluted")
        .withArgs(w.retained[0]!, w.receivableId, w.tier1.address, creditNoteId, before[0]!.claim, 0n, true);
      await w.dilution.connect(w.outsider).continueCreditNote(creditNoteId, w.leaves.slice(128, 256));
      const last = w.dilution.connect(w.outsider).continueCreditNote(creditNoteId, w.leaves.slice(256));
      await expect(last).to.emit(w.dilution, "DisputeResolved").withArgs(w.receivableId, creditNoteId);
      await expect(last)
        .to.emit(w.dilution, "CreditNoteApplied")
        .withArgs(creditNoteId, w.receivableId, SELLER_APPROVED, AMOUNT, AMOUNT - model.shared, model.shared, AMOUNT);

      const after = await statesOf(w);
      for (const [i, leaf] of after.entries()) {
        const cut = before[i]!.claim - leaf.claim;
        expect(cut, `leaf ${leaf.id}`).to.equal(model.cuts.get(leaf.id));
        expect(cut <= before[i]!.claim).to.equal(true);
      }
      expect(sumOf(after.map((leaf) => leaf.claim))).to.equal(FACE - AMOUNT);
      expect((await w.dilution.creditNoteOf(creditNoteId)).status).to.equal(CreditNoteStatus.applied);
      expect(await w.dilution.isDisputed(w.receivableId)).to.equal(false);
      expect(await w.dilution.applyingCreditNoteOf(w.receivableId)).to.equal(0n);
      expect(await w.dilution.applicationOf(creditNoteId)).to.deep.equal([0n, 0n, 0n, 0n]);
      // The pledged retained leaf was cut to zero: its pledgee's shortfall is reported.
      expect(await w.dilution.claimOf(w.pledged)).to.equal(0n);
      expect(await w.dilution.collateralShortfallOf(w.pledged)).to.be.greaterThan(0n);
      // Each other holder's loss is recorded against it.
      const other = after.find((leaf) => !leaf.retained)!;
      const holder = await w.certificates.ownerOf(other.id);
      expect(await w.dilution.lossOf(other.id, holder)).to.equal(model.cuts.get(other.id));
    });

    it("reports the pledge shortfall of a pledged retained leaf", async function () {
      const w = await networkHelpers.loadFixture(worldWithWideTree);
      const creditNoteId = await propose(w, AMOUNT);
      await approveBySeller(w, creditNoteId);
      await tallyAll(w, creditNoteId);
      const [requestId, pledgee, outstanding] = await w.financing.pledgeOf(w.pledged);
      await expect(w.dilution.connect(w.outsider).continueCreditNote(creditNoteId, w.leaves.slice(0, 128)))
        .to.emit(w.dilution, "PledgeCollateralShortfall")
        .withArgs(w.pledged, requestId, pledgee, outstanding, 0n);
    });

    it("cuts within the retained pieces only when the credit fits in them (any chunk size)", async function () {
      const w = await networkHelpers.loadFixture(worldWithWideTree);
      const before = await statesOf(w);
      const small = 10_000n * MILLION + 7n;
      const model = modelCuts(before, small);
      expect(model.shared).to.equal(0n);
      const creditNoteId = await propose(w, small);
      await approveBySeller(w, creditNoteId);
      const last = applyInChunks(w, creditNoteId, 37);
      await expect(last)
        .to.emit(w.dilution, "CreditNoteApplied")
        .withArgs(creditNoteId, w.receivableId, SELLER_APPROVED, small, small, 0n, small);
      const after = await statesOf(w);
      for (const [i, leaf] of after.entries()) expect(before[i]!.claim - leaf.claim).to.equal(model.cuts.get(leaf.id));
      expect(sumOf(after.map((leaf) => leaf.claim))).to.equal(FACE - small);
    });
  });

  describe("when the arbiter (the timelock) approves it after the seller's response period", function () {
    it("goes Applying with an empty list and ends Applied by the same rule", async function () {
      const w = await networkHelpers.loadFixture(worldWithWideTree);
      const before = await statesOf(w);
      const model = modelCuts(before, AMOUNT);
      const creditNoteId = await propose(w, AMOUNT);
      await networkHelpers.time.increase(7n * DAY + 1n);
      await expect(asAdmin(w, w.dilution, "decideCreditNote", [creditNoteId, true, []]))
        .to.emit(w.dilution, "CreditNoteApplying")
        .withArgs(creditNoteId, w.receivableId, ARBITER_APPROVED, 300n);
      await expect(applyInChunks(w, creditNoteId, 100))
        .to.emit(w.dilution, "CreditNoteApplied")
        .withArgs(creditNoteId, w.receivableId, ARBITER_APPROVED, AMOUNT, AMOUNT - model.shared, model.shared, AMOUNT);
      const after = await statesOf(w);
      for (const [i, leaf] of after.entries()) expect(before[i]!.claim - leaf.claim).to.equal(model.cuts.get(leaf.id));
      expect(sumOf(after.map((leaf) => leaf.claim))).to.equal(FACE - AMOUNT);
    });
  });

  describe("when a retained leaf changes hands between the tally and the cut", function () {
    it("cuts it as tallied (retained), the new holder bearing the loss, and changes no other cut", async function () {
      const w = await networkHelpers.loadFixture(worldWithWideTree);
      const before = await statesOf(w);
      const model = modelCuts(before, AMOUNT);
      const moved = w.retained[1]!;
      expect(model.cuts.get(moved)).to.be.greaterThan(0n);
      const creditNoteId = await propose(w, AMOUNT);
      await approveBySeller(w, creditNoteId);
      await tallyAll(w, creditNoteId);
      await w.certificates.connect(w.tier1).transferFrom(w.tier1.address, w.tier2.address, moved);

      await expect(w.dilution.connect(w.outsider).continueCreditNote(creditNoteId, w.leaves.slice(0, 128)))
        .to.emit(w.dilution, "LeafDiluted")
        .withArgs(moved, w.receivableId, w.tier2.address, creditNoteId, model.cuts.get(moved)!, 0n, true);
      await applyInChunks(w, creditNoteId);
      const after = await statesOf(w);
      for (const [i, leaf] of after.entries()) expect(before[i]!.claim - leaf.claim).to.equal(model.cuts.get(leaf.id));
      expect(await w.dilution.lossOf(moved, w.tier2.address)).to.equal(model.cuts.get(moved));
      expect(await w.dilution.lossOf(moved, w.tier1.address)).to.equal(0n);
    });
  });

  describe("refusals", function () {
    it("refuses a non-empty leaf list at the approval of a wide tree", async function () {
      const w = await networkHelpers.loadFixture(worldWithWideTree);
      const creditNoteId = await propose(w, AMOUNT);
      await expect(approveBySeller(w, creditNoteId, w.leaves))
        .to.be.revertedWithCustomError(w.dilution, "DilutionLeafCount")
        .withArgs(w.receivableId, 300n, 300n, 128n);
      await expect(approveBySeller(w, creditNoteId, w.leaves.slice(0, 128)))
        .to.be.revertedWithCustomError(w.dilution, "DilutionLeafCount")
        .withArgs(w.receivableId, 128n, 300n, 128n);
    });

    it("refuses to continue a note that is not Applying", async function () {
      const w = await networkHelpers.loadFixture(worldWithWideTree);
      const creditNoteId = await propose(w, AMOUNT);
      await expect(w.dilution.continueCreditNote(creditNoteId, w.leaves.slice(0, 1)))
        .to.be.revertedWithCustomError(w.dilution, "CreditNoteNotApplying")
        .withArgs(creditNoteId, CreditNoteStatus.proposed);
      await approveBySeller(w, creditNoteId);
      await applyInChunks(w, creditNoteId);
      await expect(w.dilution.continueCreditNote(creditNoteId, w.leaves.slice(0, 1)))
        .to.be.revertedWithCustomError(w.dilution, "CreditNoteNotApplying")
        .withArgs(creditNoteId, CreditNoteStatus.applied);
      await expect(w.dilution.continueCreditNote(99n, w.leaves.slice(0, 1)))
        .to.be.revertedWithCustomError(w.dilution, "CreditNoteNotApplying")
        .withArgs(99n, CreditNoteStatus.none);
    });

    it("refuses a chunk above the maximum, an empty one, and one beyond the leaf count", async function () {
      const w = await networkHelpers.loadFixture(worldWithWideTree);
      const creditNoteId = await propose(w, AMOUNT);
      await approveBySeller(w, creditNoteId);
      await expect(w.dilution.continueCreditNote(creditNoteId, w.leaves.slice(0, 129)))
        .to.be.revertedWithCustomError(w.dilution, "DilutionChunkSize")
        .withArgs(129n, 128n);
      await expect(w.dilution.continueCreditNote(creditNoteId, []))
        .to.be.revertedWithCustomError(w.dilution, "DilutionChunkSize")
        .withArgs(0n, 128n);
      await tallyAll(w, creditNoteId, 128);
      await w.dilution.continueCreditNote(creditNoteId, w.leaves.slice(0, 128));
      await w.dilution.continueCreditNote(creditNoteId, w.leaves.slice(128, 256));
      await expect(w.dilution.continueCreditNote(creditNoteId, [...w.leaves.slice(256), w.leaves[0]!]))
        .to.be.revertedWithCustomError(w.dilution, "DilutionChunkSize")
        .withArgs(45n, 44n);
    });

    it("refuses ids out of order, a repeated chunk and a foreign id", async function () {
      const w = await networkHelpers.loadFixture(worldWithWideTree);
      const creditNoteId = await propose(w, AMOUNT);
      await approveBySeller(w, creditNoteId);
      await expect(w.dilution.continueCreditNote(creditNoteId, [w.leaves[1]!, w.leaves[0]!]))
        .to.be.revertedWithCustomError(w.dilution, "DilutionLeavesNotSorted")
        .withArgs(w.leaves[0]!);
      await w.dilution.continueCreditNote(creditNoteId, w.leaves.slice(0, 10));
      // The same chunk again (a keeper that crashed after sending it): refused on the cursor.
      await expect(w.dilution.continueCreditNote(creditNoteId, w.leaves.slice(0, 10)))
        .to.be.revertedWithCustomError(w.dilution, "DilutionLeavesNotSorted")
        .withArgs(w.leaves[0]!);
      const foreign = await registerReceivable(w, 1_000n * MILLION, { invoiceNumber: "INV-FOREIGN" });
      const beyond = foreign.rootId; // issued after every leaf of the wide tree
      await expect(w.dilution.continueCreditNote(creditNoteId, [w.leaves[10]!, beyond]))
        .to.be.revertedWithCustomError(w.dilution, "DilutionNotALeaf")
        .withArgs(beyond, w.receivableId);
    });

    it("refuses a retired parent of the tree as a leaf", async function () {
      const w = await networkHelpers.loadFixture(worldWithWideTree);
      const creditNoteId = await propose(w, AMOUNT);
      await approveBySeller(w, creditNoteId);
      const piece = w.rootId + 1n; // one of the ten pieces, split in turn
      expect((await w.certificates.certificateOf(piece)).state).to.equal(CertificateState.retired);
      await expect(w.dilution.continueCreditNote(creditNoteId, [w.rootId, ...w.leaves.slice(0, 5)]))
        .to.be.revertedWithCustomError(w.dilution, "DilutionNotALeaf")
        .withArgs(w.rootId, w.receivableId);
      await expect(w.dilution.continueCreditNote(creditNoteId, [piece, ...w.leaves.slice(0, 5)]))
        .to.be.revertedWithCustomError(w.dilution, "DilutionNotALeaf")
        .withArgs(piece, w.receivableId);
    });

    it("refuses a cut chunk that is not the chunk the tally took there", async function () {
      const w = await networkHelpers.loadFixture(worldWithWideTree);
      const creditNoteId = await propose(w, AMOUNT);
      await approveBySeller(w, creditNoteId);
      await tallyAll(w, creditNoteId, 128);
      await expect(w.dilution.continueCreditNote(creditNoteId, w.leaves.slice(0, 100)))
        .to.be.revertedWithCustomError(w.dilution, "DilutionChunkMismatch")
        .withArgs(creditNoteId, 0n);
      // A gap: the first 128 tallied ids without one of them, and one more.
      const withGap = [...w.leaves.slice(0, 5), ...w.leaves.slice(6, 129)];
      await expect(w.dilution.continueCreditNote(creditNoteId, withGap))
        .to.be.revertedWithCustomError(w.dilution, "DilutionChunkMismatch")
        .withArgs(creditNoteId, 0n);
    });

    it("restarts a tally that skipped a leaf (a gap), on proof, and then completes by the rule", async function () {
      const w = await networkHelpers.loadFixture(worldWithWideTree);
      const before = await statesOf(w);
      const model = modelCuts(before, AMOUNT);
      const creditNoteId = await propose(w, AMOUNT);
      await approveBySeller(w, creditNoteId);
      // Someone tallies with leaf 5 left out: the pass can then never reach 300.
      const gapped = [...w.leaves.slice(0, 5), ...w.leaves.slice(6, 100)];
      await w.dilution.continueCreditNote(creditNoteId, gapped);
      await w.dilution.continueCreditNote(creditNoteId, w.leaves.slice(100, 228));
      await w.dilution.continueCreditNote(creditNoteId, w.leaves.slice(228, 300));
      expect(await w.dilution.applicationOf(creditNoteId)).to.deep.equal([TALLYING, 299n, 300n, w.leaves[299]!]);
      await expect(w.dilution.continueCreditNote(creditNoteId, [w.leaves[5]!]))
        .to.be.revertedWithCustomError(w.dilution, "DilutionLeavesNotSorted")
        .withArgs(w.leaves[5]!);

      // A proof that names a leaf the chunk did take, or the wrong chunk, is refused.
      await expect(w.dilution.restartTally(creditNoteId, 0n, 0n, gapped, w.leaves[4]!))
        .to.be.revertedWithCustomError(w.dilution, "DilutionNoGap")
        .withArgs(creditNoteId, w.leaves[4]!);
      await expect(w.dilution.restartTally(creditNoteId, 0n, 0n, w.leaves.slice(0, 100), w.leaves[5]!))
        .to.be.revertedWithCustomError(w.dilution, "DilutionChunkMismatch")
        .withArgs(creditNoteId, 0n);
      await expect(w.dilution.connect(w.outsider).restartTally(creditNoteId, 0n, 0n, gapped, w.leaves[5]!))
        .to.emit(w.dilution, "CreditNoteTallyRestarted")
        .withArgs(creditNoteId, w.leaves[5]!, 1n);
      expect(await w.dilution.applicationOf(creditNoteId)).to.deep.equal([TALLYING, 0n, 300n, 0n]);

      await applyInChunks(w, creditNoteId);
      const after = await statesOf(w);
      for (const [i, leaf] of after.entries()) expect(before[i]!.claim - leaf.claim).to.equal(model.cuts.get(leaf.id));
      expect(sumOf(after.map((leaf) => leaf.claim))).to.equal(FACE - AMOUNT);
    });

    it("refuses settlement while the note is Applying, and settles once it is Applied", async function () {
      const w = await networkHelpers.loadFixture(worldWithWideTree);
      const creditNoteId = await propose(w, AMOUNT);
      await approveBySeller(w, creditNoteId);
      // The debtor owes the reduced amount at once and may pay it.
      await w.escrow.connect(w.debtor).repay(w.receivableId, FACE - AMOUNT);
      await expect(w.escrow.settle(w.receivableId, w.leaves.slice(0, 50)))
        .to.be.revertedWithCustomError(w.escrow, "SettlementCreditNoteApplying")
        .withArgs(w.receivableId, creditNoteId);
      await tallyAll(w, creditNoteId);
      await expect(w.escrow.settle(w.receivableId, w.leaves.slice(0, 50)))
        .to.be.revertedWithCustomError(w.escrow, "SettlementCreditNoteApplying")
        .withArgs(w.receivableId, creditNoteId);
      await applyInChunks(w, creditNoteId);
      for (let start = 0; start < w.leaves.length; start += 50) {
        await w.escrow.settle(w.receivableId, w.leaves.slice(start, start + 50));
      }
      expect(await w.escrow.finalizedLeavesOf(w.receivableId)).to.equal(300n);
      expect(await w.escrow.distributedOf(w.receivableId)).to.equal(FACE - AMOUNT);
    });

    it("refuses recourse claims while the note is Applying", async function () {
      const w = await networkHelpers.loadFixture(worldWithWideTree);
      const other = w.leaves[1]!;
      const holder = await ethers.getSigner(await w.certificates.ownerOf(other));
      const creditNoteId = await propose(w, AMOUNT);
      await approveBySeller(w, creditNoteId);
      await tallyAll(w, creditNoteId);
      await w.dilution.continueCreditNote(creditNoteId, w.leaves.slice(0, 128)); // leaf 1 is cut now
      expect(await w.dilution.lossOf(other, holder.address)).to.be.greaterThan(0n);
      await expect(w.recourse.connect(holder).openDilutionClaim(other, holder.address, w.rootId, 0n))
        .to.be.revertedWithCustomError(w.recourse, "RecourseCreditNoteApplying")
        .withArgs(w.receivableId, creditNoteId);
      // Past due and grace the receivable defaults; the default claim waits as well.
      const receivable = await w.registry.receivableOf(w.receivableId);
      await networkHelpers.time.increaseTo(receivable.dueDate + receivable.gracePeriod + 1n);
      await w.registry.markDefaulted(w.receivableId);
      await expect(w.recourse.connect(holder).openDefaultClaim(other, w.rootId, 0n))
        .to.be.revertedWithCustomError(w.recourse, "RecourseCreditNoteApplying")
        .withArgs(w.receivableId, creditNoteId);
    });

    it("keeps the tree frozen while Applying: no split, no second note, no withdrawal of the dispute", async function () {
      const w = await networkHelpers.loadFixture(worldWithWideTree);
      const creditNoteId = await propose(w, AMOUNT);
      await approveBySeller(w, creditNoteId);
      const leaf = w.retained[0]!;
      const face = (await w.certificates.certificateOf(leaf)).faceValue;
      await expect(
        w.certificates.connect(w.tier1).split(leaf, [
          { to: w.tier2.address, amount: 1n },
          { to: w.tier1.address, amount: face - 1n },
        ]),
      )
        .to.be.revertedWithCustomError(w.certificates, "CertificateReceivableDisputed")
        .withArgs(w.receivableId);
      await expect(w.dilution.connect(w.debtor).proposeCreditNote(w.receivableId, MILLION, RETURN, DOCS))
        .to.be.revertedWithCustomError(w.dilution, "DisputeHasPendingCreditNote")
        .withArgs(w.receivableId, creditNoteId);
      await expect(w.dilution.connect(w.debtor).withdrawDispute(w.receivableId))
        .to.be.revertedWithCustomError(w.dilution, "DisputeHasPendingCreditNote")
        .withArgs(w.receivableId, creditNoteId);
    });
  });
});
