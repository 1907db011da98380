// PartyRegistry: who may take part, under which legal id, and who may say so.
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import { network } from "hardhat";
import {
  aliasConsentDomain,
  ALIAS_CONSENT_TYPES,
  signAliasConsent,
} from "../../server/chain/alias-consent-typed-data.js";
import { asAdmin, deployWorld, legalId, registerAliasOf, type TierlineWorld } from "../helpers/fixture.js";

const { ethers, networkHelpers } = await network.create();
const { time } = networkHelpers;
const world = () => deployWorld(ethers);
const HOUR = 3_600n;

/** `signer` signs a consent to `account` joining `legalIdHash`; `approver` defaults to the signer. */
async function consentBy(
  w: TierlineWorld,
  signer: HardhatEthersSigner,
  account: string,
  legalIdHash: string,
  options: { nonce?: bigint; deadline?: bigint; approver?: string } = {},
) {
  const chainId = (await ethers.provider.getNetwork()).chainId;
  const deadline = options.deadline ?? BigInt(await time.latest()) + HOUR;
  const consent = await signAliasConsent(signer, chainId, await w.parties.getAddress(), {
    account,
    legalIdHash,
    nonce: options.nonce ?? 1n,
    deadline,
  });
  return { ...consent, approver: options.approver ?? consent.approver };
}

describe("PartyRegistry", function () {
  describe("when the operator registers a new party", function () {
    it("records it as active under its legal id and emits PartyRegistered and PartyStatusChanged", async function () {
      const w = await networkHelpers.loadFixture(world);
      const hash = legalId("outsider-ltd");
      expect(await w.parties.isActive(w.outsider.address)).to.equal(false);

      await expect(w.parties.connect(w.partyManager).registerParty(w.outsider.address, hash, true))
        .to.emit(w.parties, "PartyRegistered")
        .withArgs(w.outsider.address, hash)
        .and.to.emit(w.parties, "PartyStatusChanged")
        .withArgs(w.outsider.address, true);

      const party = await w.parties.partyOf(w.outsider.address);
      expect(party.legalIdHash).to.equal(hash);
      expect(party.active).to.equal(true);
      expect(await w.parties.isActive(w.outsider.address)).to.equal(true);
      expect(await w.parties.legalIdOf(w.outsider.address)).to.equal(hash);
    });

    it("records the deployment block for indexers", async function () {
      const w = await networkHelpers.loadFixture(world);
      const deployedAt = await w.parties.deploymentBlock();
      expect(deployedAt).to.be.greaterThan(0n);
      expect(deployedAt).to.be.lessThanOrEqual(BigInt(await ethers.provider.getBlockNumber()));
    });
  });

  describe("when a second address joins a legal id that already has one (an alias)", function () {
    it("refuses the party manager alone with PartyAliasConsentRequired, and registers nothing", async function () {
      const w = await networkHelpers.loadFixture(world);
      await expect(w.parties.connect(w.partyManager).registerParty(w.outsider.address, legalId("tier1"), true))
        .to.be.revertedWithCustomError(w.parties, "PartyAliasConsentRequired")
        .withArgs(w.outsider.address, legalId("tier1"));
      expect(await w.parties.isActive(w.outsider.address)).to.equal(false);
      expect(await w.parties.addressCountOf(legalId("tier1"))).to.equal(1n);
    });

    it("lets it share the legal id with an existing address's signed consent, and emits PartyAliasAdded", async function () {
      const w = await networkHelpers.loadFixture(world);
      const hash = legalId("tier1");
      const consent = await consentBy(w, w.tier1, w.outsider.address, hash, { nonce: 7n });
      await expect(w.parties.connect(w.partyManager).registerAlias(w.outsider.address, hash, consent))
        .to.emit(w.parties, "PartyRegistered")
        .withArgs(w.outsider.address, hash)
        .and.to.emit(w.parties, "PartyStatusChanged")
        .withArgs(w.outsider.address, true)
        .and.to.emit(w.parties, "PartyAliasAdded")
        .withArgs(w.outsider.address, hash, w.tier1.address);
      expect(await w.parties.legalIdOf(w.outsider.address)).to.equal(await w.parties.legalIdOf(w.tier1.address));
      expect(await w.parties.isActive(w.outsider.address)).to.equal(true);
      expect(await w.parties.addressCountOf(hash)).to.equal(2n);
      expect(await w.parties.aliasNonceUsed(w.tier1.address, 7n)).to.equal(true);
    });

    it("lets the alias itself consent to a third address", async function () {
      const w = await networkHelpers.loadFixture(world);
      await registerAliasOf(w, w.tier1, w.outsider.address);
      const third = (await ethers.getSigners())[13]!;
      await expect(registerAliasOf(w, w.outsider, third.address))
        .to.emit(w.parties, "PartyAliasAdded")
        .withArgs(third.address, legalId("tier1"), w.outsider.address);
      expect(await w.parties.addressCountOf(legalId("tier1"))).to.equal(3n);
    });

    it("lets the governor add it through the timelock, with the timelock as approver", async function () {
      const w = await networkHelpers.loadFixture(world);
      const hash = legalId("core-enterprise");
      await expect(asAdmin(w, w.parties, "registerAliasByAdmin", [w.outsider.address, hash, true]))
        .to.emit(w.parties, "PartyAliasAdded")
        .withArgs(w.outsider.address, hash, await w.timelock.getAddress())
        .and.to.emit(w.parties, "PartyRegistered")
        .withArgs(w.outsider.address, hash);
      expect(await w.parties.legalIdOf(w.outsider.address)).to.equal(hash);
      expect(await w.parties.isActive(w.outsider.address)).to.equal(true);
    });

    it("refuses the admin path to every key but the timelock: party manager, governor, registrar", async function () {
      const w = await networkHelpers.loadFixture(world);
      for (const caller of [w.partyManager, w.governor, w.operator]) {
        await expect(
          w.parties.connect(caller).registerAliasByAdmin(w.outsider.address, legalId("core-enterprise"), true),
        )
          .to.be.revertedWithCustomError(w.parties, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, ethers.ZeroHash);
      }
      expect(await w.parties.isActive(w.outsider.address)).to.equal(false);
    });

    it("refuses a consent signed by anyone but the approver it names", async function () {
      const w = await networkHelpers.loadFixture(world);
      const hash = legalId("core-enterprise");
      for (const forger of [w.outsider, w.partyManager, w.tier1]) {
        const consent = await consentBy(w, forger, w.outsider.address, hash, { approver: w.debtor.address });
        await expect(w.parties.connect(w.partyManager).registerAlias(w.outsider.address, hash, consent))
          .to.be.revertedWithCustomError(w.parties, "PartyAliasInvalidSignature")
          .withArgs(w.debtor.address);
      }
      expect(await w.parties.aliasNonceUsed(w.debtor.address, 1n)).to.equal(false);
    });

    it("refuses a consent given for another account or another legal id", async function () {
      const w = await networkHelpers.loadFixture(world);
      const hash = legalId("tier1");
      const forAnother = await consentBy(w, w.tier1, w.financier.address, hash);
      await expect(w.parties.connect(w.partyManager).registerAlias(w.outsider.address, hash, forAnother))
        .to.be.revertedWithCustomError(w.parties, "PartyAliasInvalidSignature")
        .withArgs(w.tier1.address);
      // tier2 consents to joining tier2; the party manager tries to use it for tier1.
      const tier2Consent = await consentBy(w, w.tier2, w.outsider.address, legalId("tier2"));
      await expect(w.parties.connect(w.partyManager).registerAlias(w.outsider.address, hash, tier2Consent))
        .to.be.revertedWithCustomError(w.parties, "PartyAliasApproverInvalid")
        .withArgs(w.tier2.address, hash);
    });

    it("refuses an approver of another company, a suspended one, or one never registered", async function () {
      const w = await networkHelpers.loadFixture(world);
      const hash = legalId("core-enterprise");
      await w.parties.connect(w.partyManager).setPartyActive(w.debtor.address, false);
      for (const approver of [w.tier1, w.debtor, w.outsider]) {
        const consent = await consentBy(w, approver, w.outsider.address, hash);
        await expect(w.parties.connect(w.partyManager).registerAlias(w.outsider.address, hash, consent))
          .to.be.revertedWithCustomError(w.parties, "PartyAliasApproverInvalid")
          .withArgs(approver.address, hash);
      }
    });

    it("refuses an expired consent", async function () {
      const w = await networkHelpers.loadFixture(world);
      const hash = legalId("tier1");
      const deadline = BigInt(await time.latest()) + 60n;
      const consent = await consentBy(w, w.tier1, w.outsider.address, hash, { deadline });
      await time.setNextBlockTimestamp(deadline + 1n);
      await expect(w.parties.connect(w.partyManager).registerAlias(w.outsider.address, hash, consent))
        .to.be.revertedWithCustomError(w.parties, "PartyAliasConsentExpired")
        .withArgs(deadline, deadline + 1n);
      expect(await w.parties.isActive(w.outsider.address)).to.equal(false);
    });

    it("refuses a nonce the approver already used, even for another account", async function () {
      const w = await networkHelpers.loadFixture(world);
      const hash = legalId("tier1");
      await registerAliasOf(w, w.tier1, w.outsider.address, 5n);
      const third = (await ethers.getSigners())[13]!;
      const reused = await consentBy(w, w.tier1, third.address, hash, { nonce: 5n });
      await expect(w.parties.connect(w.partyManager).registerAlias(third.address, hash, reused))
        .to.be.revertedWithCustomError(w.parties, "PartyAliasNonceUsed")
        .withArgs(w.tier1.address, 5n);
      expect(await w.parties.isActive(third.address)).to.equal(false);
    });

    it("refuses to replay a consent on another deployment of the registry", async function () {
      const w = await networkHelpers.loadFixture(world);
      const other = await world();
      const hash = legalId("tier1");
      const chainId = (await ethers.provider.getNetwork()).chainId;
      const consent = await signAliasConsent(w.tier1, chainId, await other.parties.getAddress(), {
        account: w.outsider.address,
        legalIdHash: hash,
        nonce: 1n,
        deadline: BigInt(await time.latest()) + HOUR,
      });
      await expect(w.parties.connect(w.partyManager).registerAlias(w.outsider.address, hash, consent))
        .to.be.revertedWithCustomError(w.parties, "PartyAliasInvalidSignature")
        .withArgs(w.tier1.address);
    });

    it("accepts the consent of a contract wallet (ERC-1271) that its owner signed", async function () {
      const w = await networkHelpers.loadFixture(world);
      const [walletOwner] = (await ethers.getSigners()).slice(14, 15);
      const wallet = await ethers.deployContract("SmartWalletDebtor", [walletOwner!.address]);
      const walletAddress = await wallet.getAddress();
      const hash = legalId("smart-buyer");
      await w.parties.connect(w.partyManager).registerParty(walletAddress, hash, true);
      const byOwner = await consentBy(w, walletOwner!, w.outsider.address, hash, { approver: walletAddress });
      const byStranger = await consentBy(w, w.tier1, w.outsider.address, hash, { approver: walletAddress });
      await expect(w.parties.connect(w.partyManager).registerAlias(w.outsider.address, hash, byStranger))
        .to.be.revertedWithCustomError(w.parties, "PartyAliasInvalidSignature")
        .withArgs(walletAddress);
      await expect(w.parties.connect(w.partyManager).registerAlias(w.outsider.address, hash, byOwner))
        .to.emit(w.parties, "PartyAliasAdded")
        .withArgs(w.outsider.address, hash, walletAddress);
    });

    it("refuses an alias of a legal id that has no address yet, on both paths", async function () {
      const w = await networkHelpers.loadFixture(world);
      const hash = legalId("newcomer");
      const consent = await consentBy(w, w.tier1, w.outsider.address, hash);
      await expect(w.parties.connect(w.partyManager).registerAlias(w.outsider.address, hash, consent))
        .to.be.revertedWithCustomError(w.parties, "PartyLegalIdUnknown")
        .withArgs(hash);
      await expect(asAdmin(w, w.parties, "registerAliasByAdmin", [w.outsider.address, hash, true]))
        .to.be.revertedWithCustomError(w.parties, "PartyLegalIdUnknown")
        .withArgs(hash);
    });

    it("refuses to register an address already registered, even with consent", async function () {
      const w = await networkHelpers.loadFixture(world);
      const consent = await consentBy(w, w.tier1, w.tier2.address, legalId("tier1"));
      await expect(w.parties.connect(w.partyManager).registerAlias(w.tier2.address, legalId("tier1"), consent))
        .to.be.revertedWithCustomError(w.parties, "PartyAlreadyRegistered")
        .withArgs(w.tier2.address);
      await expect(asAdmin(w, w.parties, "registerAliasByAdmin", [w.tier2.address, legalId("tier1"), true]))
        .to.be.revertedWithCustomError(w.parties, "PartyAlreadyRegistered")
        .withArgs(w.tier2.address);
      expect(await w.parties.legalIdOf(w.tier2.address)).to.equal(legalId("tier2"));
    });

    it("refuses a consented alias submitted by anyone without PARTY_MANAGER_ROLE, the approver included", async function () {
      const w = await networkHelpers.loadFixture(world);
      const consent = await consentBy(w, w.tier1, w.outsider.address, legalId("tier1"));
      await expect(w.parties.connect(w.tier1).registerAlias(w.outsider.address, legalId("tier1"), consent))
        .to.be.revertedWithCustomError(w.parties, "AccessControlUnauthorizedAccount")
        .withArgs(w.tier1.address, await w.parties.PARTY_MANAGER_ROLE());
    });

    it("exposes the EIP-712 digest the approver signs", async function () {
      const w = await networkHelpers.loadFixture(world);
      const chainId = (await ethers.provider.getNetwork()).chainId;
      const message = {
        account: w.outsider.address,
        legalIdHash: legalId("tier1"),
        nonce: 3n,
        deadline: 1_900_000_000n,
      };
      const digest = ethers.TypedDataEncoder.hash(
        aliasConsentDomain(chainId, await w.parties.getAddress()),
        ALIAS_CONSENT_TYPES,
        message,
      );
      expect(await w.parties.aliasConsentDigest(message.account, message.legalIdHash, 3n, 1_900_000_000n)).to.equal(
        digest,
      );
      const consent = await consentBy(w, w.tier1, message.account, message.legalIdHash, {
        nonce: 3n,
        deadline: 1_900_000_000n,
      });
      expect(ethers.recoverAddress(digest, consent.signature)).to.equal(w.tier1.address);
    });
  });

  describe("when the address is already registered", function () {
    it("refuses to register it again, even under another legal id", async function () {
      const w = await networkHelpers.loadFixture(world);
      await expect(w.parties.connect(w.partyManager).registerParty(w.tier1.address, legalId("someone-else"), true))
        .to.be.revertedWithCustomError(w.parties, "PartyAlreadyRegistered")
        .withArgs(w.tier1.address);
      expect(await w.parties.legalIdOf(w.tier1.address)).to.equal(legalId("tier1"));
    });

    it("refuses to register a suspended party again", async function () {
      const w = await networkHelpers.loadFixture(world);
      await w.parties.connect(w.partyManager).setPartyActive(w.tier2.address, false);
      await expect(w.parties.connect(w.partyManager).registerParty(w.tier2.address, legalId("tier2"), true))
        .to.be.revertedWithCustomError(w.parties, "PartyAlreadyRegistered")
        .withArgs(w.tier2.address);
    });
  });

  describe("when the party data is invalid", function () {
    it("refuses the zero address", async function () {
      const w = await networkHelpers.loadFixture(world);
      const hash = legalId("nobody");
      await expect(w.parties.connect(w.partyManager).registerParty(ethers.ZeroAddress, hash, true))
        .to.be.revertedWithCustomError(w.parties, "PartyInvalid")
        .withArgs(ethers.ZeroAddress, hash);
    });

    it("refuses a zero legal id hash", async function () {
      const w = await networkHelpers.loadFixture(world);
      await expect(w.parties.connect(w.partyManager).registerParty(w.outsider.address, ethers.ZeroHash, true))
        .to.be.revertedWithCustomError(w.parties, "PartyInvalid")
        .withArgs(w.outsider.address, ethers.ZeroHash);
      expect(await w.parties.isActive(w.outsider.address)).to.equal(false);
    });
  });

  describe("when the operator suspends and reactivates a party", function () {
    it("switches it off and on, emitting PartyStatusChanged each time, and keeps its legal id", async function () {
      const w = await networkHelpers.loadFixture(world);
      await expect(w.parties.connect(w.partyManager).setPartyActive(w.tier3.address, false))
        .to.emit(w.parties, "PartyStatusChanged")
        .withArgs(w.tier3.address, false);
      expect(await w.parties.isActive(w.tier3.address)).to.equal(false);
      expect((await w.parties.partyOf(w.tier3.address)).active).to.equal(false);
      expect(await w.parties.legalIdOf(w.tier3.address)).to.equal(legalId("tier3"));

      await expect(w.parties.connect(w.partyManager).setPartyActive(w.tier3.address, true))
        .to.emit(w.parties, "PartyStatusChanged")
        .withArgs(w.tier3.address, true);
      expect(await w.parties.isActive(w.tier3.address)).to.equal(true);
    });

    it("accepts setting the current status again and still emits", async function () {
      const w = await networkHelpers.loadFixture(world);
      await expect(w.parties.connect(w.partyManager).setPartyActive(w.tier1.address, true))
        .to.emit(w.parties, "PartyStatusChanged")
        .withArgs(w.tier1.address, true);
      expect(await w.parties.isActive(w.tier1.address)).to.equal(true);
    });

    it("refuses to change the status of an address never registered", async function () {
      const w = await networkHelpers.loadFixture(world);
      await expect(w.parties.connect(w.partyManager).setPartyActive(w.outsider.address, true))
        .to.be.revertedWithCustomError(w.parties, "PartyNotRegistered")
        .withArgs(w.outsider.address);
      expect(await w.parties.isActive(w.outsider.address)).to.equal(false);
    });
  });

  describe("when someone asks for the legal id of an unknown address", function () {
    it("refuses with PartyNotRegistered", async function () {
      const w = await networkHelpers.loadFixture(world);
      await expect(w.parties.legalIdOf(w.outsider.address))
        .to.be.revertedWithCustomError(w.parties, "PartyNotRegistered")
        .withArgs(w.outsider.address);
      const party = await w.parties.partyOf(w.outsider.address);
      expect(party.legalIdHash).to.equal(ethers.ZeroHash);
      expect(party.active).to.equal(false);
    });
  });

  describe("when the caller lacks PARTY_MANAGER_ROLE", function () {
    it("refuses to let it register a party", async function () {
      const w = await networkHelpers.loadFixture(world);
      const role = await w.parties.PARTY_MANAGER_ROLE();
      await expect(w.parties.connect(w.outsider).registerParty(w.outsider.address, legalId("self"), true))
        .to.be.revertedWithCustomError(w.parties, "AccessControlUnauthorizedAccount")
        .withArgs(w.outsider.address, role);
      expect(await w.parties.isActive(w.outsider.address)).to.equal(false);
    });

    it("refuses to let a registered party suspend another", async function () {
      const w = await networkHelpers.loadFixture(world);
      const role = await w.parties.PARTY_MANAGER_ROLE();
      await expect(w.parties.connect(w.tier1).setPartyActive(w.tier2.address, false))
        .to.be.revertedWithCustomError(w.parties, "AccessControlUnauthorizedAccount")
        .withArgs(w.tier1.address, role);
      expect(await w.parties.isActive(w.tier2.address)).to.equal(true);
    });

    it("lets it act once the admin grants the role", async function () {
      const w = await networkHelpers.loadFixture(world);
      await asAdmin(w, w.parties, "grantRole", [await w.parties.PARTY_MANAGER_ROLE(), w.financier.address]);
      await expect(w.parties.connect(w.financier).registerParty(w.outsider.address, legalId("outsider-ltd"), true))
        .to.emit(w.parties, "PartyRegistered")
        .withArgs(w.outsider.address, legalId("outsider-ltd"));
      await expect(w.parties.connect(w.financier).setPartyActive(w.outsider.address, false))
        .to.emit(w.parties, "PartyStatusChanged")
        .withArgs(w.outsider.address, false);
    });
  });

  describe("who may hold certificates", function () {
    describe("when the operator registers a party", function () {
      it("records the capability it states, in the status slot, and emits PartyHoldingChanged", async function () {
        const w = await networkHelpers.loadFixture(world);
        const hash = legalId("another-audit-firm");
        await expect(w.parties.connect(w.partyManager).registerParty(w.outsider.address, hash, false))
          .to.emit(w.parties, "PartyRegistered")
          .withArgs(w.outsider.address, hash)
          .and.to.emit(w.parties, "PartyStatusChanged")
          .withArgs(w.outsider.address, true)
          .and.to.emit(w.parties, "PartyHoldingChanged")
          .withArgs(w.outsider.address, false);
        const party = await w.parties.partyOf(w.outsider.address);
        expect(party.active).to.equal(true);
        expect(party.mayHold).to.equal(false);
        expect(await w.parties.isActive(w.outsider.address)).to.equal(true);
        expect(await w.parties.mayHold(w.outsider.address)).to.equal(false);
      });

      it("lets a supplier or financier hold, and nobody unregistered", async function () {
        const w = await networkHelpers.loadFixture(world);
        await expect(w.parties.connect(w.partyManager).registerParty(w.outsider.address, legalId("supplier-co"), true))
          .to.emit(w.parties, "PartyHoldingChanged")
          .withArgs(w.outsider.address, true);
        expect(await w.parties.mayHold(w.outsider.address)).to.equal(true);
        expect(await w.parties.mayHold(w.financier.address)).to.equal(true);
        expect(await w.parties.mayHold(w.auditor.address)).to.equal(false);
        expect(await w.parties.mayHold(ethers.Wallet.createRandom().address)).to.equal(false);
      });
    });

    describe("when a further address joins a company", function () {
      it("takes the capability of the address that consents: an auditor's alias may not hold", async function () {
        const w = await networkHelpers.loadFixture(world);
        await expect(registerAliasOf(w, w.auditor, w.outsider.address))
          .to.emit(w.parties, "PartyHoldingChanged")
          .withArgs(w.outsider.address, false);
        expect(await w.parties.mayHold(w.outsider.address)).to.equal(false);
        const supplierAlias = ethers.Wallet.createRandom().address;
        await expect(registerAliasOf(w, w.tier1, supplierAlias))
          .to.emit(w.parties, "PartyHoldingChanged")
          .withArgs(supplierAlias, true);
        expect(await w.parties.mayHold(supplierAlias)).to.equal(true);
      });

      it("takes the capability the admin states when the admin vouches alone", async function () {
        const w = await networkHelpers.loadFixture(world);
        await expect(asAdmin(w, w.parties, "registerAliasByAdmin", [w.outsider.address, legalId("audit-firm"), false]))
          .to.emit(w.parties, "PartyHoldingChanged")
          .withArgs(w.outsider.address, false);
        expect(await w.parties.isActive(w.outsider.address)).to.equal(true);
        expect(await w.parties.mayHold(w.outsider.address)).to.equal(false);
      });
    });

    describe("when the party manager changes a party's capability", function () {
      it("grants and withdraws it, emitting PartyHoldingChanged each time, and leaves the status alone", async function () {
        const w = await networkHelpers.loadFixture(world);
        await expect(w.parties.connect(w.partyManager).setPartyMayHold(w.auditor.address, true))
          .to.emit(w.parties, "PartyHoldingChanged")
          .withArgs(w.auditor.address, true);
        expect(await w.parties.mayHold(w.auditor.address)).to.equal(true);
        await expect(w.parties.connect(w.partyManager).setPartyMayHold(w.auditor.address, false))
          .to.emit(w.parties, "PartyHoldingChanged")
          .withArgs(w.auditor.address, false)
          .and.not.to.emit(w.parties, "PartyStatusChanged");
        expect(await w.parties.mayHold(w.auditor.address)).to.equal(false);
        expect(await w.parties.isActive(w.auditor.address)).to.equal(true);
      });

      it("accepts setting the current value again and still emits", async function () {
        const w = await networkHelpers.loadFixture(world);
        await expect(w.parties.connect(w.partyManager).setPartyMayHold(w.tier1.address, true))
          .to.emit(w.parties, "PartyHoldingChanged")
          .withArgs(w.tier1.address, true);
        expect(await w.parties.mayHold(w.tier1.address)).to.equal(true);
      });

      it("refuses an address never registered", async function () {
        const w = await networkHelpers.loadFixture(world);
        await expect(w.parties.connect(w.partyManager).setPartyMayHold(w.outsider.address, true))
          .to.be.revertedWithCustomError(w.parties, "PartyNotRegistered")
          .withArgs(w.outsider.address);
        expect(await w.parties.mayHold(w.outsider.address)).to.equal(false);
      });
    });

    describe("when a party that may hold is suspended", function () {
      it("may not receive until it is reactivated, and keeps its capability meanwhile", async function () {
        const w = await networkHelpers.loadFixture(world);
        await w.parties.connect(w.partyManager).setPartyActive(w.tier2.address, false);
        expect(await w.parties.mayHold(w.tier2.address)).to.equal(false);
        expect((await w.parties.partyOf(w.tier2.address)).mayHold).to.equal(true);
        await w.parties.connect(w.partyManager).setPartyActive(w.tier2.address, true);
        expect(await w.parties.mayHold(w.tier2.address)).to.equal(true);
      });
    });

    describe("when the caller lacks PARTY_MANAGER_ROLE", function () {
      for (const who of ["outsider", "auditor", "tier1", "pauser"] as const) {
        it(`refuses to let the ${who} grant or withdraw the capability`, async function () {
          const w = await networkHelpers.loadFixture(world);
          const role = await w.parties.PARTY_MANAGER_ROLE();
          await expect(w.parties.connect(w[who]).setPartyMayHold(w.auditor.address, true))
            .to.be.revertedWithCustomError(w.parties, "AccessControlUnauthorizedAccount")
            .withArgs(w[who].address, role);
          await expect(w.parties.connect(w[who]).setPartyMayHold(w.financier.address, false))
            .to.be.revertedWithCustomError(w.parties, "AccessControlUnauthorizedAccount")
            .withArgs(w[who].address, role);
          expect(await w.parties.mayHold(w.auditor.address)).to.equal(false);
          expect(await w.parties.mayHold(w.financier.address)).to.equal(true);
        });
      }

      it("refuses the admin (the timelock) too: holding is the party manager's call", async function () {
        const w = await networkHelpers.loadFixture(world);
        const role = await w.parties.PARTY_MANAGER_ROLE();
        await expect(asAdmin(w, w.parties, "setPartyMayHold", [w.auditor.address, true]))
          .to.be.revertedWithCustomError(w.parties, "AccessControlUnauthorizedAccount")
          .withArgs(await w.timelock.getAddress(), role);
        expect(await w.parties.mayHold(w.auditor.address)).to.equal(false);
      });
    });
  });
});
