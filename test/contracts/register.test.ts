// ReceivableRegistry.register: one receivable per invoice whoever brings it, and never
// without the debtor's own EIP-712 (or ERC-1271) consent to exactly these terms.
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import { network } from "hardhat";
import type { ReceivableRegistry } from "../../types/ethers-contracts/index.js";
import {
  confirmationDomain,
  CONFIRMATION_TYPES,
  makeTerms,
  signConfirmation,
  type Confirmation,
  type Terms,
} from "../helpers/confirmation.js";
import {
  asAdmin,
  DAY,
  deployWorld,
  legalId,
  MILLION,
  registerAliasOf,
  type TierlineWorld,
} from "../helpers/fixture.js";
import { ReceivableStatus } from "../../server/model/contract-enums.js";

const { ethers, networkHelpers } = await network.create();
const { time } = networkHelpers;

const HOUR = 3_600n;
const FACE = 1_000n * MILLION;
/** The order of the secp256k1 group: s and n - s are both valid for raw ecrecover. */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const RECEIVABLE_STATUS = {
  None: ReceivableStatus.none,
  Active: ReceivableStatus.active,
  Overdue: ReceivableStatus.overdue,
  Defaulted: ReceivableStatus.defaulted,
  Repaid: ReceivableStatus.repaid,
};
const CERTIFICATE_LIVE = 1n;

interface World extends TierlineWorld {
  sellerAlias: HardhatEthersSigner;
  debtorAlias: HardhatEthersSigner;
  otherRegistrar: HardhatEthersSigner;
  walletOwner: HardhatEthersSigner;
}

async function world(): Promise<World> {
  const w = await deployWorld(ethers);
  const [sellerAlias, debtorAlias, otherRegistrar, walletOwner] = (await ethers.getSigners()).slice(8, 12);
  return {
    ...w,
    sellerAlias: sellerAlias!,
    debtorAlias: debtorAlias!,
    otherRegistrar: otherRegistrar!,
    walletOwner: walletOwner!,
  };
}

/** A world with tier1's invoice INV-SIGNED on the debtor, signed under nonce 1 but not registered. */
async function signedWorld() {
  const w = await world();
  const now = BigInt(await time.latest());
  const terms = makeTerms(w.tier1, w.debtor, "INV-SIGNED", FACE, now + 90n * DAY);
  const confirmation = await signConfirmation(w.registry, w.debtor, terms, 1n, now + HOUR);
  return { w, terms, confirmation };
}

async function termsFor(w: TierlineWorld, invoiceNumber: string, seller = w.tier1, debtor = w.debtor): Promise<Terms> {
  const now = BigInt(await time.latest());
  return makeTerms(seller, debtor, invoiceNumber, FACE, now + 90n * DAY);
}

async function confirm(
  w: TierlineWorld,
  terms: Terms,
  nonce: bigint,
  signer: HardhatEthersSigner = w.debtor,
): Promise<Confirmation> {
  const now = BigInt(await time.latest());
  return signConfirmation(w.registry, signer, terms, nonce, now + HOUR);
}

const expectedId = (sellerName: string, debtorName: string, invoiceNumber: string): string =>
  ethers.keccak256(
    ethers.AbiCoder.defaultAbiCoder().encode(
      ["bytes32", "bytes32", "bytes32"],
      [legalId(sellerName), legalId(debtorName), ethers.id(invoiceNumber)],
    ),
  );

describe("ReceivableRegistry.register", function () {
  describe("when the debtor has confirmed the exact terms", function () {
    it("registers the receivable and emits ReceivableRegistered with every field", async function () {
      const { w, terms, confirmation } = await networkHelpers.loadFixture(signedWorld);
      const receivableId = expectedId("tier1", "core-enterprise", "INV-SIGNED");
      const rootId = await w.certificates.nextCertificateId();

      await expect(w.registry.connect(w.operator).register(terms, confirmation))
        .to.emit(w.registry, "ReceivableRegistered")
        .withArgs(
          receivableId,
          w.tier1.address,
          w.debtor.address,
          w.operator.address,
          FACE,
          terms.dueDate,
          terms.documentHash,
          rootId,
        );
      expect(await w.registry.statusOf(receivableId)).to.equal(RECEIVABLE_STATUS.Active);
    });

    it("returns the receivable id and the root certificate id", async function () {
      const { w, terms, confirmation } = await networkHelpers.loadFixture(signedWorld);
      const [receivableId, rootId] = await w.registry.register.staticCall(terms, confirmation);
      expect(receivableId).to.equal(expectedId("tier1", "core-enterprise", "INV-SIGNED"));
      expect(rootId).to.equal(await w.certificates.nextCertificateId());
    });

    it("issues the tier-1 root certificate to the seller and emits CertificateIssued", async function () {
      const { w, terms, confirmation } = await networkHelpers.loadFixture(signedWorld);
      const receivableId = await w.registry.receivableIdOf(terms);
      const rootId = await w.certificates.nextCertificateId();

      await expect(w.registry.register(terms, confirmation))
        .to.emit(w.certificates, "CertificateIssued")
        .withArgs(rootId, receivableId, 0n, w.tier1.address, FACE, 1n);

      expect(await w.certificates.ownerOf(rootId)).to.equal(w.tier1.address);
      const certificate = await w.certificates.certificateOf(rootId);
      expect(certificate.receivableId).to.equal(receivableId);
      expect(certificate.parentId).to.equal(0n);
      expect(certificate.faceValue).to.equal(FACE);
      expect(certificate.dueDate).to.equal(terms.dueDate);
      expect(certificate.tier).to.equal(1n);
      expect(certificate.state).to.equal(CERTIFICATE_LIVE);
      expect(await w.certificates.leafCountOf(receivableId)).to.equal(1n);
      expect(await w.certificates.nextCertificateId()).to.equal(rootId + 1n);
    });

    it("stores what the contracts check", async function () {
      const { w, terms, confirmation } = await networkHelpers.loadFixture(signedWorld);
      const receivableId = await w.registry.receivableIdOf(terms);
      const rootId = await w.certificates.nextCertificateId();

      await w.registry.register(terms, confirmation);

      const stored = await w.registry.receivableOf(receivableId);
      expect(stored.debtor).to.equal(w.debtor.address);
      expect(stored.status).to.equal(RECEIVABLE_STATUS.Active);
      expect(stored.dueDate).to.equal(terms.dueDate);
      expect(stored.gracePeriod).to.equal(await w.registry.gracePeriod());
      expect(stored.faceValue).to.equal(FACE);
      expect(stored.repaidAmount).to.equal(0n);
      expect(stored.rootCertificateId).to.equal(rootId);
    });

    it("stores the seller and its time, and leaves registrar and documents to ReceivableRegistered", async function () {
      const { w, terms, confirmation } = await networkHelpers.loadFixture(signedWorld);
      const receivableId = await w.registry.receivableIdOf(terms);

      const receipt = await (await w.registry.register(terms, confirmation)).wait();
      const block = await ethers.provider.getBlock(receipt!.blockNumber);

      // The seller stays in storage: a credit note needs its consent and its retained pieces absorb a dilution first.
      const stored = await w.registry.receivableOf(receivableId);
      expect([stored.seller, stored.registrar, stored.registeredAt, stored.documentHash]).to.deep.equal([
        w.tier1.address,
        ethers.ZeroAddress,
        BigInt(block!.timestamp),
        ethers.ZeroHash,
      ]);
      const event = w.registry.interface.parseLog(receipt!.logs.find((log) => log.address === w.registry.target)!)!;
      expect(event.name).to.equal("ReceivableRegistered");
      expect([event.args.seller, event.args.registrar, event.args.documentHash]).to.deep.equal([
        w.tier1.address,
        w.operator.address,
        terms.documentHash,
      ]);
    });

    it("was deployed in a block after genesis and no later than its first registration", async function () {
      const { w, terms, confirmation } = await networkHelpers.loadFixture(signedWorld);
      const receipt = await (await w.registry.register(terms, confirmation)).wait();
      const deployedAt = await w.registry.deploymentBlock();
      expect(deployedAt).to.be.greaterThan(0n);
      expect(deployedAt).to.be.lessThanOrEqual(BigInt(receipt!.blockNumber));
      expect(w.deploymentBlock).to.be.lessThanOrEqual(deployedAt);
    });
  });

  describe("when computing a receivable id", function () {
    it("derives it from the legal ids and the invoice number, as keccak256(abi.encode(...)) in TypeScript", async function () {
      const w = await networkHelpers.loadFixture(world);
      const terms = await termsFor(w, "INV-2026-0042");
      const fromTs = expectedId("tier1", "core-enterprise", "INV-2026-0042");
      expect(await w.registry.receivableIdOf(terms)).to.equal(fromTs);
      expect(
        await w.registry.computeReceivableId(legalId("tier1"), legalId("core-enterprise"), ethers.id("INV-2026-0042")),
      ).to.equal(fromTs);
    });

    it("gives other addresses with the same legal ids the same id", async function () {
      const w = await networkHelpers.loadFixture(world);
      await registerAliasOf(w, w.tier1, w.sellerAlias.address);
      await registerAliasOf(w, w.debtor, w.debtorAlias.address);
      const original = await termsFor(w, "INV-7");
      const alias = await termsFor(w, "INV-7", w.sellerAlias, w.debtorAlias);
      expect(await w.registry.receivableIdOf(alias)).to.equal(await w.registry.receivableIdOf(original));
      expect(await w.registry.receivableIdOf(await termsFor(w, "INV-8"))).to.not.equal(
        await w.registry.receivableIdOf(original),
      );
    });

    it("refuses to compute an id for an unregistered party", async function () {
      const w = await networkHelpers.loadFixture(world);
      await expect(w.registry.receivableIdOf(await termsFor(w, "INV-9", w.outsider)))
        .to.be.revertedWithCustomError(w.parties, "PartyNotRegistered")
        .withArgs(w.outsider.address);
    });

    it("exposes the EIP-712 digest that the debtor's wallet signs", async function () {
      const { w, terms, confirmation } = await networkHelpers.loadFixture(signedWorld);
      const message = {
        receivableId: await w.registry.receivableIdOf(terms),
        documentHash: terms.documentHash,
        seller: terms.seller,
        debtor: terms.debtor,
        faceValue: terms.faceValue,
        settlementToken: await w.token.getAddress(),
        dueDate: terms.dueDate,
        nonce: confirmation.nonce,
        deadline: confirmation.deadline,
      };
      const digest = ethers.TypedDataEncoder.hash(await confirmationDomain(w.registry), CONFIRMATION_TYPES, message);
      expect(await w.registry.confirmationDigest(terms, confirmation.nonce, confirmation.deadline)).to.equal(digest);
      expect(ethers.recoverAddress(digest, confirmation.signature)).to.equal(w.debtor.address);
    });
  });

  describe("when the invoice is already registered", function () {
    it("refuses the same invoice again, even with a fresh confirmation", async function () {
      const w = await networkHelpers.loadFixture(world);
      const terms = await termsFor(w, "INV-DUP");
      await w.registry.register(terms, await confirm(w, terms, 1n));
      const receivableId = await w.registry.receivableIdOf(terms);

      await expect(w.registry.register(terms, await confirm(w, terms, 2n)))
        .to.be.revertedWithCustomError(w.registry, "ReceivableAlreadyRegistered")
        .withArgs(receivableId);
    });

    it("refuses it from another registrar with other seller and debtor addresses sharing the legal ids", async function () {
      const w = await networkHelpers.loadFixture(world);
      const original = await termsFor(w, "INV-DUP");
      await w.registry.connect(w.operator).register(original, await confirm(w, original, 1n));
      const receivableId = await w.registry.receivableIdOf(original);

      // Another platform, with its own keys for the same two companies.
      await registerAliasOf(w, w.tier1, w.sellerAlias.address);
      await registerAliasOf(w, w.debtor, w.debtorAlias.address);
      await asAdmin(w, w.registry, "grantRole", [await w.registry.REGISTRAR_ROLE(), w.otherRegistrar.address]);
      const now = BigInt(await time.latest());
      const alias: Terms = {
        ...makeTerms(w.sellerAlias, w.debtorAlias, "INV-DUP", 2n * FACE, now + 60n * DAY),
        documentHash: ethers.id("other platform's documents"),
      };
      const aliasConfirmation = await confirm(w, alias, 1n, w.debtorAlias);

      await expect(w.registry.connect(w.otherRegistrar).register(alias, aliasConfirmation))
        .to.be.revertedWithCustomError(w.registry, "ReceivableAlreadyRegistered")
        .withArgs(receivableId);

      // The same platform and keys register another invoice: only the duplicate was refused.
      const other = { ...alias, invoiceNumberHash: ethers.id("INV-OTHER") };
      await expect(w.registry.connect(w.otherRegistrar).register(other, await confirm(w, other, 2n, w.debtorAlias)))
        .to.emit(w.registry, "ReceivableRegistered")
        .withArgs(
          expectedId("tier1", "core-enterprise", "INV-OTHER"),
          w.sellerAlias.address,
          w.debtorAlias.address,
          w.otherRegistrar.address,
          2n * FACE,
          alias.dueDate,
          alias.documentHash,
          await w.certificates.nextCertificateId(),
        );
    });

    it("refuses it again after it was repaid in full: ids never recycle", async function () {
      const w = await networkHelpers.loadFixture(world);
      const terms = await termsFor(w, "INV-PAID");
      await w.registry.register(terms, await confirm(w, terms, 1n));
      const receivableId = await w.registry.receivableIdOf(terms);
      await w.escrow.connect(w.debtor).repay(receivableId, FACE);
      expect(await w.registry.statusOf(receivableId)).to.equal(RECEIVABLE_STATUS.Repaid);

      await expect(w.registry.register(terms, await confirm(w, terms, 2n)))
        .to.be.revertedWithCustomError(w.registry, "ReceivableAlreadyRegistered")
        .withArgs(receivableId);
    });
  });

  describe("when the terms are malformed", function () {
    it("refuses a zero face value", async function () {
      const w = await networkHelpers.loadFixture(world);
      const terms = { ...(await termsFor(w, "INV-ZERO")), faceValue: 0n };
      await expect(w.registry.register(terms, await confirm(w, terms, 1n)))
        .to.be.revertedWithCustomError(w.registry, "ReceivableZeroFaceValue")
        .withArgs();
    });

    it("refuses a face value above the registry's 96 bits before the certificate's wider bound is reached", async function () {
      // The certificate token would take 128 bits (CertificateFaceValueTooLarge); the registry's
      // record is the narrower, so it refuses first and the token's bound is a second line.
      const w = await networkHelpers.loadFixture(world);
      const tooLarge = { ...(await termsFor(w, "INV-HUGE")), faceValue: 2n ** 128n };
      await expect(w.registry.register(tooLarge, await confirm(w, tooLarge, 1n))).to.be.revertedWithCustomError(
        w.registry,
        "ReceivableFaceValueTooLarge",
      );
    });

    it("refuses a seller who is also the debtor", async function () {
      const w = await networkHelpers.loadFixture(world);
      const terms = await termsFor(w, "INV-SELF", w.tier1, w.tier1);
      await expect(w.registry.register(terms, await confirm(w, terms, 1n, w.tier1)))
        .to.be.revertedWithCustomError(w.registry, "ReceivableSelfDealing")
        .withArgs(w.tier1.address);
    });

    it("refuses a due date equal to the block time", async function () {
      const w = await networkHelpers.loadFixture(world);
      const at = BigInt(await time.latest()) + 100n;
      const terms = { ...(await termsFor(w, "INV-DUE-NOW")), dueDate: at };
      const confirmation = await confirm(w, terms, 1n);
      await time.setNextBlockTimestamp(at);
      await expect(w.registry.register(terms, confirmation))
        .to.be.revertedWithCustomError(w.registry, "ReceivableDueDateInPast")
        .withArgs(at, at);
    });

    it("refuses a due date in the past", async function () {
      const w = await networkHelpers.loadFixture(world);
      const at = BigInt(await time.latest()) + 100n;
      const terms = { ...(await termsFor(w, "INV-DUE-PAST")), dueDate: at - DAY };
      const confirmation = await confirm(w, terms, 1n);
      await time.setNextBlockTimestamp(at);
      await expect(w.registry.register(terms, confirmation))
        .to.be.revertedWithCustomError(w.registry, "ReceivableDueDateInPast")
        .withArgs(at - DAY, at);
    });

    it("refuses a face value above 2^96 - 1, what the registry stores", async function () {
      const w = await networkHelpers.loadFixture(world);
      const max = 2n ** 96n - 1n;
      const terms = { ...(await termsFor(w, "INV-HUGE")), faceValue: max + 1n };
      await expect(w.registry.register(terms, await confirm(w, terms, 1n)))
        .to.be.revertedWithCustomError(w.registry, "ReceivableFaceValueTooLarge")
        .withArgs(max + 1n, max);
    });

    it("accepts a face value of exactly 2^96 - 1 and repays it in full", async function () {
      const w = await networkHelpers.loadFixture(world);
      const max = 2n ** 96n - 1n;
      const terms = { ...(await termsFor(w, "INV-MAX")), faceValue: max };
      await w.registry.register(terms, await confirm(w, terms, 1n));
      const receivableId = await w.registry.receivableIdOf(terms);
      expect((await w.registry.receivableOf(receivableId)).faceValue).to.equal(max);

      await w.token.mint(w.debtor.address, max);
      await w.escrow.connect(w.debtor).repay(receivableId, max);
      const repaid = await w.registry.receivableOf(receivableId);
      expect([repaid.repaidAmount, repaid.status]).to.deep.equal([max, RECEIVABLE_STATUS.Repaid]);
    });

    it("refuses a due date after 2^40 - 1 seconds, what the registry stores", async function () {
      const w = await networkHelpers.loadFixture(world);
      const max = 2n ** 40n - 1n;
      const terms = { ...(await termsFor(w, "INV-FAR")), dueDate: max + 1n };
      await expect(w.registry.register(terms, await confirm(w, terms, 1n)))
        .to.be.revertedWithCustomError(w.registry, "ReceivableDueDateTooFar")
        .withArgs(max + 1n, max);
    });

    it("accepts a due date one second after the block time", async function () {
      const w = await networkHelpers.loadFixture(world);
      const at = BigInt(await time.latest()) + 100n;
      const terms = { ...(await termsFor(w, "INV-DUE-NEXT")), dueDate: at + 1n };
      const confirmation = await confirm(w, terms, 1n);
      await time.setNextBlockTimestamp(at);
      await w.registry.register(terms, confirmation);
      expect((await w.registry.receivableOf(await w.registry.receivableIdOf(terms))).dueDate).to.equal(at + 1n);
    });
  });

  describe("when a party is not active", function () {
    it("refuses a suspended seller", async function () {
      const { w, terms, confirmation } = await networkHelpers.loadFixture(signedWorld);
      await w.parties.connect(w.partyManager).setPartyActive(w.tier1.address, false);
      await expect(w.registry.register(terms, confirmation))
        .to.be.revertedWithCustomError(w.registry, "PartyNotActive")
        .withArgs(w.tier1.address);

      await w.parties.connect(w.partyManager).setPartyActive(w.tier1.address, true);
      await expect(w.registry.register(terms, confirmation)).to.emit(w.registry, "ReceivableRegistered");
    });

    it("refuses a suspended debtor", async function () {
      const { w, terms, confirmation } = await networkHelpers.loadFixture(signedWorld);
      await w.parties.connect(w.partyManager).setPartyActive(w.debtor.address, false);
      await expect(w.registry.register(terms, confirmation))
        .to.be.revertedWithCustomError(w.registry, "PartyNotActive")
        .withArgs(w.debtor.address);
    });

    it("refuses an unregistered seller", async function () {
      const w = await networkHelpers.loadFixture(world);
      const terms = await termsFor(w, "INV-NOSELLER", w.outsider);
      const confirmation = { nonce: 1n, deadline: BigInt(await time.latest()) + HOUR, signature: "0x" };
      await expect(w.registry.register(terms, confirmation))
        .to.be.revertedWithCustomError(w.registry, "PartyNotActive")
        .withArgs(w.outsider.address);
    });

    it("refuses an unregistered debtor, even one that signed", async function () {
      const w = await networkHelpers.loadFixture(world);
      const terms = await termsFor(w, "INV-NODEBTOR", w.tier1, w.outsider);
      // The outsider signs with a made-up id: it cannot get a real one while unregistered.
      const now = BigInt(await time.latest());
      const domain = await confirmationDomain(w.registry);
      const signature = await w.outsider.signTypedData(domain, CONFIRMATION_TYPES, {
        receivableId: ethers.id("made up"),
        documentHash: terms.documentHash,
        seller: terms.seller,
        debtor: terms.debtor,
        faceValue: terms.faceValue,
        settlementToken: await w.token.getAddress(),
        dueDate: terms.dueDate,
        nonce: 1n,
        deadline: now + HOUR,
      });
      await expect(w.registry.register(terms, { nonce: 1n, deadline: now + HOUR, signature }))
        .to.be.revertedWithCustomError(w.registry, "PartyNotActive")
        .withArgs(w.outsider.address);
    });
  });

  describe("when the confirmation has expired", function () {
    it("refuses it one second after its deadline", async function () {
      const { w, terms, confirmation } = await networkHelpers.loadFixture(signedWorld);
      await time.setNextBlockTimestamp(confirmation.deadline + 1n);
      await expect(w.registry.register(terms, confirmation))
        .to.be.revertedWithCustomError(w.registry, "ConfirmationExpired")
        .withArgs(confirmation.deadline, confirmation.deadline + 1n);
    });

    it("accepts it at its deadline exactly", async function () {
      const { w, terms, confirmation } = await networkHelpers.loadFixture(signedWorld);
      await time.setNextBlockTimestamp(confirmation.deadline);
      await expect(w.registry.register(terms, confirmation)).to.emit(w.registry, "ReceivableRegistered");
    });
  });

  describe("when a nonce was used before", function () {
    // The nonce is signed, not stored: the registration is what spends a confirmation, since the
    // digest binds the receivable id and an id is registered once (no nonce slot per registration).
    it("accepts another invoice of the same debtor under the same nonce, in any order", async function () {
      const w = await networkHelpers.loadFixture(world);
      const [first, second, third] = await Promise.all(["INV-N1", "INV-N2", "INV-N3"].map((n) => termsFor(w, n)));
      await w.registry.register(first!, await confirm(w, first!, 7n));
      await expect(w.registry.register(second!, await confirm(w, second!, 7n))).to.emit(
        w.registry,
        "ReceivableRegistered",
      );
      await expect(w.registry.register(third!, await confirm(w, third!, 2n ** 256n - 1n))).to.emit(
        w.registry,
        "ReceivableRegistered",
      );
    });

    it("refuses the same invoice under any other nonce as already registered", async function () {
      const w = await networkHelpers.loadFixture(world);
      const terms = await termsFor(w, "INV-N1");
      await w.registry.register(terms, await confirm(w, terms, 7n));
      const receivableId = await w.registry.receivableIdOf(terms);
      for (const nonce of [7n, 8n, 0n]) {
        await expect(w.registry.register(terms, await confirm(w, terms, nonce)))
          .to.be.revertedWithCustomError(w.registry, "ReceivableAlreadyRegistered")
          .withArgs(receivableId);
      }
    });

    it("writes no nonce slot: a nonce beside one used before costs the same as the first", async function () {
      const w = await networkHelpers.loadFixture(world);
      // Two sellers, so both registrations start a holder's ERC-721 balance; nonces 1 and 2 would
      // share a bitmap word, so a stored nonce would make the second 17,100 gas cheaper.
      const gasUsed: bigint[] = [];
      for (const [i, seller] of [w.tier1, w.tier2].entries()) {
        const terms = await termsFor(w, `INV-GAS-${i}`, seller);
        const receipt = await (await w.registry.register(terms, await confirm(w, terms, BigInt(i + 1)))).wait();
        gasUsed.push(receipt!.gasUsed);
      }
      const [first, second] = gasUsed as [bigint, bigint];
      expect(first > second ? first - second : second - first).to.be.lessThan(5_000n);
    });
  });

  describe("when the signature is not the debtor's consent to these terms", function () {
    it("refuses a confirmation signed by someone else", async function () {
      const { w, terms } = await networkHelpers.loadFixture(signedWorld);
      const forged = await confirm(w, terms, 1n, w.tier1);
      await expect(w.registry.register(terms, forged))
        .to.be.revertedWithCustomError(w.registry, "ConfirmationInvalidSignature")
        .withArgs(w.debtor.address);
    });

    const tamperings: Array<[string, (terms: Terms) => Terms]> = [
      ["the face value", (t) => ({ ...t, faceValue: t.faceValue + 1n })],
      ["the due date", (t) => ({ ...t, dueDate: t.dueDate + 1n })],
      ["the document hash", (t) => ({ ...t, documentHash: ethers.id("forged documents") })],
    ];
    for (const [what, tamper] of tamperings) {
      it(`refuses it once ${what} is changed after signing`, async function () {
        const { w, terms, confirmation } = await networkHelpers.loadFixture(signedWorld);
        await expect(w.registry.register(tamper(terms), confirmation))
          .to.be.revertedWithCustomError(w.registry, "ConfirmationInvalidSignature")
          .withArgs(w.debtor.address);
        // The untouched terms still pass with the very same signature.
        await expect(w.registry.register(terms, confirmation)).to.emit(w.registry, "ReceivableRegistered");
      });
    }

    it("refuses it once the seller is swapped after signing", async function () {
      const { w, terms, confirmation } = await networkHelpers.loadFixture(signedWorld);
      await expect(w.registry.register({ ...terms, seller: w.tier2.address }, confirmation))
        .to.be.revertedWithCustomError(w.registry, "ConfirmationInvalidSignature")
        .withArgs(w.debtor.address);
    });

    it("refuses a signature made for another chain id", async function () {
      const { w, terms } = await networkHelpers.loadFixture(signedWorld);
      const confirmation = await signConfirmation(w.registry, w.debtor, terms, 1n, BigInt(await time.latest()) + HOUR, {
        chainId: 1n,
      });
      await expect(w.registry.register(terms, confirmation))
        .to.be.revertedWithCustomError(w.registry, "ConfirmationInvalidSignature")
        .withArgs(w.debtor.address);
    });

    it("refuses a signature made for another verifying contract", async function () {
      const { w, terms } = await networkHelpers.loadFixture(signedWorld);
      const confirmation = await signConfirmation(w.registry, w.debtor, terms, 1n, BigInt(await time.latest()) + HOUR, {
        verifyingContract: await w.financing.getAddress(),
      });
      await expect(w.registry.register(terms, confirmation))
        .to.be.revertedWithCustomError(w.registry, "ConfirmationInvalidSignature")
        .withArgs(w.debtor.address);
    });

    it("refuses the malleable high-s copy of a valid signature", async function () {
      const { w, terms, confirmation } = await networkHelpers.loadFixture(signedWorld);
      const bytes = ethers.getBytes(confirmation.signature);
      const r = bytes.slice(0, 32);
      const s = ethers.toBigInt(bytes.slice(32, 64));
      const v = bytes[64]!;
      const highS = SECP256K1_N - s;
      const flippedV = v === 27 ? 28 : 27;
      expect(highS).to.be.greaterThan(SECP256K1_N / 2n);
      const malleable = ethers.concat([r, ethers.toBeHex(highS, 32), new Uint8Array([flippedV])]);

      // The copy is a valid signature by the debtor for raw ecrecover ...
      const digest = await w.registry.confirmationDigest(terms, confirmation.nonce, confirmation.deadline);
      const recovered = await ethers.provider.call({
        to: "0x0000000000000000000000000000000000000001",
        data: ethers.concat([digest, ethers.toBeHex(flippedV, 32), r, ethers.toBeHex(highS, 32)]),
      });
      expect(ethers.getAddress(ethers.dataSlice(recovered, 12))).to.equal(w.debtor.address);

      // ... and the registry still refuses it.
      await expect(w.registry.register(terms, { ...confirmation, signature: malleable }))
        .to.be.revertedWithCustomError(w.registry, "ConfirmationInvalidSignature")
        .withArgs(w.debtor.address);
      expect(await w.registry.statusOf(await w.registry.receivableIdOf(terms))).to.equal(RECEIVABLE_STATUS.None);
    });

    it("refuses the 64-byte compact (ERC-2098) encoding of a valid signature", async function () {
      const { w, terms, confirmation } = await networkHelpers.loadFixture(signedWorld);
      const compact = ethers.Signature.from(confirmation.signature).compactSerialized;
      const digest = await w.registry.confirmationDigest(terms, confirmation.nonce, confirmation.deadline);
      expect(ethers.recoverAddress(digest, compact)).to.equal(w.debtor.address);
      await expect(w.registry.register(terms, { ...confirmation, signature: compact }))
        .to.be.revertedWithCustomError(w.registry, "ConfirmationInvalidSignature")
        .withArgs(w.debtor.address);
    });

    it("refuses an empty signature", async function () {
      const { w, terms, confirmation } = await networkHelpers.loadFixture(signedWorld);
      await expect(w.registry.register(terms, { ...confirmation, signature: "0x" }))
        .to.be.revertedWithCustomError(w.registry, "ConfirmationInvalidSignature")
        .withArgs(w.debtor.address);
    });
  });

  describe("when the debtor is a smart-contract wallet (ERC-1271)", function () {
    async function walletWorld() {
      const w = await world();
      const wallet = await ethers.deployContract("SmartWalletDebtor", [w.walletOwner.address]);
      const walletAddress = await wallet.getAddress();
      await w.parties.connect(w.partyManager).registerParty(walletAddress, legalId("smart-buyer"), true);
      const now = BigInt(await time.latest());
      const terms: Terms = {
        ...makeTerms(w.tier1, w.debtor, "INV-WALLET", FACE, now + 90n * DAY),
        debtor: walletAddress,
      };
      return { w, walletAddress, terms };
    }

    it("registers with the wallet owner's signature", async function () {
      const { w, walletAddress, terms } = await networkHelpers.loadFixture(walletWorld);
      const confirmation = await confirm(w, terms, 1n, w.walletOwner);
      await expect(w.registry.register(terms, confirmation))
        .to.emit(w.registry, "ReceivableRegistered")
        .withArgs(
          expectedId("tier1", "smart-buyer", "INV-WALLET"),
          w.tier1.address,
          walletAddress,
          w.operator.address,
          FACE,
          terms.dueDate,
          terms.documentHash,
          await w.certificates.nextCertificateId(),
        );
      expect(await w.registry.statusOf(await w.registry.receivableIdOf(terms))).to.equal(RECEIVABLE_STATUS.Active);
    });

    it("refuses another account's signature", async function () {
      const { w, walletAddress, terms } = await networkHelpers.loadFixture(walletWorld);
      for (const stranger of [w.debtor, w.tier2]) {
        await expect(w.registry.register(terms, await confirm(w, terms, 1n, stranger)))
          .to.be.revertedWithCustomError(w.registry, "ConfirmationInvalidSignature")
          .withArgs(walletAddress);
      }
    });
  });

  describe("when the registry is not wired to its certificate token and escrow", function () {
    it("refuses to register", async function () {
      const w = await networkHelpers.loadFixture(world);
      const fresh = (await ethers.deployContract("ReceivableRegistry", [
        w.operator.address,
        await w.parties.getAddress(),
        await w.token.getAddress(),
      ])) as unknown as ReceivableRegistry;
      await fresh.grantRole(await fresh.REGISTRAR_ROLE(), w.operator.address);
      const terms = await termsFor(w, "INV-UNWIRED");
      const confirmation = await signConfirmation(fresh, w.debtor, terms, 1n, BigInt(await time.latest()) + HOUR);
      await expect(fresh.register(terms, confirmation)).to.be.revertedWithCustomError(fresh, "NotWired").withArgs();
    });
  });
});
