// ReceivableRegistry.registerBatch: many registrations in one transaction, each held to exactly
// the rules of register(), with an outcome per item: a refused item is reported with the error
// register() would have reverted with, and never sinks the rest of the batch.
import { expect } from "chai";
import { network } from "hardhat";
import type { Log } from "ethers";
import type { ReceivableRegistry } from "../../types/ethers-contracts/index.js";
import { makeTerms, signConfirmation, type Confirmation, type Terms } from "../helpers/confirmation.js";
import { DAY, deployWorld, MILLION, type TierlineWorld } from "../helpers/fixture.js";
import { ReceivableStatus } from "../../server/model/contract-enums.js";

const { ethers, networkHelpers } = await network.create();
const { time } = networkHelpers;

const HOUR = 3_600n;
const FACE = 1_000n * MILLION;

interface Item {
  terms: Terms;
  confirmation: Confirmation;
}

async function termsFor(w: TierlineWorld, invoiceNumber: string, seller = w.tier1): Promise<Terms> {
  const now = BigInt(await time.latest());
  return makeTerms(seller, w.debtor, invoiceNumber, FACE, now + 90n * DAY);
}

async function item(w: TierlineWorld, invoiceNumber: string, nonce: bigint, seller = w.tier1): Promise<Item> {
  const terms = await termsFor(w, invoiceNumber, seller);
  const now = BigInt(await time.latest());
  return { terms, confirmation: await signConfirmation(w.registry, w.debtor, terms, nonce, now + HOUR) };
}

/** The RegistrationRefused events of a receipt, with their reasons decoded by the registry's ABI. */
function refusals(registry: ReceivableRegistry, logs: readonly Log[]) {
  return logs
    .map((log) => registry.interface.parseLog(log))
    .filter((parsed) => parsed?.name === "RegistrationRefused")
    .map((parsed) => {
      const error = registry.interface.parseError(parsed!.args.reason as string);
      return {
        index: parsed!.args.index as bigint,
        receivableId: parsed!.args.receivableId as string,
        debtor: parsed!.args.debtor as string,
        error: error?.name,
        errorArgs: error ? [...error.args] : [],
      };
    });
}

async function world(): Promise<TierlineWorld> {
  return deployWorld(ethers);
}

/** A world with one invoice already registered (INV-OLD, nonce 1) and a mixed batch signed. */
async function mixedBatchWorld() {
  const w = await deployWorld(ethers);
  const old = await item(w, "INV-OLD", 1n);
  await w.registry.connect(w.operator).register(old.terms, old.confirmation);

  const good = await item(w, "INV-GOOD", 10n);
  const badSignature = await item(w, "INV-BADSIG", 11n);
  // Signed by tier2, not the debtor.
  badSignature.confirmation = await signConfirmation(
    w.registry,
    w.tier2,
    badSignature.terms,
    11n,
    badSignature.confirmation.deadline,
  );
  const duplicateInBatch = await item(w, "INV-GOOD", 12n);
  const alreadyRegistered = await item(w, "INV-OLD", 13n);
  const expired = await item(w, "INV-EXPIRED", 14n);
  expired.confirmation = await signConfirmation(
    w.registry,
    w.debtor,
    expired.terms,
    14n,
    BigInt(await time.latest()) - 1n,
  );
  const secondGood = await item(w, "INV-GOOD-2", 15n, w.tier2);
  const items = [good, badSignature, duplicateInBatch, alreadyRegistered, expired, secondGood];
  const ids = await Promise.all(items.map((x) => w.registry.receivableIdOf(x.terms)));
  return { w, items, ids, oldId: await w.registry.receivableIdOf(old.terms) };
}

/** Asserts the batch's one refusal: its first item, refused before its id was known. */
function expectFirstItemRefused(w: TierlineWorld, logs: readonly Log[], error: string, errorArgs: unknown[]) {
  expect(refusals(w.registry, logs)).to.deep.equal([
    { index: 0n, receivableId: ethers.ZeroHash, debtor: w.debtor.address, error, errorArgs },
  ]);
}

describe("ReceivableRegistry.registerBatch", function () {
  describe("when a batch mixes good and bad items", function () {
    it("returns each item's id and a root certificate only for the good ones", async function () {
      const { w, items, ids } = await networkHelpers.loadFixture(mixedBatchWorld);
      const firstRoot = await w.certificates.nextCertificateId();

      const [receivableIds, roots] = await w.registry.connect(w.operator).registerBatch.staticCall(items);

      expect(receivableIds).to.deep.equal(ids);
      expect(roots).to.deep.equal([firstRoot, 0n, 0n, 0n, 0n, firstRoot + 1n]);
    });

    it("registers the good items and issues their root certificates to their sellers", async function () {
      const { w, items, ids } = await networkHelpers.loadFixture(mixedBatchWorld);
      const firstRoot = await w.certificates.nextCertificateId();

      await w.registry.connect(w.operator).registerBatch(items);

      for (const [index, seller, root] of [
        [0, w.tier1, firstRoot],
        [5, w.tier2, firstRoot + 1n],
      ] as const) {
        const stored = await w.registry.receivableOf(ids[index]!);
        expect(stored.status).to.equal(ReceivableStatus.active);
        expect(stored.debtor).to.equal(w.debtor.address);
        expect(stored.faceValue).to.equal(FACE);
        expect(stored.rootCertificateId).to.equal(root);
        expect(await w.certificates.ownerOf(root)).to.equal(seller.address);
      }
      expect(await w.certificates.nextCertificateId()).to.equal(firstRoot + 2n);
    });

    it("refuses each bad item with the error register() would have reverted with", async function () {
      const { w, items, ids, oldId } = await networkHelpers.loadFixture(mixedBatchWorld);

      const receipt = await (await w.registry.connect(w.operator).registerBatch(items)).wait();
      const minedAt = BigInt((await ethers.provider.getBlock(receipt!.blockNumber))!.timestamp);

      expect(refusals(w.registry, receipt!.logs)).to.deep.equal([
        {
          index: 1n,
          receivableId: ids[1],
          debtor: w.debtor.address,
          error: "ConfirmationInvalidSignature",
          errorArgs: [w.debtor.address],
        },
        {
          index: 2n,
          receivableId: ids[0],
          debtor: w.debtor.address,
          error: "ReceivableAlreadyRegistered",
          errorArgs: [ids[0]],
        },
        {
          index: 3n,
          receivableId: oldId,
          debtor: w.debtor.address,
          error: "ReceivableAlreadyRegistered",
          errorArgs: [oldId],
        },
        {
          index: 4n,
          receivableId: ids[4],
          debtor: w.debtor.address,
          error: "ConfirmationExpired",
          errorArgs: [items[4]!.confirmation.deadline, minedAt],
        },
      ]);
    });

    it("writes nothing for the refused items", async function () {
      const { w, items, ids } = await networkHelpers.loadFixture(mixedBatchWorld);
      const oldBefore = await w.registry.receivableOf(ids[3]!);

      await w.registry.connect(w.operator).registerBatch(items);

      expect(await w.registry.statusOf(ids[1]!)).to.equal(ReceivableStatus.none);
      expect(await w.registry.statusOf(ids[4]!)).to.equal(ReceivableStatus.none);
      // The duplicates left the first records as they were.
      expect((await w.registry.receivableOf(ids[0]!)).rootCertificateId).to.not.equal(0n);
      expect(await w.registry.receivableOf(ids[3]!)).to.deep.equal(oldBefore);
      expect(await w.certificates.leafCountOf(ids[1]!)).to.equal(0n);
      expect(await w.certificates.leafCountOf(ids[4]!)).to.equal(0n);
    });

    it("registers an item after a refused one that used the same nonce", async function () {
      const w = await networkHelpers.loadFixture(world);
      const refused = { ...(await item(w, "INV-ZERO", 7n)) };
      refused.terms = { ...refused.terms, faceValue: 0n };
      const good = await item(w, "INV-AFTER", 7n);

      const receipt = await (await w.registry.connect(w.operator).registerBatch([refused, good])).wait();

      expectFirstItemRefused(w, receipt!.logs, "ReceivableZeroFaceValue", []);
      expect(await w.registry.statusOf(await w.registry.receivableIdOf(good.terms))).to.equal(ReceivableStatus.active);
    });

    it("registers a second item under a nonce the batch already used: the nonce is signed, not stored", async function () {
      const w = await networkHelpers.loadFixture(world);
      const first = await item(w, "INV-A", 5n);
      const second = await item(w, "INV-B", 5n);

      const receipt = await (await w.registry.connect(w.operator).registerBatch([first, second])).wait();

      expect(refusals(w.registry, receipt!.logs)).to.deep.equal([]);
      for (const registered of [first, second]) {
        expect(await w.registry.statusOf(await w.registry.receivableIdOf(registered.terms))).to.equal(
          ReceivableStatus.active,
        );
      }
    });

    it("refuses an inactive seller without knowing the id yet", async function () {
      const w = await networkHelpers.loadFixture(world);
      const suspended = await item(w, "INV-SUSPENDED", 1n, w.tier3);
      await w.parties.connect(w.partyManager).setPartyActive(w.tier3.address, false);

      const receipt = await (await w.registry.connect(w.operator).registerBatch([suspended])).wait();

      expectFirstItemRefused(w, receipt!.logs, "PartyNotActive", [w.tier3.address]);
    });

    it("refuses a seller that may not hold (an auditor) as one item, and registers the rest", async function () {
      const w = await networkHelpers.loadFixture(world);
      const auditorSells = await item(w, "INV-AUDITOR", 1n, w.auditor);
      const good = await item(w, "INV-GOOD", 2n);

      const receipt = await (await w.registry.connect(w.operator).registerBatch([auditorSells, good])).wait();

      expectFirstItemRefused(w, receipt!.logs, "ReceivableSellerMayNotHold", [w.auditor.address]);
      expect(await w.registry.statusOf(await w.registry.receivableIdOf(good.terms))).to.equal(ReceivableStatus.active);
      expect(await w.certificates.balanceOf(w.auditor.address)).to.equal(0n);
    });
  });

  describe("when every item is good", function () {
    it("emits for each item exactly the events register() emits, in the same order", async function () {
      const w = await networkHelpers.loadFixture(world);
      const single = await item(w, "INV-SINGLE", 1n);
      const batched = await item(w, "INV-BATCHED", 2n);
      const shape = (logs: readonly Log[]) => logs.map((log) => [log.address, log.topics[0], log.topics.length]);

      const registered = await (
        await w.registry.connect(w.operator).register(single.terms, single.confirmation)
      ).wait();
      const batchReceipt = await (await w.registry.connect(w.operator).registerBatch([batched, batched])).wait();

      // The second copy is refused (already registered): the first copy's events, then one refusal.
      const refusalTopic = w.registry.interface.getEvent("RegistrationRefused").topicHash;
      const batchLogs = batchReceipt!.logs;
      expect(shape(batchLogs.slice(0, -1))).to.deep.equal(shape(registered!.logs));
      expect(batchLogs.at(-1)!.topics[0]).to.equal(refusalTopic);
      expect(registered!.logs.length).to.be.greaterThan(1);
    });

    it("accepts an empty batch and registers nothing", async function () {
      const w = await networkHelpers.loadFixture(world);
      const [ids, roots] = await w.registry.connect(w.operator).registerBatch.staticCall([]);
      expect(ids).to.deep.equal([]);
      expect(roots).to.deep.equal([]);
    });
  });

  describe("when the caller, the pause or the wiring refuses", function () {
    it("reverts the whole batch for a caller without REGISTRAR_ROLE", async function () {
      const w = await networkHelpers.loadFixture(world);
      const good = await item(w, "INV-ROLE", 1n);
      await expect(w.registry.connect(w.outsider).registerBatch([good]))
        .to.be.revertedWithCustomError(w.registry, "AccessControlUnauthorizedAccount")
        .withArgs(w.outsider.address, await w.registry.REGISTRAR_ROLE());
    });

    it("reverts the whole batch while paused, and registers it once unpaused", async function () {
      const w = await networkHelpers.loadFixture(world);
      const good = await item(w, "INV-PAUSED", 1n);
      await w.registry.connect(w.pauser).pause();
      await expect(w.registry.connect(w.operator).registerBatch([good])).to.be.revertedWithCustomError(
        w.registry,
        "EnforcedPause",
      );
      expect(await w.registry.statusOf(await w.registry.receivableIdOf(good.terms))).to.equal(ReceivableStatus.none);

      await w.registry.connect(w.pauser).unpause();
      await expect(w.registry.connect(w.operator).registerBatch([good])).to.emit(w.registry, "ReceivableRegistered");
    });

    it("reverts the whole batch before the registry is wired", async function () {
      const w = await networkHelpers.loadFixture(world);
      const fresh = (await ethers.deployContract("ReceivableRegistry", [
        w.operator.address,
        await w.parties.getAddress(),
        await w.token.getAddress(),
      ])) as unknown as ReceivableRegistry;
      await fresh.grantRole(await fresh.REGISTRAR_ROLE(), w.operator.address);
      const terms = await termsFor(w, "INV-UNWIRED");
      const confirmation = await signConfirmation(fresh, w.debtor, terms, 1n, BigInt(await time.latest()) + HOUR);
      await expect(fresh.registerBatch([{ terms, confirmation }])).to.be.revertedWithCustomError(fresh, "NotWired");
    });
  });
});
