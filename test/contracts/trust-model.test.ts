// The trust model, attacked: no single key -- the operator's admin, registrar, pauser or party
// manager included -- can take a certificate, burn it, mint a second claim on a receivable, or
// re-price what a financier already bought. Each attack is narrated as the dishonest operator
// (or a thief holding one of its keys) would run it, and each is refused or has no effect.
import { expect } from "chai";
import { network } from "hardhat";
import { signAliasConsent } from "../../server/chain/alias-consent-typed-data.js";
import { signAttestation, type RiskAttestation } from "../../server/chain/attestation-typed-data.js";
import { checkRoles } from "../../server/chain/deploy-tierline.js";
import { makeTerms, signConfirmation } from "../helpers/confirmation.js";
import { asAdmin, DAY, deployWorld, MILLION, registerAliasOf, type TierlineWorld } from "../helpers/fixture.js";
import { fundRequest, registerReceivable, splitCertificate } from "../helpers/lifecycle.js";

const { ethers, networkHelpers } = await network.create();
const { time } = networkHelpers;

const FACE = 1_000n * MILLION;
const DISCOUNT = 0;
const PLEDGE = 1;
const STATUS = { Cancelled: 2n, Sold: 3n, Pledged: 4n, Released: 5n } as const;
const RECEIVABLE = { Active: 1n, Defaulted: 3n, Repaid: 4n } as const;

/** tier1 holds a 1,000 receivable's root and sold it to the financier at 970 (request 1). */
async function soldWorld() {
  const w = await deployWorld(ethers);
  const registered = await registerReceivable(w, FACE, { tenor: 100n * DAY });
  await w.financing.connect(w.tier1).openRequest(registered.rootId, DISCOUNT, 970n * MILLION, 0n);
  await fundRequest(w, w.financier, 1n, 970n * MILLION, 0n);
  return { w, ...registered };
}

/** tier1 pledged the root of a 1,000 receivable to the financier: 900 lent, 950 owed (request 1). */
async function pledgedWorld() {
  const w = await deployWorld(ethers);
  const registered = await registerReceivable(w, FACE, { tenor: 100n * DAY });
  await w.financing.connect(w.tier1).openRequest(registered.rootId, PLEDGE, 900n * MILLION, 950n * MILLION);
  await fundRequest(w, w.financier, 1n, 900n * MILLION, 950n * MILLION);
  return { w, ...registered };
}

const role = (name: string) => ethers.id(name);
const world = () => deployWorld(ethers);

describe("trust model", function () {
  describe("when the admin tries to seize a sold certificate (lock + deliverLocked)", function () {
    it("can grant itself the old LOCKER_ROLE, but the token takes orders only from the wired market", async function () {
      const { w, rootId } = await networkHelpers.loadFixture(soldWorld);
      // The dishonest governor pushes a role grant through its own timelock: it goes through...
      await asAdmin(w, w.certificates, "grantRole", [role("LOCKER_ROLE"), w.governor.address]);
      expect(await w.certificates.hasRole(role("LOCKER_ROLE"), w.governor.address)).to.equal(true);
      // ...and buys nothing: lock and delivery are pinned to the market's address.
      const market = await w.financing.getAddress();
      await expect(w.certificates.connect(w.governor).lock(rootId))
        .to.be.revertedWithCustomError(w.certificates, "CertificateCallerNotWired")
        .withArgs(w.governor.address, market);
      await expect(w.certificates.connect(w.governor).deliverLocked(rootId, w.governor.address))
        .to.be.revertedWithCustomError(w.certificates, "CertificateCallerNotWired")
        .withArgs(w.governor.address, market);
      // Nor can it point the token at a market of its own.
      await expect(asAdmin(w, w.certificates, "wire", [w.governor.address, w.governor.address]))
        .to.be.revertedWithCustomError(w.certificates, "CertificateWiringInvalid")
        .withArgs();
      expect(await w.certificates.ownerOf(rootId)).to.equal(w.financier.address);
    });
  });

  describe("when the admin tries to burn a certificate", function () {
    it("is refused: only the wired escrow closes certificates, and only when paid", async function () {
      const { w, rootId } = await networkHelpers.loadFixture(soldWorld);
      await asAdmin(w, w.certificates, "grantRole", [role("SETTLER_ROLE"), w.governor.address]);
      await expect(w.certificates.connect(w.governor).markSettled(rootId))
        .to.be.revertedWithCustomError(w.certificates, "CertificateCallerNotWired")
        .withArgs(w.governor.address, await w.escrow.getAddress());
      expect((await w.certificates.certificateOf(rootId)).state).to.equal(1n); // Live
      expect(await w.certificates.ownerOf(rootId)).to.equal(w.financier.address);
    });
  });

  describe("when someone tries to mint a second root on a registered receivable", function () {
    it("refuses the admin with the old ISSUER_ROLE", async function () {
      const { w, receivableId } = await networkHelpers.loadFixture(soldWorld);
      await asAdmin(w, w.certificates, "grantRole", [role("ISSUER_ROLE"), w.governor.address]);
      await expect(w.certificates.connect(w.governor).issueRoot(receivableId, w.governor.address, FACE, 2_000_000_000n))
        .to.be.revertedWithCustomError(w.certificates, "CertificateCallerNotWired")
        .withArgs(w.governor.address, await w.registry.getAddress());
    });

    it("refuses even the registry itself once the receivable has a root, repaid or not", async function () {
      const { w, receivableId } = await networkHelpers.loadFixture(soldWorld);
      await w.escrow.connect(w.debtor).repay(receivableId, FACE);
      expect(await w.registry.statusOf(receivableId)).to.equal(RECEIVABLE.Repaid);
      // Speak as the registry contract (a bug in it, or a future registry): still one root only.
      const registryAddress = await w.registry.getAddress();
      await networkHelpers.impersonateAccount(registryAddress);
      await networkHelpers.setBalance(registryAddress, 10n ** 18n);
      const asRegistry = await ethers.getSigner(registryAddress);
      const next = await w.certificates.nextCertificateId();
      await expect(w.certificates.connect(asRegistry).issueRoot(receivableId, w.outsider.address, FACE, 2_000_000_000n))
        .to.be.revertedWithCustomError(w.certificates, "CertificateRootExists")
        .withArgs(receivableId);
      expect(await w.certificates.nextCertificateId()).to.equal(next);
      expect(await w.certificates.leafCountOf(receivableId)).to.equal(1n);
    });

    it("refuses even the registry itself for a receivable it is not registering", async function () {
      const { w } = await networkHelpers.loadFixture(soldWorld);
      // The tree of a receivable is the registry record's (issue 12), prepared as it registers one:
      // a root for any other id would be a claim on nothing, so the token refuses it.
      const registryAddress = await w.registry.getAddress();
      await networkHelpers.impersonateAccount(registryAddress);
      await networkHelpers.setBalance(registryAddress, 10n ** 18n);
      const asRegistry = await ethers.getSigner(registryAddress);
      const next = await w.certificates.nextCertificateId();
      const unknown = ethers.id("a receivable nobody registered");
      await expect(w.certificates.connect(asRegistry).issueRoot(unknown, w.outsider.address, FACE, 2_000_000_000n))
        .to.be.revertedWithCustomError(w.certificates, "CertificateReceivableNotRegistered")
        .withArgs(unknown);
      expect(await w.certificates.nextCertificateId()).to.equal(next);
      expect(await w.certificates.balanceOf(w.outsider.address)).to.equal(0n);
    });
  });

  describe("when the operator adds an address of its own to a real debtor and confirms a claim with it (alias)", function () {
    it("is refused at the alias registration: the party manager and the registrar together mint nothing", async function () {
      const w = await networkHelpers.loadFixture(world);
      const debtorLegalId = await w.parties.legalIdOf(w.debtor.address);
      // The operator holds the party manager's and the registrar's hot keys, and a fresh key of
      // its own (the outsider's) that it wants to pass off as a second address of the debtor.
      const alias = w.outsider;
      const nextCertificate = await w.certificates.nextCertificateId();

      // 1. The party manager registers the alias under the debtor's legal id: refused.
      await expect(w.parties.connect(w.partyManager).registerParty(alias.address, debtorLegalId, true))
        .to.be.revertedWithCustomError(w.parties, "PartyAliasConsentRequired")
        .withArgs(alias.address, debtorLegalId);
      // ...nor with a "consent" its own key signed in the debtor's name...
      const chainId = (await ethers.provider.getNetwork()).chainId;
      const forged = await signAliasConsent(alias, chainId, await w.parties.getAddress(), {
        account: alias.address,
        legalIdHash: debtorLegalId,
        nonce: 1n,
        deadline: BigInt(await time.latest()) + 3_600n,
      });
      await expect(
        w.parties.connect(w.partyManager).registerAlias(alias.address, debtorLegalId, {
          ...forged,
          approver: w.debtor.address,
        }),
      )
        .to.be.revertedWithCustomError(w.parties, "PartyAliasInvalidSignature")
        .withArgs(w.debtor.address);
      // ...nor by naming itself as the approver...
      await expect(w.parties.connect(w.partyManager).registerAlias(alias.address, debtorLegalId, forged))
        .to.be.revertedWithCustomError(w.parties, "PartyAliasApproverInvalid")
        .withArgs(alias.address, debtorLegalId);
      // ...nor through the admin's path, which only the timelock (the governor, after the delay) may use.
      await expect(w.parties.connect(w.partyManager).registerAliasByAdmin(alias.address, debtorLegalId, true))
        .to.be.revertedWithCustomError(w.parties, "AccessControlUnauthorizedAccount")
        .withArgs(w.partyManager.address, ethers.ZeroHash);
      expect(await w.parties.addressCountOf(debtorLegalId)).to.equal(1n);

      // 2. The registrar registers a receivable on the debtor, "confirmed" by the alias: the alias
      // is no party (whatever it signs), and the alias's signature is not the debtor's.
      const registrar = w.registry.connect(w.operator);
      const now = BigInt(await time.latest());
      const onAlias = makeTerms(w.tier1, alias, "INV-ALIAS", FACE, now + 90n * DAY);
      await expect(registrar.register(onAlias, { nonce: 1n, deadline: now + 3_600n, signature: "0x" }))
        .to.be.revertedWithCustomError(w.registry, "PartyNotActive")
        .withArgs(alias.address);
      const onDebtor = makeTerms(w.tier1, w.debtor, "INV-ALIAS", FACE, now + 90n * DAY);
      await expect(registrar.register(onDebtor, await signConfirmation(w.registry, alias, onDebtor, 1n, now + 3_600n)))
        .to.be.revertedWithCustomError(w.registry, "ConfirmationInvalidSignature")
        .withArgs(w.debtor.address);
      expect(await w.certificates.nextCertificateId()).to.equal(nextCertificate);
    });

    it("lets an alias the debtor consented to confirm claims in the debtor's name, as aliases always could", async function () {
      const w = await networkHelpers.loadFixture(world);
      const debtorLegalId = await w.parties.legalIdOf(w.debtor.address);
      const alias = w.outsider;
      await expect(registerAliasOf(w, w.debtor, alias.address))
        .to.emit(w.parties, "PartyAliasAdded")
        .withArgs(alias.address, debtorLegalId, w.debtor.address);
      const now = BigInt(await time.latest());
      const terms = makeTerms(w.tier1, alias, "INV-ALIAS-OK", FACE, now + 90n * DAY);
      const registering = w.registry
        .connect(w.operator)
        .register(terms, await signConfirmation(w.registry, alias, terms, 1n, now + 3_600n));
      await expect(registering).to.emit(w.registry, "ReceivableRegistered");
      const receivableId = await w.registry.receivableIdOf(terms);
      expect((await w.registry.receivableOf(receivableId)).debtor).to.equal(alias.address);
    });
  });

  describe("when the deployment is done", function () {
    it("leaves every power with its own key, the admin role with the timelock, and nothing with the deployer", async function () {
      const w = await networkHelpers.loadFixture(world);
      const deployer = (await ethers.getSigners())[12]!.address;
      const timelock = await w.timelock.getAddress();
      const admin = ethers.ZeroHash;
      for (const contract of [w.parties, w.registry, w.certificates, w.financing]) {
        expect(await contract.hasRole(admin, timelock)).to.equal(true);
        for (const key of [
          deployer,
          w.operator.address,
          w.governor.address,
          w.pauser.address,
          w.partyManager.address,
        ]) {
          expect(await contract.hasRole(admin, key)).to.equal(false);
        }
      }
      for (const contract of [w.registry, w.certificates, w.financing]) {
        expect(await contract.hasRole(role("PAUSER_ROLE"), w.pauser.address)).to.equal(true);
        expect(await contract.hasRole(role("PAUSER_ROLE"), deployer)).to.equal(false);
      }
      expect(await w.registry.hasRole(role("REGISTRAR_ROLE"), w.operator.address)).to.equal(true);
      expect(await w.registry.hasRole(role("REGISTRAR_ROLE"), deployer)).to.equal(false);
      expect(await w.parties.hasRole(role("PARTY_MANAGER_ROLE"), w.partyManager.address)).to.equal(true);
      expect(await w.parties.hasRole(role("PARTY_MANAGER_ROLE"), deployer)).to.equal(false);
      expect(await w.financing.hasRole(role("ATTESTER_ROLE"), w.attester.address)).to.equal(true);
      expect(await w.timelock.hasRole(await w.timelock.PROPOSER_ROLE(), w.governor.address)).to.equal(true);
      expect(await w.timelock.hasRole(await w.timelock.DEFAULT_ADMIN_ROLE(), deployer)).to.equal(false);
      expect(await w.timelock.hasRole(await w.timelock.DEFAULT_ADMIN_ROLE(), timelock)).to.equal(true);
    });

    it("makes the governor wait out the timelock's delay on a real delay", async function () {
      const w = await networkHelpers.loadFixture(world);
      // Raise the delay to two days (itself an admin action), then try a quick grace-period change.
      await asAdmin(w, w.timelock, "updateDelay", [2n * DAY]);
      const data = w.registry.interface.encodeFunctionData("setGracePeriod", [0n]);
      const target = await w.registry.getAddress();
      const salt = ethers.id("quick");
      const timelock = w.timelock.connect(w.governor);
      await timelock.schedule(target, 0n, data, ethers.ZeroHash, salt, 2n * DAY);
      await expect(timelock.execute(target, 0n, data, ethers.ZeroHash, salt)).to.be.revertedWithCustomError(
        w.timelock,
        "TimelockUnexpectedOperationState",
      );
      await time.increase(2n * DAY);
      await expect(timelock.execute(target, 0n, data, ethers.ZeroHash, salt))
        .to.emit(w.registry, "GracePeriodSet")
        .withArgs(0n);
    });

    it("refuses a plan that gives two duties one key, any duty to the deployer, or a zero delay off the local chain", async function () {
      const [a, b, c, d, e, f] = (await ethers.getSigners()).map((s) => s.address);
      const plan = { governor: a!, timelockDelay: 0n, registrars: [b!], pauser: c!, partyManager: d!, attester: e! };
      expect(() => checkRoles(plan, 31337n, f!)).not.to.throw();
      expect(() => checkRoles({ ...plan, pauser: b! }, 31337n, f!)).to.throw(
        /registrars\[0\] and pauser must be different keys/,
      );
      expect(() => checkRoles(plan, 31337n, a!)).to.throw(/governor must not be the deployer/);
      expect(() => checkRoles(plan, 1n, f!)).to.throw(/zero timelock delay is allowed only on the local chain/);
      expect(() => checkRoles({ ...plan, timelockDelay: 86_400n }, 1n, f!)).not.to.throw();
    });
  });

  describe("when the operator re-prices a sold receivable (early-payment rate to 100%)", function () {
    it("has no effect: the receivable keeps the rate it was registered with", async function () {
      const { w, receivableId, rootId, terms } = await networkHelpers.loadFixture(soldWorld);
      // The financier paid 970 for a claim registered with no early-payment rate.
      expect((await w.registry.receivableOf(receivableId)).earlyPaymentRateBps).to.equal(0n);
      await w.registry.connect(w.operator).setEarlyPaymentRate(w.debtor.address, 10_000);
      expect((await w.registry.receivableOf(receivableId)).earlyPaymentRateBps).to.equal(0n);
      // So no early discharge at 100% a year: the debtor cannot pay ~half and close the claim.
      await expect(w.escrow.earlyRepaymentQuote(receivableId))
        .to.be.revertedWithCustomError(w.registry, "EarlyPaymentUnavailable")
        .withArgs(receivableId, 0, terms.dueDate);
      await expect(w.escrow.connect(w.debtor).repayEarly(receivableId, FACE)).to.be.revertedWithCustomError(
        w.registry,
        "EarlyPaymentUnavailable",
      );
      // At maturity the financier gets the full face it bought.
      await time.increaseTo(terms.dueDate);
      await w.escrow.connect(w.debtor).repay(receivableId, FACE);
      const before = await w.token.balanceOf(w.financier.address);
      await w.escrow.settle(receivableId, [rootId]);
      expect((await w.token.balanceOf(w.financier.address)) - before).to.equal(FACE);
    });

    it("keeps a rate set before registration, and re-prices only receivables registered later", async function () {
      const w = await networkHelpers.loadFixture(world);
      await w.registry.connect(w.operator).setEarlyPaymentRate(w.debtor.address, 1_000);
      const first = await registerReceivable(w, FACE, { tenor: 100n * DAY });
      await w.registry.connect(w.operator).setEarlyPaymentRate(w.debtor.address, 10_000);
      const second = await registerReceivable(w, FACE, { tenor: 100n * DAY });
      expect((await w.registry.receivableOf(first.receivableId)).earlyPaymentRateBps).to.equal(1_000n);
      expect((await w.registry.receivableOf(second.receivableId)).earlyPaymentRateBps).to.equal(10_000n);
      await time.setNextBlockTimestamp(first.terms.dueDate - 73n * DAY);
      await networkHelpers.mine();
      const [amount, discount] = await w.escrow.earlyRepaymentQuote(first.receivableId);
      // 1,000 x 10% x 73/365 = 20: the first receivable's own rate, not today's 100%.
      expect([amount, discount]).to.deep.equal([980n * MILLION, 20n * MILLION]);
    });

    it("emits the frozen terms at registration, for auditors and indexers", async function () {
      const w = await networkHelpers.loadFixture(world);
      await w.registry.connect(w.operator).setEarlyPaymentRate(w.debtor.address, 250);
      const { receivableId } = await registerReceivable(w, FACE);
      const events = await w.registry.queryFilter(w.registry.filters.ReceivableTermsFrozen(receivableId));
      expect(events.map((e) => [e.args.gracePeriod, e.args.earlyPaymentRateBps])).to.deep.equal([[30n * DAY, 250n]]);
    });
  });

  describe("when the admin sets the grace period to 0 after a pledge was funded (instant default)", function () {
    it("has no effect on the pledged receivable: it cannot be defaulted before its own grace period ends", async function () {
      const { w, receivableId, terms } = await networkHelpers.loadFixture(pledgedWorld);
      await asAdmin(w, w.registry, "setGracePeriod", [0n]);
      await time.setNextBlockTimestamp(terms.dueDate + 1n);
      await expect(w.registry.markDefaulted(receivableId))
        .to.be.revertedWithCustomError(w.registry, "ReceivableNotYetDue")
        .withArgs(receivableId, terms.dueDate + 30n * DAY + 1n, terms.dueDate + 1n);
      // The pledgee cannot foreclose, and the debtor's (slightly late) payment goes through.
      await expect(w.financing.connect(w.financier).foreclose(1n)).to.be.revertedWithCustomError(
        w.registry,
        "ReceivableWrongStatus",
      );
      await w.escrow.connect(w.debtor).repay(receivableId, FACE);
      expect(await w.registry.statusOf(receivableId)).to.equal(RECEIVABLE.Repaid);
    });
  });

  describe("when a debtor pays after its receivable defaulted", function () {
    it("pays the pledgee first, then the holder, and closes the pledge", async function () {
      const { w, receivableId, rootId, terms } = await networkHelpers.loadFixture(pledgedWorld);
      await time.increaseTo(terms.dueDate + 30n * DAY + 1n);
      await w.registry.markDefaulted(receivableId);
      const bank = await w.token.balanceOf(w.financier.address);
      const holder = await w.token.balanceOf(w.tier1.address);

      // 600 late: all of it to the pledgee (owed 950).
      await w.escrow.connect(w.debtor).repay(receivableId, 600n * MILLION);
      await w.escrow.settle(receivableId, [rootId]);
      expect((await w.token.balanceOf(w.financier.address)) - bank).to.equal(600n * MILLION);
      expect(await w.token.balanceOf(w.tier1.address)).to.equal(holder);
      expect((await w.financing.pledgeOf(rootId))[2]).to.equal(350n * MILLION);

      // The remaining 400: 350 closes the pledge, 50 to the holder; the receivable is Repaid.
      await w.escrow.connect(w.debtor).repay(receivableId, 400n * MILLION);
      await expect(w.escrow.settle(receivableId, [rootId]))
        .to.emit(w.financing, "PledgeReleased")
        .withArgs(1n, rootId, 0n);
      expect((await w.token.balanceOf(w.financier.address)) - bank).to.equal(950n * MILLION);
      expect((await w.token.balanceOf(w.tier1.address)) - holder).to.equal(50n * MILLION);
      expect(await w.registry.statusOf(receivableId)).to.equal(RECEIVABLE.Repaid);
      expect((await w.financing.requestOf(1n)).status).to.equal(STATUS.Released);
    });

    it("pays a pledgee that foreclosed as the certificate's holder", async function () {
      const { w, receivableId, rootId, terms } = await networkHelpers.loadFixture(pledgedWorld);
      await time.increaseTo(terms.dueDate + 30n * DAY + 1n);
      await w.registry.markDefaulted(receivableId);
      await w.financing.connect(w.financier).foreclose(1n);
      const bank = await w.token.balanceOf(w.financier.address);
      await w.escrow.connect(w.debtor).repay(receivableId, FACE);
      await w.escrow.settle(receivableId, [rootId]);
      expect((await w.token.balanceOf(w.financier.address)) - bank).to.equal(FACE);
    });
  });

  describe("when a listed certificate is half paid out before anyone funds it (the half-paid listing)", function () {
    /** A 50-face piece listed at 48 (request 1); the debtor then pays half the receivable. */
    async function halfPaidListing() {
      const w = await deployWorld(ethers);
      const { receivableId, rootId } = await registerReceivable(w, 100n * MILLION);
      const [piece, rest] = await splitCertificate(w, w.tier1, rootId, [
        { to: w.tier2, amount: 50n * MILLION },
        { to: w.tier1, amount: 50n * MILLION },
      ]);
      await w.financing.connect(w.tier2).openRequest(piece!, DISCOUNT, 48n * MILLION, 0n);
      const shown = await w.financing.remainingClaimOf(piece!);
      await w.escrow.connect(w.debtor).repay(receivableId, 50n * MILLION);
      return { w, receivableId, piece: piece!, rest: rest!, shown };
    }

    it("cancels the open request when the keeper pays the piece its half, and unlocks it", async function () {
      const { w, receivableId, piece, rest } = await networkHelpers.loadFixture(halfPaidListing);
      await expect(w.escrow.settle(receivableId, [piece, rest]))
        .to.emit(w.financing, "FinancingCancelled")
        .withArgs(1n, piece);
      expect((await w.financing.requestOf(1n)).status).to.equal(STATUS.Cancelled);
      expect(await w.financing.activeRequestOf(piece)).to.equal(0n);
      expect((await w.certificates.certificateOf(piece)).state).to.equal(1n); // Live again
      expect(await w.financing.remainingClaimOf(piece)).to.equal(25n * MILLION);
      // The financier who saw "48 for 50" cannot buy it any more.
      await expect(fundRequest(w, w.financier, 1n, 48n * MILLION, 0n))
        .to.be.revertedWithCustomError(w.financing, "FinancingWrongStatus")
        .withArgs(1n, STATUS.Cancelled);
    });

    it("refuses a funding bound to the remaining claim it was shown once that changed", async function () {
      const { w, receivableId, piece, rest, shown } = await networkHelpers.loadFixture(halfPaidListing);
      expect(shown).to.equal(50n * MILLION);
      await w.escrow.settle(receivableId, [piece, rest]);
      // Relisted at 24 for the 25 that remain; a financier still holding the old figure is refused.
      await w.financing.connect(w.tier2).openRequest(piece, DISCOUNT, 24n * MILLION, 0n);
      await expect(w.financing.connect(w.financier).fund(2n, 24n * MILLION, 0n, shown))
        .to.be.revertedWithCustomError(w.financing, "FinancingRemainingClaimMismatch")
        .withArgs(2n, 25n * MILLION);
      await expect(w.financing.connect(w.financier).fund(2n, 24n * MILLION, 0n, 25n * MILLION))
        .to.emit(w.financing, "FinancingFunded")
        .withArgs(2n, piece, w.financier.address, DISCOUNT, 24n * MILLION);
    });

    it("refuses a new request priced or pledged above the remaining claim", async function () {
      const { w, receivableId, piece, rest } = await networkHelpers.loadFixture(halfPaidListing);
      await w.escrow.settle(receivableId, [piece, rest]);
      await expect(w.financing.connect(w.tier2).openRequest(piece, PLEDGE, 20n * MILLION, 30n * MILLION))
        .to.be.revertedWithCustomError(w.financing, "FinancingTermsInvalid")
        .withArgs(20n * MILLION, 30n * MILLION, 25n * MILLION);
      await expect(w.financing.connect(w.tier2).openRequest(piece, DISCOUNT, 26n * MILLION, 0n))
        .to.be.revertedWithCustomError(w.financing, "FinancingTermsInvalid")
        .withArgs(26n * MILLION, 0n, 25n * MILLION);
    });
  });

  describe("when a holder lists a certificate directly, skipping the service's credit checks", function () {
    /** tier1 lists its whole 1,000 root at 100% of face (request 1), straight on the market. */
    async function directListing() {
      const w = await deployWorld(ethers);
      const { rootId } = await registerReceivable(w, FACE);
      await w.financing.connect(w.tier1).openRequest(rootId, DISCOUNT, FACE, 0n);
      return { w, rootId };
    }

    async function attestation(w: TierlineWorld, rootId: bigint, overrides: Partial<RiskAttestation> = {}) {
      const att: RiskAttestation = {
        requestId: 1n,
        certificateId: rootId,
        price: FACE,
        repayAmount: 0n,
        remainingClaim: FACE,
        advanceRateBps: 10_000,
        expiry: BigInt(await time.latest()) + 3_600n,
        ...overrides,
      };
      return att;
    }
    const sign = async (w: TierlineWorld, att: RiskAttestation, signer = w.attester) =>
      signAttestation(signer, (await ethers.provider.getNetwork()).chainId, await w.financing.getAddress(), att);

    it("lists it as unattested, and an attested-only funding refuses it", async function () {
      const { w } = await networkHelpers.loadFixture(directListing);
      expect(await w.financing.isAttested(1n)).to.equal(false);
      expect((await w.financing.requestOf(1n)).attestedUntil).to.equal(0n);
      await expect(w.financing.connect(w.financier).fundAttested(1n, FACE, 0n, FACE))
        .to.be.revertedWithCustomError(w.financing, "FinancingNotAttested")
        .withArgs(1n);
    });

    it("refuses an attestation signed by anyone but an attester (the holder, the registrar)", async function () {
      const { w, rootId } = await networkHelpers.loadFixture(directListing);
      const att = await attestation(w, rootId);
      for (const signer of [w.tier1, w.operator]) {
        await expect(w.financing.connect(w.tier1).attestRequest(att, await sign(w, att, signer)))
          .to.be.revertedWithCustomError(w.financing, "FinancingAttestationSigner")
          .withArgs(signer.address);
      }
      expect(await w.financing.isAttested(1n)).to.equal(false);
    });

    it("refuses an attestation of other terms, or one already expired", async function () {
      const { w, rootId } = await networkHelpers.loadFixture(directListing);
      const cheaper = await attestation(w, rootId, { price: 900n * MILLION });
      await expect(w.financing.attestRequest(cheaper, await sign(w, cheaper)))
        .to.be.revertedWithCustomError(w.financing, "FinancingAttestationMismatch")
        .withArgs(1n);
      const now = BigInt(await time.latest());
      const stale = await attestation(w, rootId, { expiry: now - 1n });
      await expect(w.financing.attestRequest(stale, await sign(w, stale))).to.be.revertedWithCustomError(
        w.financing,
        "FinancingAttestationExpired",
      );
    });

    it("records a valid attestation, which then lets an attested-only funding through until it expires", async function () {
      const { w, rootId } = await networkHelpers.loadFixture(directListing);
      const att = await attestation(w, rootId, { advanceRateBps: 9_000 });
      await expect(w.financing.connect(w.outsider).attestRequest(att, await sign(w, att)))
        .to.emit(w.financing, "FinancingAttested")
        .withArgs(1n, w.attester.address, 9_000, att.expiry);
      expect(await w.financing.isAttested(1n)).to.equal(true);
      const request = await w.financing.requestOf(1n);
      expect([request.attestedUntil, request.advanceRateBps]).to.deep.equal([att.expiry, 9_000n]);

      const later = await networkHelpers.takeSnapshot();
      await time.increaseTo(att.expiry + 1n);
      expect(await w.financing.isAttested(1n)).to.equal(false);
      await expect(w.financing.connect(w.financier).fundAttested(1n, FACE, 0n, FACE))
        .to.be.revertedWithCustomError(w.financing, "FinancingNotAttested")
        .withArgs(1n);
      await later.restore();

      await expect(w.financing.connect(w.financier).fundAttested(1n, FACE, 0n, FACE))
        .to.emit(w.financing, "FinancingFunded")
        .withArgs(1n, rootId, w.financier.address, DISCOUNT, FACE);
      expect(await w.financing.isAttested(1n)).to.equal(false); // sold: no longer an open request
    });
  });
});
