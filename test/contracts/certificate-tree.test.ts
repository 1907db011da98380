// The certificate tree (a root's state and the tree's leaf count) lives in the receivable's
// record at the registry, in the slot registration writes for the seller anyway (issue 12:
// one new slot fewer per registration). Only the wired certificate token may write it; the
// token's views answer from it through every step of a root's life.
import { expect } from "chai";
import { network } from "hardhat";
import { asAdmin, DAY, deployWorld, MILLION, type TierlineWorld } from "../helpers/fixture.js";
import { fundRequest, registerReceivable, splitCertificate } from "../helpers/lifecycle.js";

const { ethers, networkHelpers } = await network.create();

const FACE = 1_000n * MILLION;
const STATE = { None: 0n, Live: 1n, Locked: 2n, Retired: 3n, Settled: 4n } as const;
const DISCOUNT = 0;
const PLEDGE = 1;

interface StructLog {
  op: string;
  depth: number;
  stack?: string[];
}

/** The storage slots each contract wrote in transaction `hash` (opcode trace; CALL and STATICCALL switch contracts). */
async function slotsWritten(hash: string, to: string): Promise<Map<string, Set<string>>> {
  const trace = (await ethers.provider.send("debug_traceTransaction", [
    hash,
    { disableMemory: true, disableStorage: true },
  ])) as { structLogs: StructLog[] };
  const frames = [to.toLowerCase()];
  let pending = "";
  const written = new Map<string, Set<string>>();
  for (const step of trace.structLogs) {
    while (frames.length > step.depth) frames.pop();
    if (step.depth > frames.length) frames.push(pending);
    const stack = step.stack ?? [];
    const top = (i: number) => stack[stack.length - 1 - i]!;
    if (step.op === "CALL" || step.op === "STATICCALL") pending = `0x${ethers.toBeHex(top(1), 32).slice(-40)}`;
    else if (step.op === "DELEGATECALL") pending = frames.at(-1)!;
    else if (step.op === "SSTORE") {
      const contract = frames.at(-1)!;
      written.set(contract, (written.get(contract) ?? new Set()).add(ethers.toBeHex(top(0), 32)));
    }
  }
  return written;
}

async function treeOf(w: TierlineWorld, receivableId: string) {
  const tree = await w.registry.treeOf(receivableId);
  return { leafCount: tree.leafCount, rootState: tree.rootState };
}

describe("the certificate tree, kept in the receivable's record", function () {
  const world = () => deployWorld(ethers);
  async function registered() {
    const w = await deployWorld(ethers);
    return { w, ...(await registerReceivable(w, FACE, { tenor: 100n * DAY })) };
  }

  it("registration writes no slot of its own for the tree, nor an owner slot: the token writes the root's receivable id, the seller's balance and the id counter", async function () {
    const w = await networkHelpers.loadFixture(world);
    const before = await w.certificates.nextCertificateId();
    const { receivableId, rootId } = await registerReceivable(w, FACE, { seller: w.tier2 });
    expect(rootId).to.equal(before);
    const [log] = await w.registry.queryFilter(w.registry.filters.ReceivableRegistered(receivableId));
    const written = await slotsWritten(log!.transactionHash, await w.registry.getAddress());
    // Before the tree moved into the registry record the token also wrote a tree slot (5 slots),
    // and before a root's seller held it through that record, the root's owner slot (4).
    expect(written.get((await w.certificates.getAddress()).toLowerCase())?.size).to.equal(3);
    expect(await w.certificates.ownerOf(rootId)).to.equal(w.tier2.address);
    // The registry's record: its three slots, the tree beside the seller in the third.
    expect(written.get((await w.registry.getAddress()).toLowerCase())?.size).to.equal(3);
    const tree = await w.registry.treeOf(receivableId);
    expect([tree.rootCertificateId, tree.faceValue, tree.leafCount, tree.rootState]).to.deep.equal([
      rootId,
      FACE,
      1n,
      STATE.Live,
    ]);
    expect(tree.dueDate).to.equal((await w.registry.receivableOf(receivableId)).dueDate);
  });

  it("follows the root through lock, sale, split and settlement, and the token's views answer from it", async function () {
    const { w, receivableId, rootId } = await networkHelpers.loadFixture(registered);
    await w.financing.connect(w.tier1).openRequest(rootId, DISCOUNT, 970n * MILLION, 0n);
    expect(await treeOf(w, receivableId)).to.deep.equal({ leafCount: 1n, rootState: STATE.Locked });
    expect((await w.certificates.certificateOf(rootId)).state).to.equal(STATE.Locked);
    expect(await w.certificates.lockerOf(rootId)).to.equal(await w.financing.getAddress());

    await fundRequest(w, w.financier, 1n, 970n * MILLION, 0n);
    expect(await treeOf(w, receivableId)).to.deep.equal({ leafCount: 1n, rootState: STATE.Live });
    expect(await w.certificates.ownerOf(rootId)).to.equal(w.financier.address);

    const [a, b, c] = await splitCertificate(w, w.financier, rootId, [
      { to: w.financier, amount: 500n * MILLION },
      { to: w.financier2, amount: 300n * MILLION },
      { to: w.financier2, amount: 200n * MILLION },
    ]);
    expect(await treeOf(w, receivableId)).to.deep.equal({ leafCount: 3n, rootState: STATE.Retired });
    expect(await w.certificates.leafCountOf(receivableId)).to.equal(3n);
    const root = await w.certificates.certificateOf(rootId);
    expect([root.state, root.faceValue, root.parentId, root.tier]).to.deep.equal([STATE.Retired, FACE, 0n, 1n]);
    // A child's due date is its receivable's, read from the registry.
    expect((await w.certificates.certificateOf(b!)).dueDate).to.equal(
      (await w.registry.receivableOf(receivableId)).dueDate,
    );

    // Splitting a child counts its leaves and leaves the root's state alone.
    await splitCertificate(w, w.financier, a!, [
      { to: w.financier, amount: 250n * MILLION },
      { to: w.tier3, amount: 250n * MILLION },
    ]);
    expect(await treeOf(w, receivableId)).to.deep.equal({ leafCount: 4n, rootState: STATE.Retired });

    await w.escrow.connect(w.debtor).repay(receivableId, FACE);
    const leaves = [b!, c!, a! + 3n, a! + 4n];
    await w.escrow.settle(receivableId, leaves);
    expect(await w.escrow.finalizedLeavesOf(receivableId)).to.equal(4n);
    expect(await treeOf(w, receivableId)).to.deep.equal({ leafCount: 4n, rootState: STATE.Retired });
  });

  it("gives a root back its Live state when its request is cancelled, and settles a pledged (locked) root", async function () {
    const { w, receivableId, rootId } = await networkHelpers.loadFixture(registered);
    await w.financing.connect(w.tier1).openRequest(rootId, DISCOUNT, 970n * MILLION, 0n);
    await w.financing.connect(w.tier1).cancelRequest(1n);
    expect(await treeOf(w, receivableId)).to.deep.equal({ leafCount: 1n, rootState: STATE.Live });
    expect(await w.certificates.lockerOf(rootId)).to.equal(ethers.ZeroAddress);

    await w.financing.connect(w.tier1).openRequest(rootId, PLEDGE, 900n * MILLION, 950n * MILLION);
    await fundRequest(w, w.financier, 2n, 900n * MILLION, 950n * MILLION);
    expect(await treeOf(w, receivableId)).to.deep.equal({ leafCount: 1n, rootState: STATE.Locked });
    await w.escrow.connect(w.debtor).repay(receivableId, FACE);
    await expect(w.escrow.settle(receivableId, [rootId]))
      .to.emit(w.certificates, "CertificateLockLifted")
      .withArgs(rootId);
    expect(await treeOf(w, receivableId)).to.deep.equal({ leafCount: 1n, rootState: STATE.Settled });
    expect((await w.certificates.certificateOf(rootId)).state).to.equal(STATE.Settled);
  });

  it("records a root settled without a split as Settled", async function () {
    const { w, receivableId, rootId } = await networkHelpers.loadFixture(registered);
    await w.escrow.connect(w.debtor).repay(receivableId, FACE);
    await w.escrow.settle(receivableId, [rootId]);
    expect(await treeOf(w, receivableId)).to.deep.equal({ leafCount: 1n, rootState: STATE.Settled });
    const [, , state, holder] = await w.certificates.claimOf(rootId);
    expect([state, holder]).to.deep.equal([STATE.Settled, ethers.ZeroAddress]);
  });

  it("answers None for ids and receivables it never issued", async function () {
    const { w, rootId } = await networkHelpers.loadFixture(registered);
    const unknown = ethers.id("never registered");
    expect(await treeOf(w, unknown)).to.deep.equal({ leafCount: 0n, rootState: STATE.None });
    expect(await w.certificates.leafCountOf(unknown)).to.equal(0n);
    await expect(w.certificates.certificateOf(rootId + 100n))
      .to.be.revertedWithCustomError(w.certificates, "CertificateNotFound")
      .withArgs(rootId + 100n);
    await expect(w.certificates.claimOf(rootId + 100n))
      .to.be.revertedWithCustomError(w.certificates, "CertificateNotFound")
      .withArgs(rootId + 100n);
    expect(await w.certificates.lockerOf(rootId + 100n)).to.equal(ethers.ZeroAddress);
  });

  describe("when anyone but the certificate token writes a tree", function () {
    const callers = ["operator", "governor", "debtor", "tier1", "outsider"] as const;
    for (const caller of callers) {
      it(`refuses the ${caller}: neither a root's state nor the leaf count changes`, async function () {
        const { w, receivableId } = await networkHelpers.loadFixture(registered);
        const signer = w[caller];
        await expect(w.registry.connect(signer).recordRootState(receivableId, STATE.Settled))
          .to.be.revertedWithCustomError(w.registry, "CallerNotCertificates")
          .withArgs(signer.address);
        await expect(w.registry.connect(signer).recordSplit(receivableId, 5n, true))
          .to.be.revertedWithCustomError(w.registry, "CallerNotCertificates")
          .withArgs(signer.address);
        expect(await treeOf(w, receivableId)).to.deep.equal({ leafCount: 1n, rootState: STATE.Live });
      });
    }

    it("refuses the admin too, even through the timelock, and the escrow and market contracts", async function () {
      const { w, receivableId } = await networkHelpers.loadFixture(registered);
      await expect(asAdmin(w, w.registry, "recordRootState", [receivableId, STATE.Settled]))
        .to.be.revertedWithCustomError(w.registry, "CallerNotCertificates")
        .withArgs(await w.timelock.getAddress());
      for (const contract of [w.escrow, w.financing]) {
        const address = await contract.getAddress();
        await networkHelpers.impersonateAccount(address);
        await networkHelpers.setBalance(address, 10n ** 18n);
        const asContract = await ethers.getSigner(address);
        await expect(w.registry.connect(asContract).recordSplit(receivableId, 1n, false))
          .to.be.revertedWithCustomError(w.registry, "CallerNotCertificates")
          .withArgs(address);
        await expect(w.registry.connect(asContract).recordRootState(receivableId, STATE.Retired))
          .to.be.revertedWithCustomError(w.registry, "CallerNotCertificates")
          .withArgs(address);
      }
      expect(await treeOf(w, receivableId)).to.deep.equal({ leafCount: 1n, rootState: STATE.Live });
    });
  });
});
