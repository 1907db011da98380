// The service sizes a registerBatch transaction without estimateGas: BATCH_GAS_BASE plus
// GAS_PER_ITEM_BOUND per item (server/chain/registration-batcher.ts). This measures the
// heaviest batches the registry sees — every item a seller's first certificate (cold
// balance and owner slots), good items and refused ones — and fails if the bound no longer
// covers them, before a production batch runs out of gas.
import { expect } from "chai";
import { network } from "hardhat";
import { BATCH_GAS_BASE, GAS_PER_ITEM_BOUND } from "../../server/chain/registration-batcher.js";
import { makeTerms, signConfirmation } from "../helpers/confirmation.js";
import { DAY, deployWorld, MILLION, type TierlineWorld } from "../helpers/fixture.js";

const { ethers, networkHelpers } = await network.create();
const { time } = networkHelpers;

async function items(w: TierlineWorld, label: string, sellers: TierlineWorld["tier1"][], firstNonce: bigint) {
  const now = BigInt(await time.latest());
  return Promise.all(
    sellers.map(async (seller, i) => {
      const terms = makeTerms(seller, w.debtor, `${label}-${i}`, 1_000n * MILLION, now + 90n * DAY);
      const nonce = firstNonce + BigInt(i);
      return { terms, confirmation: await signConfirmation(w.registry, w.debtor, terms, nonce, now + 3_600n) };
    }),
  );
}

describe("registerBatch gas against the service's per-item bound", function () {
  it("stays within BATCH_GAS_BASE + GAS_PER_ITEM_BOUND per item for sellers' first certificates", async function () {
    const w = await deployWorld(ethers);
    const sellers = [w.tier1, w.tier2, w.tier3, w.financier];
    const batch = await items(w, "INV-COLD", sellers, 1n);
    const receipt = (await (await w.registry.connect(w.operator).registerBatch(batch)).wait())!;
    const perItem = Number(receipt.gasUsed) / batch.length;
    console.log(
      `      registerBatch of ${batch.length} cold items: ${receipt.gasUsed} gas, ${perItem.toFixed(0)} per item`,
    );
    expect(receipt.gasUsed).to.be.lessThanOrEqual(BigInt(BATCH_GAS_BASE + GAS_PER_ITEM_BOUND * batch.length));

    const one = await items(w, "INV-ONE", [w.financier2], 100n);
    const single = (await (await w.registry.connect(w.operator).registerBatch(one)).wait())!;
    console.log(`      registerBatch of 1 cold item: ${single.gasUsed} gas`);
    expect(single.gasUsed).to.be.lessThanOrEqual(BigInt(BATCH_GAS_BASE + GAS_PER_ITEM_BOUND));
  });

  it("stays within the bound for a smart-wallet debtor (ERC-1271: a call to the wallet per item)", async function () {
    const w = await deployWorld(ethers);
    const walletOwner = (await ethers.getSigners()).at(-1)!;
    const wallet = await ethers.deployContract("SmartWalletDebtor", [walletOwner.address]);
    const walletAddress = await wallet.getAddress();
    await w.parties.connect(w.partyManager).registerParty(walletAddress, ethers.id("LEI:smart-buyer"), true);
    const now = BigInt(await time.latest());
    const batch = await Promise.all(
      [w.tier1, w.tier2, w.tier3, w.financier].map(async (seller, i) => {
        const terms = {
          ...makeTerms(seller, w.debtor, `INV-WALLET-${i}`, 1_000n * MILLION, now + 90n * DAY),
          debtor: walletAddress,
        };
        const confirmation = await signConfirmation(w.registry, walletOwner, terms, BigInt(i + 1), now + 3_600n);
        return { terms, confirmation };
      }),
    );
    const receipt = (await (await w.registry.connect(w.operator).registerBatch(batch)).wait())!;
    const registered = receipt.logs.filter(
      (log) => w.registry.interface.parseLog(log)?.name === "ReceivableRegistered",
    );
    expect(registered).to.have.length(batch.length);
    console.log(
      `      registerBatch of ${batch.length} cold smart-wallet items: ${receipt.gasUsed} gas, ${(Number(receipt.gasUsed) / batch.length).toFixed(0)} per item`,
    );
    expect(receipt.gasUsed).to.be.lessThanOrEqual(BigInt(BATCH_GAS_BASE + GAS_PER_ITEM_BOUND * batch.length));
  });

  it("covers refused items too (a refusal costs less than a registration)", async function () {
    const w = await deployWorld(ethers);
    const batch = await items(w, "INV-DUP", [w.tier1, w.tier1], 1n);
    batch[1]!.terms = batch[0]!.terms; // the second is a duplicate of the first, refused
    const receipt = (await (await w.registry.connect(w.operator).registerBatch(batch)).wait())!;
    const refused = receipt.logs.filter((log) => w.registry.interface.parseLog(log)?.name === "RegistrationRefused");
    expect(refused).to.have.length(1);
    expect(receipt.gasUsed).to.be.lessThanOrEqual(BigInt(BATCH_GAS_BASE + GAS_PER_ITEM_BOUND * batch.length));
  });
});
