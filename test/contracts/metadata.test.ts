// Certificates a wallet can show: tokenURI is JSON metadata with an SVG image, computed on-chain
// from the certificate's record and the escrow's payouts, and every change of what it shows
// emits ERC-4906 MetadataUpdate so wallets and indexers refresh.
import { expect } from "chai";
import { network } from "hardhat";
import { id as keccakId, type ContractTransactionResponse } from "ethers";
import { deployWorld, MILLION, type TierlineWorld } from "../helpers/fixture.js";
import { fundRequest, registerReceivable, splitCertificate } from "../helpers/lifecycle.js";
import { asLifecycleWorld, deployCustomTokenWorld } from "../helpers/custom-token-world.js";
import { leavesOf } from "../helpers/dilution.js";
import { CERTIFICATE_STATES, FinancingKind } from "../../server/model/contract-enums.js";
import type { OddSymbolToken } from "../../types/ethers-contracts/index.js";

const { ethers, networkHelpers } = await network.create();

const ERC4906 = "0x49064906";
const DISCOUNT = FinancingKind.discount;
const PLEDGE = FinancingKind.pledge;

interface Attribute {
  trait_type: string;
  value: string | number;
  display_type?: string;
}
interface Metadata {
  name: string;
  description: string;
  image: string;
  attributes: Attribute[];
}

function decodeDataUri(uri: string, mime: string): string {
  const prefix = `data:${mime};base64,`;
  expect(uri.startsWith(prefix), `${uri.slice(0, 40)}… starts with ${prefix}`).to.equal(true);
  return Buffer.from(uri.slice(prefix.length), "base64").toString("utf8");
}

async function metadataOf(w: Pick<TierlineWorld, "certificates">, id: bigint): Promise<Metadata & { svg: string }> {
  const json = decodeDataUri(await w.certificates.tokenURI(id), "application/json");
  const metadata = JSON.parse(json) as Metadata;
  return { ...metadata, svg: decodeDataUri(metadata.image, "image/svg+xml") };
}

const trait = (m: Metadata, name: string) => {
  const found = m.attributes.filter((a) => a.trait_type === name);
  expect(found, `one "${name}" attribute`).to.have.length(1);
  return found[0]!;
};

/** Independent of the contract's code: `units` with `decimals` places, trailing zeros dropped. */
function decimal(units: bigint, decimals: number): string {
  const unit = 10n ** BigInt(decimals);
  const fraction = (units % unit).toString().padStart(decimals, "0").replace(/0+$/, "");
  return fraction === "" ? (units / unit).toString() : `${units / unit}.${fraction}`;
}

/** Checks every attribute (and the SVG) against certificateOf, the ledger's reductionOf and the escrow's paidOutOf. */
async function expectMetadataMatchesChain(
  w: Pick<TierlineWorld, "certificates" | "escrow" | "dilution">,
  id: bigint,
  currency: { symbol: string; decimals: number } | { rawUnitsOf: string },
) {
  const m = await metadataOf(w, id);
  const c = await w.certificates.certificateOf(id);
  const paid = await w.escrow.paidOutOf(id);
  const claim = c.faceValue - (await w.dilution.reductionOf(id));
  const state = CERTIFICATE_STATES[Number(c.state)]!;
  const amount = (units: bigint) => ("symbol" in currency ? decimal(units, currency.decimals) : units.toString());
  const currencyText = "symbol" in currency ? currency.symbol : `units of ${currency.rawUnitsOf.toLowerCase()}`;
  const due = new Date(Number(c.dueDate) * 1000).toISOString().slice(0, 10);

  expect(m.name).to.equal(`Tierline certificate #${id}`);
  expect(m.attributes).to.have.length(12);
  expect(trait(m, "Receivable").value).to.equal(c.receivableId);
  expect(trait(m, "Face value").value).to.equal(amount(c.faceValue));
  expect(trait(m, "Face value (units)").value).to.equal(c.faceValue.toString());
  expect(trait(m, "Claim").value).to.equal(amount(claim));
  expect(trait(m, "Claim (units)").value).to.equal(claim.toString());
  expect(trait(m, "Currency").value).to.equal(currencyText);
  expect(trait(m, "Due date")).to.deep.equal({
    display_type: "date",
    trait_type: "Due date",
    value: Number(c.dueDate),
  });
  expect(trait(m, "Tier").value).to.equal(Number(c.tier));
  expect(trait(m, "Parent").value).to.equal(c.parentId === 0n ? "none (root)" : `#${c.parentId}`);
  expect(trait(m, "State").value).to.equal(state);
  expect(trait(m, "Paid out").value).to.equal(amount(paid));
  expect(trait(m, "Paid out (units)").value).to.equal(paid.toString());
  expect(m.description).to.contain(
    `Tier ${c.tier} claim of ${amount(claim)} ${currencyText} (face value ${amount(c.faceValue)} less credit notes)`,
  );
  expect(m.description).to.contain(`due ${due} (UTC)`);
  expect(m.description).to.contain(`State: ${state}. Paid out so far: ${amount(paid)} ${currencyText}.`);

  expect(m.svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).to.equal(true);
  expect(m.svg.endsWith("</svg>")).to.equal(true);
  const pictured = "symbol" in currency ? currency.symbol : "units";
  expect(m.svg).to.contain(`Claim ${amount(claim)} ${pictured}<`);
  expect(m.svg).to.contain(`Face  ${amount(c.faceValue)} ${pictured}<`);
  expect(m.svg).to.contain(`Due   ${due} UTC`);
  expect(m.svg).to.contain(`Tier  ${c.tier}`);
  expect(m.svg).to.contain(`Paid  ${amount(paid)} ${pictured}<`);
  expect(m.svg).to.contain(`>${state.toUpperCase()}</text>`);
  // Well-formed-ish: every element opened is closed, nothing stray outside the root.
  const opened = (m.svg.match(/<text\b/g) ?? []).length;
  expect((m.svg.match(/<\/text>/g) ?? []).length).to.equal(opened);
  expect(m.svg.match(/<svg\b/g)).to.have.length(1);
  return m;
}

/** The ERC-4906 events the certificate token emitted in `tx`, as "MetadataUpdate(7)" / "BatchMetadataUpdate(3,5)". */
async function metadataUpdates(w: Pick<TierlineWorld, "certificates">, tx: Promise<ContractTransactionResponse>) {
  const receipt = await (await tx).wait();
  const address = (await w.certificates.getAddress()).toLowerCase();
  return receipt!.logs
    .filter((log) => log.address.toLowerCase() === address)
    .map((log) => w.certificates.interface.parseLog(log))
    .filter((parsed) => parsed?.name === "MetadataUpdate" || parsed?.name === "BatchMetadataUpdate")
    .map((parsed) => `${parsed!.name}(${[...parsed!.args].join(",")})`);
}

const update = (id: bigint) => `MetadataUpdate(${id})`;

const TUSD = { symbol: "tUSD", decimals: 6 };

async function world(): Promise<TierlineWorld> {
  return deployWorld(ethers);
}

/**
 * A receivable of 1,234.5 tUSD: tier 1 passes 1,000.000001 to tier 2 and keeps the rest,
 * tier 2 passes 400 to tier 3 and keeps the rest (a tier-3 piece).
 */
async function threeTiers() {
  const w = await world();
  const { receivableId, rootId } = await registerReceivable(w, 1_234_500_000n);
  const [toTier2, kept1] = await splitCertificate(w, w.tier1, rootId, [
    { to: w.tier2, amount: 1_000_000_001n },
    { to: w.tier1, amount: 234_499_999n },
  ]);
  const [tier3, kept2] = await splitCertificate(w, w.tier2, toTier2!, [
    { to: w.tier3, amount: 400n * MILLION },
    { to: w.tier2, amount: 600_000_001n },
  ]);
  return { w, receivableId, rootId, toTier2: toTier2!, leaves: [kept1!, kept2!, tier3!] as const };
}

describe("certificate metadata", function () {
  describe("tokenURI", function () {
    it("describes a root certificate as its record shows it", async function () {
      const w = await networkHelpers.loadFixture(world);
      const { rootId } = await registerReceivable(w, 1_250_500_000n);
      const m = await expectMetadataMatchesChain(w, rootId, TUSD);
      expect(trait(m, "Face value").value).to.equal("1250.5");
      expect(trait(m, "Tier").value).to.equal(1);
      expect(trait(m, "State").value).to.equal("live");
      expect(m.svg).to.contain("Face  1250.5 tUSD");
    });

    it("describes a tier-3 piece, its parent, and the retired certificates above it", async function () {
      const { w, rootId, toTier2, leaves } = await networkHelpers.loadFixture(threeTiers);
      const m = await expectMetadataMatchesChain(w, leaves[2], TUSD);
      expect(trait(m, "Tier").value).to.equal(3);
      expect(trait(m, "Parent").value).to.equal(`#${toTier2}`);
      expect(trait(m, "Face value").value).to.equal("400");
      for (const retired of [rootId, toTier2]) {
        const r = await expectMetadataMatchesChain(w, retired, TUSD);
        expect(trait(r, "State").value).to.equal("retired");
      }
      expect(trait(await metadataOf(w, toTier2), "Face value").value).to.equal("1000.000001");
    });

    it("shows a certificate locked in a financing request as locked", async function () {
      const { w, leaves } = await networkHelpers.loadFixture(threeTiers);
      await w.financing.connect(w.tier3).openRequest(leaves[2], DISCOUNT, 380n * MILLION, 0n);
      const m = await expectMetadataMatchesChain(w, leaves[2], TUSD);
      expect(trait(m, "State").value).to.equal("locked");
      expect(m.svg).to.contain(">LOCKED</text>");
    });

    it("shows a piece a credit note cut at its claim, face value less the cut, beside its face value", async function () {
      const { w, receivableId, leaves } = await networkHelpers.loadFixture(threeTiers);
      // The seller's own retained piece (234.499999) absorbs a 100 tUSD return first.
      await w.dilution
        .connect(w.debtor)
        .proposeCreditNote(receivableId, 100n * MILLION, keccakId("RETURN"), keccakId("CN-1"));
      const noteId = await w.dilution.creditNoteCount();
      await w.dilution
        .connect(w.tier1)
        .applyWithSellerConsent(noteId, { deadline: 0n, signature: "0x" }, await leavesOf(w, receivableId));
      const retained = leaves[0];
      expect(await w.dilution.reductionOf(retained)).to.equal(100n * MILLION);
      const m = await expectMetadataMatchesChain(w, retained, TUSD);
      expect(trait(m, "Claim").value).to.equal("134.499999");
      expect(trait(m, "Face value").value).to.equal("234.499999");
      expect(m.svg).to.contain("Claim 134.499999 tUSD<");
      // Untouched pieces show a claim equal to their face value.
      expect(trait(await expectMetadataMatchesChain(w, leaves[2], TUSD), "Claim").value).to.equal("400");
    });

    it("shows what a partial repayment paid out so far", async function () {
      const { w, receivableId, leaves } = await networkHelpers.loadFixture(threeTiers);
      await w.escrow.connect(w.debtor).repay(receivableId, 617_250_000n); // half
      await w.escrow.settle(receivableId, [...leaves]);
      const m = await expectMetadataMatchesChain(w, leaves[2], TUSD);
      expect(trait(m, "Paid out").value).to.equal("200");
      expect(trait(m, "State").value).to.equal("live");
    });

    it("still describes a settled certificate after its token was burned", async function () {
      const { w, receivableId, leaves } = await networkHelpers.loadFixture(threeTiers);
      await w.escrow.connect(w.debtor).repay(receivableId, 1_234_500_000n);
      await w.escrow.settle(receivableId, [...leaves]);
      for (const leaf of leaves) {
        const m = await expectMetadataMatchesChain(w, leaf, TUSD);
        expect(trait(m, "State").value).to.equal("settled");
        expect(trait(m, "Paid out (units)").value).to.equal(trait(m, "Face value (units)").value);
      }
      await expect(w.certificates.ownerOf(leaves[2])).to.be.revertedWithCustomError(
        w.certificates,
        "ERC721NonexistentToken",
      );
    });

    it("refuses an id that was never issued", async function () {
      const w = await networkHelpers.loadFixture(world);
      await expect(w.certificates.tokenURI(99n))
        .to.be.revertedWithCustomError(w.certificates, "CertificateNotFound")
        .withArgs(99n);
    });

    it("falls back to raw units when the token's symbol is not safe to embed", async function () {
      const token = (await ethers.deployContract("OddSymbolToken")) as unknown as OddSymbolToken;
      const w = await deployCustomTokenWorld(ethers, token);
      const { rootId } = await registerReceivable(asLifecycleWorld(w), 1_250_500_000n);
      const m = await expectMetadataMatchesChain(w, rootId, { rawUnitsOf: await token.getAddress() });
      expect(trait(m, "Face value").value).to.equal("1250500000");
      expect(m.svg).not.to.contain('"><svg');
    });
  });

  describe("ERC-4906", function () {
    it("is claimed by supportsInterface, beside ERC-721 and its metadata extension", async function () {
      const w = await networkHelpers.loadFixture(world);
      expect(await w.certificates.supportsInterface(ERC4906)).to.equal(true);
      expect(await w.certificates.supportsInterface("0x80ac58cd")).to.equal(true); // ERC-721
      expect(await w.certificates.supportsInterface("0x5b5e139f")).to.equal(true); // metadata
      expect(await w.certificates.supportsInterface("0xffffffff")).to.equal(false);
    });

    it("announces the parent retired by a split", async function () {
      const w = await networkHelpers.loadFixture(world);
      const { rootId } = await registerReceivable(w, 1_000n);
      const tx = w.certificates.connect(w.tier1).split(rootId, [
        { to: w.tier2.address, amount: 600n },
        { to: w.tier1.address, amount: 400n },
      ]);
      expect(await metadataUpdates(w, tx)).to.deep.equal([update(rootId)]);
    });

    it("announces a lock, its lifting, and a delivery on a funded sale", async function () {
      const w = await networkHelpers.loadFixture(world);
      const { rootId } = await registerReceivable(w, 1_000n * MILLION);
      const open = () => w.financing.connect(w.tier1).openRequest(rootId, DISCOUNT, 950n * MILLION, 0n);
      expect(await metadataUpdates(w, open())).to.deep.equal([update(rootId)]);
      expect(await metadataUpdates(w, w.financing.connect(w.tier1).cancelRequest(1n))).to.deep.equal([update(rootId)]);
      expect(await metadataUpdates(w, open())).to.deep.equal([update(rootId)]);
      const fund = fundRequest(w, w.financier, 2n, 950n * MILLION, 0n);
      expect(await metadataUpdates(w, fund)).to.deep.equal([update(rootId)]);
      expect(await w.certificates.ownerOf(rootId)).to.equal(w.financier.address);
    });

    it("announces the leaves of a batch paid in part with one range, and every leaf settled", async function () {
      const { w, receivableId, leaves } = await networkHelpers.loadFixture(threeTiers);
      const [low, high] = [leaves[0], leaves[1]]; // ids 3 and 5; the tier-3 piece is 4
      expect(leaves[2]).to.be.greaterThan(low).and.lessThan(high);
      await w.escrow.connect(w.debtor).repay(receivableId, 617_250_000n);
      expect(await metadataUpdates(w, w.escrow.settle(receivableId, [...leaves]))).to.deep.equal([
        `BatchMetadataUpdate(${low},${high})`,
      ]);
      await w.escrow.connect(w.debtor).repay(receivableId, 617_250_000n);
      expect(await metadataUpdates(w, w.escrow.settle(receivableId, [...leaves]))).to.deep.equal(leaves.map(update));
      for (const leaf of leaves) expect((await w.certificates.certificateOf(leaf)).state).to.equal(4n);
    });

    it("announces a single leaf paid in part by its id", async function () {
      const { w, receivableId, leaves } = await networkHelpers.loadFixture(threeTiers);
      await w.escrow.connect(w.debtor).repay(receivableId, 617_250_000n);
      expect(await metadataUpdates(w, w.escrow.settle(receivableId, [leaves[2]]))).to.deep.equal([update(leaves[2])]);
      // Leaves with nothing new due are not announced again.
      expect(await metadataUpdates(w, w.escrow.settle(receivableId, [leaves[2], leaves[0]]))).to.deep.equal([
        update(leaves[0]),
      ]);
    });

    it("announces a pledged leaf settled", async function () {
      const w = await networkHelpers.loadFixture(world);
      const { receivableId, rootId } = await registerReceivable(w, 1_000n * MILLION);
      await w.financing.connect(w.tier1).openRequest(rootId, PLEDGE, 800n * MILLION, 850n * MILLION);
      await fundRequest(w, w.financier, 1n, 800n * MILLION, 850n * MILLION);
      await w.escrow.connect(w.debtor).repay(receivableId, 1_000n * MILLION);
      expect(await metadataUpdates(w, w.escrow.settle(receivableId, [rootId]))).to.deep.equal([update(rootId)]);
    });

    it("lets anyone ask wallets to refresh, which changes nothing (a hint, not a power)", async function () {
      const w = await networkHelpers.loadFixture(world);
      const { rootId } = await registerReceivable(w, 1_000n);
      const before = await w.certificates.certificateOf(rootId);
      const uri = await w.certificates.tokenURI(rootId);
      expect(await metadataUpdates(w, w.certificates.connect(w.tier2).notifyPayouts(rootId, rootId))).to.deep.equal([
        update(rootId),
      ]);
      expect(await w.certificates.certificateOf(rootId)).to.deep.equal(before);
      expect(await w.certificates.tokenURI(rootId)).to.equal(uri);
      expect(await w.certificates.ownerOf(rootId)).to.equal(w.tier1.address);
    });
  });
});
