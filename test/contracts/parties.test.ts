// PartyRegistry: who may take part, under which legal id, and who may say so.
import { expect } from "chai";
import { network } from "hardhat";
import { asAdmin, deployWorld, legalId } from "../helpers/fixture.js";

const { ethers, networkHelpers } = await network.create();
const world = () => deployWorld(ethers);

describe("PartyRegistry", function () {
  describe("when the operator registers a new party", function () {
    it("records it as active under its legal id and emits PartyRegistered and PartyStatusChanged", async function () {
      const w = await networkHelpers.loadFixture(world);
      const hash = legalId("outsider-ltd");
      expect(await w.parties.isActive(w.outsider.address)).to.equal(false);

      await expect(w.parties.connect(w.partyManager).registerParty(w.outsider.address, hash))
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

    it("lets a second address share the legal id of an existing party", async function () {
      const w = await networkHelpers.loadFixture(world);
      await w.parties.connect(w.partyManager).registerParty(w.outsider.address, legalId("tier1"));
      expect(await w.parties.legalIdOf(w.outsider.address)).to.equal(await w.parties.legalIdOf(w.tier1.address));
    });

    it("records the deployment block for indexers", async function () {
      const w = await networkHelpers.loadFixture(world);
      const deployedAt = await w.parties.deploymentBlock();
      expect(deployedAt).to.be.greaterThan(0n);
      expect(deployedAt).to.be.lessThanOrEqual(BigInt(await ethers.provider.getBlockNumber()));
    });
  });

  describe("when the address is already registered", function () {
    it("refuses to register it again, even under another legal id", async function () {
      const w = await networkHelpers.loadFixture(world);
      await expect(w.parties.connect(w.partyManager).registerParty(w.tier1.address, legalId("someone-else")))
        .to.be.revertedWithCustomError(w.parties, "PartyAlreadyRegistered")
        .withArgs(w.tier1.address);
      expect(await w.parties.legalIdOf(w.tier1.address)).to.equal(legalId("tier1"));
    });

    it("refuses to register a suspended party again", async function () {
      const w = await networkHelpers.loadFixture(world);
      await w.parties.connect(w.partyManager).setPartyActive(w.tier2.address, false);
      await expect(w.parties.connect(w.partyManager).registerParty(w.tier2.address, legalId("tier2")))
        .to.be.revertedWithCustomError(w.parties, "PartyAlreadyRegistered")
        .withArgs(w.tier2.address);
    });
  });

  describe("when the party data is invalid", function () {
    it("refuses the zero address", async function () {
      const w = await networkHelpers.loadFixture(world);
      const hash = legalId("nobody");
      await expect(w.parties.connect(w.partyManager).registerParty(ethers.ZeroAddress, hash))
        .to.be.revertedWithCustomError(w.parties, "PartyInvalid")
        .withArgs(ethers.ZeroAddress, hash);
    });

    it("refuses a zero legal id hash", async function () {
      const w = await networkHelpers.loadFixture(world);
      await expect(w.parties.connect(w.partyManager).registerParty(w.outsider.address, ethers.ZeroHash))
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
      await expect(w.parties.connect(w.outsider).registerParty(w.outsider.address, legalId("self")))
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
      await expect(w.parties.connect(w.financier).registerParty(w.outsider.address, legalId("outsider-ltd")))
        .to.emit(w.parties, "PartyRegistered")
        .withArgs(w.outsider.address, legalId("outsider-ltd"));
      await expect(w.parties.connect(w.financier).setPartyActive(w.outsider.address, false))
        .to.emit(w.parties, "PartyStatusChanged")
        .withArgs(w.outsider.address, false);
    });
  });
});
