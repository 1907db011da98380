// Attacks on repayment and settlement, each narrated with a hostile settlement token or holder
// from contracts/mocks: a token that skims a fee, a holder that cannot receive, and a holder
// that re-enters the escrow while it is being paid.
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import { network } from "hardhat";
import { MILLION } from "../helpers/fixture.js";
import { fundRequest, registerReceivable, splitCertificate } from "../helpers/lifecycle.js";
import {
  asLifecycleWorld,
  deployCustomTokenWorld,
  escrowBooks,
  type CustomTokenWorld,
  type MintableToken,
} from "../helpers/custom-token-world.js";
import type {
  BlocklistToken,
  CallbackToken,
  FeeOnTransferToken,
  ReentrantHolder,
} from "../../types/ethers-contracts/index.js";
import { CertificateState, FinancingKind, ReceivableStatus, RequestStatus } from "../../server/model/contract-enums.js";

const { ethers, networkHelpers } = await network.create();

const DISCOUNT = Number(FinancingKind.discount);
const OPEN = RequestStatus.open;
const LOCKED = CertificateState.locked;
const SETTLED = CertificateState.settled;
const ACTIVE = ReceivableStatus.active;
const FACE = 1_000n * MILLION;

const ATTACK_NONE = 0;
const ATTACK_SETTLE = 1;
const ATTACK_WITHDRAW = 2;

async function expectSolvent<T extends MintableToken & { balanceOf(account: string): Promise<bigint> }>(
  w: CustomTokenWorld<T>,
  receivableIds: string[],
): Promise<void> {
  const books = await escrowBooks(w, receivableIds);
  expect(books.balance).to.equal(books.expected);
}

/* ------------------------------------------------------------------ */
/*                 (1) A token that takes a fee on transfer           */
/* ------------------------------------------------------------------ */

async function feeWorld() {
  const token = (await ethers.deployContract("FeeOnTransferToken", [100n])) as unknown as FeeOnTransferToken; // 1%
  return deployCustomTokenWorld(ethers, token);
}

describe("when the settlement token takes a fee on every transfer", function () {
  it("refuses a repayment that delivers less than its amount, and records nothing", async function () {
    const w = await networkHelpers.loadFixture(feeWorld);
    const { receivableId } = await registerReceivable(asLifecycleWorld(w), FACE);

    await expect(w.escrow.connect(w.debtor).repay(receivableId, FACE))
      .to.be.revertedWithCustomError(w.escrow, "SettlementTokenShortfall")
      .withArgs(FACE, FACE - FACE / 100n);

    const receivable = await w.registry.receivableOf(receivableId);
    expect(receivable.repaidAmount).to.equal(0n);
    expect(receivable.status).to.equal(ACTIVE);
    expect(await w.token.balanceOf(await w.escrow.getAddress())).to.equal(0n);
  });

  it("refuses to fund a financing whose price arrives short, and moves nothing", async function () {
    const w = await networkHelpers.loadFixture(feeWorld);
    const { rootId } = await registerReceivable(asLifecycleWorld(w), FACE);
    const price = 900n * MILLION;
    await w.financing.connect(w.tier1).openRequest(rootId, DISCOUNT, price, 0n);
    const requestId = await w.financing.requestCount();
    const sellerBefore = await w.token.balanceOf(w.tier1.address);

    await expect(fundRequest(w, w.financier, requestId, price, 0n))
      .to.be.revertedWithCustomError(w.financing, "SettlementTokenShortfall")
      .withArgs(price, price - price / 100n);

    expect(await w.certificates.ownerOf(rootId)).to.equal(w.tier1.address);
    expect((await w.certificates.certificateOf(rootId)).state).to.equal(LOCKED);
    expect((await w.financing.requestOf(requestId)).status).to.equal(OPEN);
    expect(await w.token.balanceOf(w.tier1.address)).to.equal(sellerBefore);
  });
});

/* ------------------------------------------------------------------ */
/*                   (2) A holder that cannot receive                 */
/* ------------------------------------------------------------------ */

async function blocklistWorld() {
  const [operator] = await ethers.getSigners();
  const token = (await ethers.deployContract("BlocklistToken", [operator!.address])) as unknown as BlocklistToken;
  return deployCustomTokenWorld(ethers, token);
}

/** Face 1000: tier 1 keeps 500, tier 2 holds 300, tier 3 holds 200; repaid in full; tier 3 blocklisted. */
async function blockedHolder() {
  const w = await networkHelpers.loadFixture(blocklistWorld);
  const { receivableId, rootId } = await registerReceivable(asLifecycleWorld(w), FACE);
  const leaves = await splitCertificate(asLifecycleWorld(w), w.tier1, rootId, [
    { to: w.tier1, amount: 500n * MILLION },
    { to: w.tier2, amount: 300n * MILLION },
    { to: w.tier3, amount: 200n * MILLION },
  ]);
  await w.escrow.connect(w.debtor).repay(receivableId, FACE);
  await w.token.connect(w.operator).setBlocked(w.tier3.address, true);
  return { w, receivableId, leaves };
}

describe("when one holder cannot receive the settlement token", function () {
  it("still pays every other holder in the same batch and keeps the blocked share", async function () {
    const { w, receivableId, leaves } = await blockedHolder();
    const tier1Before = await w.token.balanceOf(w.tier1.address);
    const tier2Before = await w.token.balanceOf(w.tier2.address);
    const tier3Before = await w.token.balanceOf(w.tier3.address);

    const tx = w.escrow.settle(receivableId, leaves);

    await expect(tx)
      .to.emit(w.escrow, "PaymentDeferred")
      .withArgs(w.tier3.address, 200n * MILLION);
    await expect(tx)
      .to.emit(w.escrow, "LeafSettled")
      .withArgs(receivableId, leaves[2]!, w.tier3.address, 200n * MILLION, ethers.ZeroAddress, 0n, 200n * MILLION);
    expect((await w.token.balanceOf(w.tier1.address)) - tier1Before).to.equal(500n * MILLION);
    expect((await w.token.balanceOf(w.tier2.address)) - tier2Before).to.equal(300n * MILLION);
    expect(await w.token.balanceOf(w.tier3.address)).to.equal(tier3Before);
    expect(await w.escrow.claimableOf(w.tier3.address)).to.equal(200n * MILLION);
    expect(await w.escrow.totalClaimable()).to.equal(200n * MILLION);
    expect(await w.token.balanceOf(await w.escrow.getAddress())).to.equal(200n * MILLION);
    expect((await w.certificates.certificateOf(leaves[2]!)).state).to.equal(SETTLED);
    await expectSolvent(w, [receivableId]);
  });

  it("does not pay the kept share a second time on a later settlement", async function () {
    const { w, receivableId, leaves } = await blockedHolder();
    await w.escrow.settle(receivableId, leaves);

    await expect(w.escrow.settle(receivableId, [leaves[2]!]))
      .to.be.revertedWithCustomError(w.escrow, "SettlementNothingDue")
      .withArgs(receivableId);
    expect(await w.escrow.claimableOf(w.tier3.address)).to.equal(200n * MILLION);
  });

  it("lets the blocked holder withdraw its share to another address, once", async function () {
    const { w, receivableId, leaves } = await blockedHolder();
    await w.escrow.settle(receivableId, leaves);

    await expect(w.escrow.connect(w.tier3).withdraw(w.outsider.address))
      .to.emit(w.escrow, "Withdrawn")
      .withArgs(w.tier3.address, w.outsider.address, 200n * MILLION);

    expect(await w.token.balanceOf(w.outsider.address)).to.equal(200n * MILLION);
    expect(await w.escrow.claimableOf(w.tier3.address)).to.equal(0n);
    expect(await w.escrow.totalClaimable()).to.equal(0n);
    expect(await w.token.balanceOf(await w.escrow.getAddress())).to.equal(0n);
    await expectSolvent(w, [receivableId]);
    await expect(w.escrow.connect(w.tier3).withdraw(w.outsider.address))
      .to.be.revertedWithCustomError(w.escrow, "SettlementNothingToWithdraw")
      .withArgs(w.tier3.address);
  });

  it("keeps the claim when a withdrawal to a blocked address fails", async function () {
    const { w, receivableId, leaves } = await blockedHolder();
    await w.escrow.settle(receivableId, leaves);

    await expect(w.escrow.connect(w.tier3).withdraw(w.tier3.address))
      .to.be.revertedWithCustomError(w.token, "RecipientBlocked")
      .withArgs(w.tier3.address);
    expect(await w.escrow.claimableOf(w.tier3.address)).to.equal(200n * MILLION);
    expect(await w.escrow.totalClaimable()).to.equal(200n * MILLION);
  });

  it("refuses a withdrawal by an account with nothing kept for it", async function () {
    const { w, receivableId, leaves } = await blockedHolder();
    await w.escrow.settle(receivableId, leaves);

    await expect(w.escrow.connect(w.tier2).withdraw(w.tier2.address))
      .to.be.revertedWithCustomError(w.escrow, "SettlementNothingToWithdraw")
      .withArgs(w.tier2.address);
  });
});

/* ------------------------------------------------------------------ */
/*              (3) A holder that re-enters while being paid          */
/* ------------------------------------------------------------------ */

async function callbackWorld() {
  const token = (await ethers.deployContract("CallbackToken")) as unknown as CallbackToken;
  const w = await deployCustomTokenWorld(ethers, token);
  const attacker = (await ethers.deployContract("ReentrantHolder", [
    await w.escrow.getAddress(),
    await token.getAddress(),
  ])) as unknown as ReentrantHolder;
  await w.parties.connect(w.partyManager).registerParty(await attacker.getAddress(), ethers.id("LEI:attacker"), true);
  return { ...w, attacker };
}

/** Face 1000: the attacker holds 400, tier 2 holds 350, tier 1 keeps 250; `repaid` paid in. */
async function attackerHoldsLeaf(repaid: bigint) {
  const w = await networkHelpers.loadFixture(callbackWorld);
  const attackerAddress = await w.attacker.getAddress();
  const { receivableId, rootId } = await registerReceivable(asLifecycleWorld(w), FACE);
  const leaves = await splitCertificate(asLifecycleWorld(w), w.tier1, rootId, [
    // splitCertificate reads only `.address` of a recipient.
    { to: { address: attackerAddress } as HardhatEthersSigner, amount: 400n * MILLION },
    { to: w.tier2, amount: 350n * MILLION },
    { to: w.tier1, amount: 250n * MILLION },
  ]);
  await w.escrow.connect(w.debtor).repay(receivableId, repaid);
  return { w, receivableId, leaves, attackerAddress };
}

const REENTRANCY_SELECTOR = ethers.id("ReentrancyGuardReentrantCall()").slice(0, 10);

describe("when a holder re-enters the escrow while it is being paid", function () {
  for (const [name, attack] of [
    ["settle", ATTACK_SETTLE],
    ["withdraw", ATTACK_WITHDRAW],
  ] as const) {
    it(`refuses the re-entry into ${name}, completes the settlement and pays the attacker its share once`, async function () {
      const { w, receivableId, leaves, attackerAddress } = await attackerHoldsLeaf(FACE);
      await w.attacker.arm(attack, receivableId, leaves, false);
      const tier2Before = await w.token.balanceOf(w.tier2.address);

      const tx = await w.escrow.connect(w.outsider).settle(receivableId, leaves);

      expect(await w.attacker.attempts()).to.equal(1n);
      expect(await w.attacker.successes()).to.equal(0n);
      expect(await w.attacker.lastError()).to.equal(REENTRANCY_SELECTOR);
      // The attacker's hook swallowed the failure, so the push went through: paid, not kept.
      const [entitled, paidOut] = await w.escrow.entitlementOf(leaves[0]!);
      expect(entitled).to.equal(400n * MILLION);
      expect(paidOut).to.equal(entitled);
      expect(await w.token.balanceOf(attackerAddress)).to.equal(entitled);
      expect(await w.escrow.claimableOf(attackerAddress)).to.equal(0n);
      await expect(tx).not.to.emit(w.escrow, "PaymentDeferred");
      // The rest of the batch was paid, each leaf exactly once.
      expect((await w.token.balanceOf(w.tier2.address)) - tier2Before).to.equal(350n * MILLION);
      const receipt = await tx.wait();
      const settledLeaves = receipt!.logs
        .map((log) => w.escrow.interface.parseLog(log))
        .filter((parsed) => parsed?.name === "LeafSettled")
        .map((parsed) => parsed!.args.certificateId as bigint);
      expect(settledLeaves).to.deep.equal(leaves);
      expect(await w.escrow.distributedOf(receivableId)).to.equal(FACE);
      expect(await w.token.balanceOf(await w.escrow.getAddress())).to.equal(0n);
      await expectSolvent(w, [receivableId]);
    });
  }

  it("refuses the re-entry after a partial repayment too, and pays the top-up exactly later", async function () {
    const { w, receivableId, leaves, attackerAddress } = await attackerHoldsLeaf(500n * MILLION);
    await w.attacker.arm(ATTACK_SETTLE, receivableId, leaves, false);

    await w.escrow.settle(receivableId, leaves);
    expect(await w.attacker.lastError()).to.equal(REENTRANCY_SELECTOR);
    expect(await w.token.balanceOf(attackerAddress)).to.equal(200n * MILLION);

    await w.escrow.connect(w.debtor).repay(receivableId, 500n * MILLION);
    await w.escrow.settle(receivableId, leaves);

    expect(await w.attacker.attempts()).to.equal(2n);
    expect(await w.attacker.successes()).to.equal(0n);
    expect(await w.token.balanceOf(attackerAddress)).to.equal(400n * MILLION);
    expect(await w.escrow.entitlementOf(leaves[0]!)).to.deep.equal([400n * MILLION, 400n * MILLION]);
    await expectSolvent(w, [receivableId]);
  });

  it("keeps the share for withdrawal when the attacker's hook reverts, and pays it exactly once", async function () {
    const { w, receivableId, leaves, attackerAddress } = await attackerHoldsLeaf(FACE);
    await w.attacker.arm(ATTACK_SETTLE, receivableId, leaves, true);
    const tier1Before = await w.token.balanceOf(w.tier1.address);

    await expect(w.escrow.settle(receivableId, leaves))
      .to.emit(w.escrow, "PaymentDeferred")
      .withArgs(attackerAddress, 400n * MILLION);

    // The hook's revert undid the transfer: kept, not paid.
    expect(await w.token.balanceOf(attackerAddress)).to.equal(0n);
    expect(await w.escrow.claimableOf(attackerAddress)).to.equal(400n * MILLION);
    expect((await w.token.balanceOf(w.tier1.address)) - tier1Before).to.equal(250n * MILLION);
    await expectSolvent(w, [receivableId]);

    // While armed, a withdrawal to itself re-enters and fails as a whole; the claim stays.
    await expect(w.attacker.withdrawFromEscrow(attackerAddress)).to.be.revertedWithCustomError(
      w.escrow,
      "ReentrancyGuardReentrantCall",
    );
    expect(await w.escrow.claimableOf(attackerAddress)).to.equal(400n * MILLION);

    await w.attacker.arm(ATTACK_NONE, receivableId, [], false);
    await expect(w.attacker.withdrawFromEscrow(attackerAddress))
      .to.emit(w.escrow, "Withdrawn")
      .withArgs(attackerAddress, attackerAddress, 400n * MILLION);

    const [entitled] = await w.escrow.entitlementOf(leaves[0]!);
    expect(await w.token.balanceOf(attackerAddress)).to.equal(entitled);
    expect(await w.escrow.totalClaimable()).to.equal(0n);
    expect(await w.token.balanceOf(await w.escrow.getAddress())).to.equal(0n);
    await expectSolvent(w, [receivableId]);
  });
});
