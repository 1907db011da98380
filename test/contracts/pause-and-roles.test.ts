// Pauses stop new business (registration, transfers, splits, financing) but never trap money:
// repayment, settlement, withdrawal and cancelling a request keep working. And every
// privileged function refuses a caller without its role.
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import type { BaseContract } from "ethers";
import { network } from "hardhat";
import type { BlocklistToken, FinancingMarket, ReceivableRegistry } from "../../types/ethers-contracts/index.js";
import { makeTerms, signConfirmation } from "../helpers/confirmation.js";
import { asLifecycleWorld, deployCustomTokenWorld } from "../helpers/custom-token-world.js";
import { asAdmin, DAY, deployWorld, legalId, MILLION, type TierlineWorld } from "../helpers/fixture.js";
import { fundRequest, registerReceivable, splitCertificate } from "../helpers/lifecycle.js";
import { FinancingKind } from "../../server/model/contract-enums.js";

const { ethers, networkHelpers } = await network.create();
const { time } = networkHelpers;

const FACE = 1_000n * MILLION;
const DISCOUNT = Number(FinancingKind.discount);
const PLEDGE = Number(FinancingKind.pledge);

/**
 * One receivable of 1,000 tUSD, split by tier1: 600 to tier2 (pledged to the financier for
 * 500, 550 owed: request 1), 300 kept and offered at a discount for 280 (request 2, open),
 * and 100 kept and free.
 */
async function businessWorld() {
  const w = await deployWorld(ethers);
  const { receivableId, rootId } = await registerReceivable(w, FACE);
  const [pledged, offered, free] = await splitCertificate(w, w.tier1, rootId, [
    { to: w.tier2, amount: 600n * MILLION },
    { to: w.tier1, amount: 300n * MILLION },
    { to: w.tier1, amount: 100n * MILLION },
  ]);
  await w.financing.connect(w.tier2).openRequest(pledged!, PLEDGE, 500n * MILLION, 550n * MILLION);
  await fundRequest(w, w.financier, 1n, 500n * MILLION, 550n * MILLION);
  await w.financing.connect(w.tier1).openRequest(offered!, DISCOUNT, 280n * MILLION, 0n);
  return { w, receivableId, pledged: pledged!, offered: offered!, free: free! };
}

/** Terms and a valid debtor confirmation for a fresh invoice, ready to register. */
async function confirmedInvoice(w: TierlineWorld, invoiceNumber: string) {
  const now = BigInt(await time.latest());
  const terms = makeTerms(w.tier1, w.debtor, invoiceNumber, FACE, now + 90n * DAY);
  const confirmation = await signConfirmation(
    w.registry,
    w.debtor,
    terms,
    BigInt(ethers.id(invoiceNumber)),
    now + 3_600n,
  );
  return { terms, confirmation };
}

/** Repays the receivable in full and settles all three leaves; returns each payee's gain. */
async function repayAndSettle(ctx: Awaited<ReturnType<typeof businessWorld>>) {
  const { w, receivableId } = ctx;
  const payees = [w.financier, w.tier1, w.tier2];
  const before = await Promise.all(payees.map((p) => w.token.balanceOf(p.address)));
  await expect(w.escrow.connect(w.debtor).repay(receivableId, FACE))
    .to.emit(w.escrow, "RepaymentReceived")
    .withArgs(receivableId, w.debtor.address, FACE, FACE);
  await w.escrow.settle(receivableId, [ctx.pledged, ctx.offered, ctx.free]);
  const after = await Promise.all(payees.map((p) => w.token.balanceOf(p.address)));
  const [financier, tier1, tier2] = after.map((a, i) => a - before[i]!);
  return { financier, tier1, tier2 };
}

async function expectSettledInFull(ctx: Awaited<ReturnType<typeof businessWorld>>) {
  const gains = await repayAndSettle(ctx);
  const { w } = ctx;
  expect(gains.financier).to.equal(550n * MILLION);
  expect(gains.tier2).to.equal(50n * MILLION);
  expect(gains.tier1).to.equal(400n * MILLION);
  expect(await w.token.balanceOf(await w.escrow.getAddress())).to.equal(0n);
  expect((await w.certificates.certificateOf(ctx.pledged)).state).to.equal(4n); // Settled
  expect((await w.financing.requestOf(2n)).status).to.equal(2n); // the open offer was cancelled
}

describe("pause", function () {
  describe("when the registry is paused", function () {
    async function pausedRegistry() {
      const ctx = await businessWorld();
      await ctx.w.registry.connect(ctx.w.pauser).pause();
      return ctx;
    }

    it("emits Paused by the pauser", async function () {
      const { w } = await networkHelpers.loadFixture(businessWorld);
      await expect(w.registry.connect(w.pauser).pause()).to.emit(w.registry, "Paused").withArgs(w.pauser.address);
      expect(await w.registry.paused()).to.equal(true);
    });

    it("refuses to register a receivable, even with a valid confirmation", async function () {
      const { w } = await networkHelpers.loadFixture(pausedRegistry);
      const { terms, confirmation } = await confirmedInvoice(w, "INV-PAUSED");
      await expect(w.registry.register(terms, confirmation))
        .to.be.revertedWithCustomError(w.registry, "EnforcedPause")
        .withArgs();
    });

    it("refuses to pause twice", async function () {
      const { w } = await networkHelpers.loadFixture(pausedRegistry);
      await expect(w.registry.connect(w.pauser).pause())
        .to.be.revertedWithCustomError(w.registry, "EnforcedPause")
        .withArgs();
    });

    it("still takes repayment and settles every leaf", async function () {
      const ctx = await networkHelpers.loadFixture(pausedRegistry);
      await expectSettledInFull(ctx);
    });

    it("registers again once unpaused", async function () {
      const { w } = await networkHelpers.loadFixture(pausedRegistry);
      const { terms, confirmation } = await confirmedInvoice(w, "INV-AFTER");
      await expect(w.registry.connect(w.pauser).unpause()).to.emit(w.registry, "Unpaused").withArgs(w.pauser.address);
      await expect(w.registry.register(terms, confirmation)).to.emit(w.registry, "ReceivableRegistered");
    });

    it("refuses to unpause a registry that is not paused", async function () {
      const { w } = await networkHelpers.loadFixture(businessWorld);
      await expect(w.registry.connect(w.pauser).unpause())
        .to.be.revertedWithCustomError(w.registry, "ExpectedPause")
        .withArgs();
    });
  });

  describe("when the certificate token is paused", function () {
    async function pausedCertificates() {
      const ctx = await businessWorld();
      await ctx.w.certificates.connect(ctx.w.pauser).pause();
      return ctx;
    }

    it("refuses to transfer a certificate", async function () {
      const { w, free } = await networkHelpers.loadFixture(pausedCertificates);
      await expect(w.certificates.connect(w.tier1).transferFrom(w.tier1.address, w.tier3.address, free))
        .to.be.revertedWithCustomError(w.certificates, "EnforcedPause")
        .withArgs();
      await expect(
        w.certificates
          .connect(w.tier1)
          ["safeTransferFrom(address,address,uint256)"](w.tier1.address, w.tier3.address, free),
      )
        .to.be.revertedWithCustomError(w.certificates, "EnforcedPause")
        .withArgs();
      expect(await w.certificates.ownerOf(free)).to.equal(w.tier1.address);
    });

    it("refuses to split a certificate", async function () {
      const { w, free } = await networkHelpers.loadFixture(pausedCertificates);
      await expect(
        w.certificates.connect(w.tier1).split(free, [
          { to: w.tier3.address, amount: 60n * MILLION },
          { to: w.tier1.address, amount: 40n * MILLION },
        ]),
      )
        .to.be.revertedWithCustomError(w.certificates, "EnforcedPause")
        .withArgs();
    });

    it("refuses to lock a certificate into a new financing request", async function () {
      const { w, free } = await networkHelpers.loadFixture(pausedCertificates);
      await expect(w.financing.connect(w.tier1).openRequest(free, DISCOUNT, 90n * MILLION, 0n))
        .to.be.revertedWithCustomError(w.certificates, "EnforcedPause")
        .withArgs();
    });

    it("still lets the holder cancel an open request, unlocking the certificate", async function () {
      const { w, offered } = await networkHelpers.loadFixture(pausedCertificates);
      await expect(w.financing.connect(w.tier1).cancelRequest(2n))
        .to.emit(w.certificates, "CertificateLockLifted")
        .withArgs(offered);
      expect(await w.certificates.lockerOf(offered)).to.equal(ethers.ZeroAddress);
    });

    it("still takes repayment and settles (and closes) every leaf", async function () {
      const ctx = await networkHelpers.loadFixture(pausedCertificates);
      await expectSettledInFull(ctx);
    });

    it("transfers and splits again once unpaused", async function () {
      const { w, free } = await networkHelpers.loadFixture(pausedCertificates);
      await expect(w.certificates.connect(w.pauser).unpause())
        .to.emit(w.certificates, "Unpaused")
        .withArgs(w.pauser.address);
      const [toTier3] = await splitCertificate(w, w.tier1, free, [
        { to: w.tier3, amount: 60n * MILLION },
        { to: w.tier1, amount: 40n * MILLION },
      ]);
      await w.certificates.connect(w.tier3).transferFrom(w.tier3.address, w.tier2.address, toTier3!);
      expect(await w.certificates.ownerOf(toTier3!)).to.equal(w.tier2.address);
    });
  });

  describe("when the financing market is paused", function () {
    async function pausedFinancing() {
      const ctx = await businessWorld();
      await ctx.w.financing.connect(ctx.w.pauser).pause();
      return ctx;
    }

    it("refuses to open a request", async function () {
      const { w, free } = await networkHelpers.loadFixture(pausedFinancing);
      await expect(w.financing.connect(w.tier1).openRequest(free, DISCOUNT, 90n * MILLION, 0n))
        .to.be.revertedWithCustomError(w.financing, "EnforcedPause")
        .withArgs();
      expect(await w.certificates.lockerOf(free)).to.equal(ethers.ZeroAddress);
    });

    it("refuses to fund an open request", async function () {
      const { w, offered } = await networkHelpers.loadFixture(pausedFinancing);
      await expect(fundRequest(w, w.financier2, 2n, 280n * MILLION, 0n))
        .to.be.revertedWithCustomError(w.financing, "EnforcedPause")
        .withArgs();
      expect(await w.certificates.ownerOf(offered)).to.equal(w.tier1.address);
    });

    it("still lets the holder cancel an open request", async function () {
      const { w, offered } = await networkHelpers.loadFixture(pausedFinancing);
      await expect(w.financing.connect(w.tier1).cancelRequest(2n))
        .to.emit(w.financing, "FinancingCancelled")
        .withArgs(2n, offered);
      expect(await w.certificates.lockerOf(offered)).to.equal(ethers.ZeroAddress);
    });

    it("still lets the pledgor repay its pledge", async function () {
      const { w, pledged } = await networkHelpers.loadFixture(pausedFinancing);
      const before = await w.token.balanceOf(w.financier.address);
      await expect(w.financing.connect(w.tier2).repayPledge(1n))
        .to.emit(w.financing, "PledgeReleased")
        .withArgs(1n, pledged, 0n);
      expect((await w.token.balanceOf(w.financier.address)) - before).to.equal(550n * MILLION);
      expect(await w.certificates.lockerOf(pledged)).to.equal(ethers.ZeroAddress);
    });

    it("still takes repayment and settles every leaf, the pledgee first", async function () {
      const ctx = await networkHelpers.loadFixture(pausedFinancing);
      await expectSettledInFull(ctx);
    });

    it("opens and funds again once unpaused", async function () {
      const { w, free, offered } = await networkHelpers.loadFixture(pausedFinancing);
      await expect(w.financing.connect(w.pauser).unpause()).to.emit(w.financing, "Unpaused").withArgs(w.pauser.address);
      await fundRequest(w, w.financier2, 2n, 280n * MILLION, 0n);
      expect(await w.certificates.ownerOf(offered)).to.equal(w.financier2.address);
      await expect(w.financing.connect(w.tier1).openRequest(free, DISCOUNT, 90n * MILLION, 0n))
        .to.emit(w.financing, "FinancingRequested")
        .withArgs(3n, free, w.tier1.address, DISCOUNT, 90n * MILLION, 0n);
    });
  });

  describe("when everything is paused and a payment was kept for a blocked holder", function () {
    async function keptPaymentWorld() {
      const [operator] = await ethers.getSigners();
      const token = (await ethers.deployContract("BlocklistToken", [operator!.address])) as unknown as BlocklistToken;
      const w = await deployCustomTokenWorld(ethers, token);
      const { receivableId } = await registerReceivable(asLifecycleWorld(w), FACE);
      return { w, receivableId };
    }

    it("still repays, settles into a kept payment and lets the holder withdraw it elsewhere", async function () {
      const { w, receivableId } = await networkHelpers.loadFixture(keptPaymentWorld);
      const rootId = (await w.registry.receivableOf(receivableId)).rootCertificateId;
      await w.registry.connect(w.pauser).pause();
      await w.certificates.connect(w.pauser).pause();
      await w.financing.connect(w.pauser).pause();

      await w.escrow.connect(w.debtor).repay(receivableId, FACE);
      await w.token.setBlocked(w.tier1.address, true);
      await expect(w.escrow.settle(receivableId, [rootId]))
        .to.emit(w.escrow, "PaymentDeferred")
        .withArgs(w.tier1.address, FACE);
      expect(await w.escrow.claimableOf(w.tier1.address)).to.equal(FACE);

      const before = await w.token.balanceOf(w.outsider.address);
      await expect(w.escrow.connect(w.tier1).withdraw(w.outsider.address))
        .to.emit(w.escrow, "Withdrawn")
        .withArgs(w.tier1.address, w.outsider.address, FACE);
      expect((await w.token.balanceOf(w.outsider.address)) - before).to.equal(FACE);
      expect(await w.escrow.claimableOf(w.tier1.address)).to.equal(0n);
      expect(await w.token.balanceOf(await w.escrow.getAddress())).to.equal(0n);
    });
  });
});

describe("roles", function () {
  async function rolesWorld() {
    const ctx = await businessWorld();
    return { ...ctx, other: (await ethers.getSigners())[8]! };
  }

  const refusesRole = async (
    call: Promise<unknown>,
    contract: BaseContract,
    caller: HardhatEthersSigner,
    role: string,
  ) => {
    await expect(call)
      .to.be.revertedWithCustomError(contract, "AccessControlUnauthorizedAccount")
      .withArgs(caller.address, role);
  };

  describe("when a caller without the role uses the receivable registry", function () {
    it("refuses to let a non-registrar register, even the seller with the debtor's valid confirmation", async function () {
      const { w } = await networkHelpers.loadFixture(rolesWorld);
      const { terms, confirmation } = await confirmedInvoice(w, "INV-ROGUE");
      const role = await w.registry.REGISTRAR_ROLE();
      await refusesRole(w.registry.connect(w.tier1).register(terms, confirmation), w.registry, w.tier1, role);
      await refusesRole(w.registry.connect(w.outsider).register(terms, confirmation), w.registry, w.outsider, role);
      // The same confirmation passes through a registrar.
      await expect(w.registry.connect(w.operator).register(terms, confirmation)).to.emit(
        w.registry,
        "ReceivableRegistered",
      );
    });

    it("refuses to let a non-admin set the grace period", async function () {
      const { w } = await networkHelpers.loadFixture(rolesWorld);
      await refusesRole(
        w.registry.connect(w.outsider).setGracePeriod(0n),
        w.registry,
        w.outsider,
        await w.registry.DEFAULT_ADMIN_ROLE(),
      );
    });

    it("refuses to let a non-admin wire contracts", async function () {
      const { w, other } = await networkHelpers.loadFixture(rolesWorld);
      await refusesRole(
        w.registry.connect(w.outsider).wire(other.address, other.address),
        w.registry,
        w.outsider,
        await w.registry.DEFAULT_ADMIN_ROLE(),
      );
    });

    it("refuses to let a non-pauser pause or unpause", async function () {
      const { w } = await networkHelpers.loadFixture(rolesWorld);
      const role = await w.registry.PAUSER_ROLE();
      await refusesRole(w.registry.connect(w.outsider).pause(), w.registry, w.outsider, role);
      await w.registry.connect(w.pauser).pause();
      await refusesRole(w.registry.connect(w.outsider).unpause(), w.registry, w.outsider, role);
      expect(await w.registry.paused()).to.equal(true);
    });

    it("lets an account granted PAUSER_ROLE (through the timelock) pause", async function () {
      const { w } = await networkHelpers.loadFixture(rolesWorld);
      await asAdmin(w, w.registry, "grantRole", [await w.registry.PAUSER_ROLE(), w.outsider.address]);
      await expect(w.registry.connect(w.outsider).pause()).to.emit(w.registry, "Paused").withArgs(w.outsider.address);
    });
  });

  describe("when a caller without the role uses the certificate token", function () {
    // Contract-to-contract powers are pinned to the wired contracts: no role to grant, so the
    // refusal names the caller and the one contract allowed.
    const refusesCaller = async (
      call: Promise<unknown>,
      w: TierlineWorld,
      caller: HardhatEthersSigner,
      expected: string,
    ) => {
      await expect(call)
        .to.be.revertedWithCustomError(w.certificates, "CertificateCallerNotWired")
        .withArgs(caller.address, expected);
    };

    it("refuses to let anyone but the registry issue a root, the admin included", async function () {
      const { w, receivableId } = await networkHelpers.loadFixture(rolesWorld);
      const registry = await w.registry.getAddress();
      for (const caller of [w.operator, w.outsider, w.governor]) {
        await refusesCaller(
          w.certificates.connect(caller).issueRoot(receivableId, caller.address, FACE, 2_000_000_000n),
          w,
          caller,
          registry,
        );
      }
    });

    it("refuses to let anyone but the market lock", async function () {
      const { w, free } = await networkHelpers.loadFixture(rolesWorld);
      for (const caller of [w.operator, w.tier1]) {
        await refusesCaller(w.certificates.connect(caller).lock(free), w, caller, await w.financing.getAddress());
      }
      expect(await w.certificates.lockerOf(free)).to.equal(ethers.ZeroAddress);
    });

    it("refuses to let anyone but the market unlock", async function () {
      const { w, offered } = await networkHelpers.loadFixture(rolesWorld);
      for (const caller of [w.operator, w.tier1]) {
        await refusesCaller(w.certificates.connect(caller).unlock(offered), w, caller, await w.financing.getAddress());
      }
      expect(await w.certificates.lockerOf(offered)).to.equal(await w.financing.getAddress());
    });

    it("refuses to let anyone but the market deliver a locked certificate", async function () {
      const { w, pledged } = await networkHelpers.loadFixture(rolesWorld);
      for (const caller of [w.financier, w.tier2]) {
        await refusesCaller(
          w.certificates.connect(caller).deliverLocked(pledged, caller.address),
          w,
          caller,
          await w.financing.getAddress(),
        );
      }
      expect(await w.certificates.ownerOf(pledged)).to.equal(w.tier2.address);
    });

    it("refuses to let anyone but the escrow mark a certificate settled", async function () {
      const { w, free } = await networkHelpers.loadFixture(rolesWorld);
      for (const caller of [w.operator, w.tier1]) {
        await refusesCaller(w.certificates.connect(caller).markSettled(free), w, caller, await w.escrow.getAddress());
      }
      expect(await w.certificates.ownerOf(free)).to.equal(w.tier1.address);
    });

    it("refuses to let a non-admin set the tier policy", async function () {
      const { w } = await networkHelpers.loadFixture(rolesWorld);
      await refusesRole(
        w.certificates.connect(w.outsider).setTierPolicy(1, 1n, 1),
        w.certificates,
        w.outsider,
        await w.certificates.DEFAULT_ADMIN_ROLE(),
      );
      const [maxTier] = await w.certificates.tierPolicy();
      expect(maxTier).to.equal(10n);
    });

    it("refuses to let a non-pauser pause or unpause", async function () {
      const { w } = await networkHelpers.loadFixture(rolesWorld);
      const role = await w.certificates.PAUSER_ROLE();
      await refusesRole(w.certificates.connect(w.outsider).pause(), w.certificates, w.outsider, role);
      await w.certificates.connect(w.pauser).pause();
      await refusesRole(w.certificates.connect(w.outsider).unpause(), w.certificates, w.outsider, role);
      expect(await w.certificates.paused()).to.equal(true);
    });
  });

  describe("when a caller without the role uses the financing market", function () {
    it("refuses to let a non-admin wire the escrow", async function () {
      const { w, other } = await networkHelpers.loadFixture(rolesWorld);
      await refusesRole(
        w.financing.connect(w.outsider).wireEscrow(other.address),
        w.financing,
        w.outsider,
        await w.financing.DEFAULT_ADMIN_ROLE(),
      );
    });

    it("refuses to let a non-pauser pause or unpause", async function () {
      const { w } = await networkHelpers.loadFixture(rolesWorld);
      const role = await w.financing.PAUSER_ROLE();
      await refusesRole(w.financing.connect(w.outsider).pause(), w.financing, w.outsider, role);
      await w.financing.connect(w.pauser).pause();
      await refusesRole(w.financing.connect(w.outsider).unpause(), w.financing, w.outsider, role);
      expect(await w.financing.paused()).to.equal(true);
    });

    it("refuses a leaf payment reported by anyone but the escrow", async function () {
      const { w, pledged } = await networkHelpers.loadFixture(rolesWorld);
      for (const caller of [w.operator, w.tier2]) {
        await expect(w.financing.connect(caller).recordLeafPayment(pledged, 550n * MILLION, true))
          .to.be.revertedWithCustomError(w.financing, "CallerNotEscrow")
          .withArgs(caller.address);
      }
      const [, pledgee, outstanding] = await w.financing.pledgeOf(pledged);
      expect(pledgee).to.equal(w.financier.address);
      expect(outstanding).to.equal(550n * MILLION);
    });
  });

  describe("when a caller without the role uses the party registry", function () {
    it("refuses to let it register a party or change a party's status", async function () {
      const { w } = await networkHelpers.loadFixture(rolesWorld);
      const role = await w.parties.PARTY_MANAGER_ROLE();
      await refusesRole(
        w.parties.connect(w.tier1).registerParty(w.outsider.address, legalId("outsider"), true),
        w.parties,
        w.tier1,
        role,
      );
      await refusesRole(w.parties.connect(w.tier1).setPartyActive(w.tier2.address, false), w.parties, w.tier1, role);
      expect(await w.parties.isActive(w.tier2.address)).to.equal(true);
    });
  });

  describe("when anyone but the owner mints the local settlement token", function () {
    it("refuses with OwnableUnauthorizedAccount", async function () {
      const { w } = await networkHelpers.loadFixture(rolesWorld);
      const supply = await w.token.totalSupply();
      await expect(w.token.connect(w.outsider).mint(w.outsider.address, FACE))
        .to.be.revertedWithCustomError(w.token, "OwnableUnauthorizedAccount")
        .withArgs(w.outsider.address);
      expect(await w.token.totalSupply()).to.equal(supply);
    });
  });

  describe("when the admin wires contracts a second time", function () {
    it("refuses to rewire the registry", async function () {
      const { w, other } = await networkHelpers.loadFixture(rolesWorld);
      await expect(asAdmin(w, w.registry, "wire", [other.address, other.address]))
        .to.be.revertedWithCustomError(w.registry, "AlreadyWired")
        .withArgs();
      expect(await w.registry.settlementEscrow()).to.equal(await w.escrow.getAddress());
      expect(await w.registry.certificates()).to.equal(await w.certificates.getAddress());
    });

    it("refuses to rewire the financing market's escrow", async function () {
      const { w, other } = await networkHelpers.loadFixture(rolesWorld);
      await expect(asAdmin(w, w.financing, "wireEscrow", [other.address]))
        .to.be.revertedWithCustomError(w.financing, "EscrowWiringInvalid")
        .withArgs(other.address);
      expect(await w.financing.escrow()).to.equal(await w.escrow.getAddress());
    });

    it("refuses to rewire the certificate token's market and escrow", async function () {
      const { w, other } = await networkHelpers.loadFixture(rolesWorld);
      await expect(asAdmin(w, w.certificates, "wire", [other.address, other.address]))
        .to.be.revertedWithCustomError(w.certificates, "CertificateWiringInvalid")
        .withArgs();
      expect(await w.certificates.financingMarket()).to.equal(await w.financing.getAddress());
      expect(await w.certificates.settlementEscrow()).to.equal(await w.escrow.getAddress());
    });

    it("refuses zero addresses when wiring fresh contracts", async function () {
      const { w, other } = await networkHelpers.loadFixture(rolesWorld);
      const registry = (await ethers.deployContract("ReceivableRegistry", [
        w.operator.address,
        await w.parties.getAddress(),
        await w.token.getAddress(),
      ])) as unknown as ReceivableRegistry;
      await expect(registry.wire(ethers.ZeroAddress, other.address))
        .to.be.revertedWithCustomError(registry, "ZeroAddress")
        .withArgs();
      await expect(registry.wire(other.address, ethers.ZeroAddress))
        .to.be.revertedWithCustomError(registry, "ZeroAddress")
        .withArgs();

      const financing = (await ethers.deployContract("FinancingMarket", [
        w.operator.address,
        await w.certificates.getAddress(),
        await w.registry.getAddress(),
        await w.parties.getAddress(),
      ])) as unknown as FinancingMarket;
      await expect(financing.wireEscrow(ethers.ZeroAddress))
        .to.be.revertedWithCustomError(financing, "EscrowWiringInvalid")
        .withArgs(ethers.ZeroAddress);
      await expect(financing.wireEscrow(other.address)).to.emit(financing, "EscrowWired").withArgs(other.address);
    });
  });
});
