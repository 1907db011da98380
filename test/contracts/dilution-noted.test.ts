// The registry notes, once, the receivables the dilution ledger holds something on (a dispute,
// open or closed, or a credit). Splits, openings and fundings of any other receivable skip the
// ledger (issue 12: a cold contract and its slots saved, about 3,000–7,800 gas an operation);
// those of a noted one ask it as before. Only the wired ledger may note a receivable.
import { expect } from "chai";
import { network } from "hardhat";
import { asAdmin, DAY, deployWorld, MILLION, type TierlineWorld } from "../helpers/fixture.js";
import { fundRequest, registerReceivable, splitCertificate } from "../helpers/lifecycle.js";
import { leavesOf, signCreditNoteConsent } from "../helpers/dilution.js";

const { ethers, networkHelpers } = await network.create();

const FACE = 1_000n * MILLION;
const DISCOUNT = 0;
const REASON = ethers.id("GOODS_RETURNED");
const DOCS = ethers.id("return-note.pdf");

interface StructLog {
  op: string;
  depth: number;
  stack?: string[];
}

/** Every contract a transaction called (CALL and STATICCALL targets), from its opcode trace. */
async function contractsCalled(hash: string): Promise<Set<string>> {
  const trace = (await ethers.provider.send("debug_traceTransaction", [
    hash,
    { disableMemory: true, disableStorage: true },
  ])) as { structLogs: StructLog[] };
  const called = new Set<string>();
  for (const step of trace.structLogs) {
    if (step.op !== "CALL" && step.op !== "STATICCALL") continue;
    const stack = step.stack ?? [];
    called.add(`0x${ethers.toBeHex(stack[stack.length - 2]!, 32).slice(-40)}`);
  }
  return called;
}

async function asksLedger(w: TierlineWorld, tx: Promise<{ hash: string }>): Promise<boolean> {
  const called = await contractsCalled((await tx).hash);
  return called.has((await w.dilution.getAddress()).toLowerCase());
}

describe("receivables the dilution ledger holds something on, noted at the registry", function () {
  async function registered() {
    const w = await deployWorld(ethers);
    return { w, ...(await registerReceivable(w, FACE, { tenor: 100n * DAY })) };
  }

  it("are not noted at registration: a split, an opening and a funding do not ask the ledger", async function () {
    const { w, receivableId, rootId } = await networkHelpers.loadFixture(registered);
    expect((await w.registry.splitTermsOf(receivableId)).dilutionNoted).to.equal(false);
    expect(await w.registry.statusAndDilutionOf(receivableId)).to.deep.equal([1n, false]);
    const split = w.certificates.connect(w.tier1).split(rootId, [
      { to: w.tier1.address, amount: 600n * MILLION },
      { to: w.tier2.address, amount: 400n * MILLION },
    ]);
    expect(await asksLedger(w, split)).to.equal(false);
    const piece = (await w.certificates.nextCertificateId()) - 1n;
    expect(await asksLedger(w, w.financing.connect(w.tier2).openRequest(piece, DISCOUNT, 390n * MILLION, 0n))).to.equal(
      false,
    );
    expect(await asksLedger(w, fundRequest(w, w.financier, 1n, 390n * MILLION, 0n))).to.equal(false);
    expect(await w.certificates.ownerOf(piece)).to.equal(w.financier.address);
  });

  it("are noted by the first dispute, once, and asked about from then on, after its withdrawal too", async function () {
    const { w, receivableId, rootId } = await networkHelpers.loadFixture(registered);
    await expect(w.dilution.connect(w.debtor).openDispute(receivableId, REASON, DOCS))
      .to.emit(w.registry, "DilutionNoted")
      .withArgs(receivableId);
    expect(await w.registry.splitTermsOf(receivableId)).to.deep.equal([w.debtor.address, true]);
    await expect(
      w.certificates.connect(w.tier1).split(rootId, [
        { to: w.tier1.address, amount: 600n * MILLION },
        { to: w.tier2.address, amount: 400n * MILLION },
      ]),
    ).to.be.revertedWithCustomError(w.certificates, "CertificateReceivableDisputed");
    await expect(
      w.financing.connect(w.tier1).openRequest(rootId, DISCOUNT, 970n * MILLION, 0n),
    ).to.be.revertedWithCustomError(w.financing, "FinancingReceivableDisputed");

    // Withdrawn: the note stays, the ledger (asked) now lets the split through.
    await w.dilution.connect(w.debtor).withdrawDispute(receivableId);
    const split = w.certificates.connect(w.tier1).split(rootId, [
      { to: w.tier1.address, amount: 600n * MILLION },
      { to: w.tier2.address, amount: 400n * MILLION },
    ]);
    expect(await asksLedger(w, split)).to.equal(true);
    // A second dispute does not note it again.
    const second = await w.dilution.connect(w.debtor).openDispute(receivableId, REASON, DOCS);
    const receipt = (await second.wait())!;
    const noted = receipt.logs.filter((log) => w.registry.interface.parseLog(log)?.name === "DilutionNoted");
    expect(noted).to.have.length(0);
  });

  it("leaves other receivables of the same debtor unnoted", async function () {
    const { w, receivableId } = await networkHelpers.loadFixture(registered);
    const other = await registerReceivable(w, FACE, { tenor: 100n * DAY });
    await w.dilution.connect(w.debtor).openDispute(receivableId, REASON, DOCS);
    expect((await w.registry.statusAndDilutionOf(other.receivableId))[1]).to.equal(false);
    const [a] = await splitCertificate(w, w.tier1, other.rootId, [
      { to: w.tier1, amount: 500n * MILLION },
      { to: w.tier2, amount: 500n * MILLION },
    ]);
    expect(await w.certificates.ownerOf(a!)).to.equal(w.tier1.address);
  });

  describe("when a credit note cuts a piece after its request was opened", function () {
    /** tier2's 900 piece listed at 880, then a 500 credit note the seller consents to. */
    async function listedThenCut() {
      const { w, receivableId, rootId } = await registered();
      const [, piece] = await splitCertificate(w, w.tier1, rootId, [
        { to: w.tier1, amount: 100n * MILLION },
        { to: w.tier2, amount: 900n * MILLION },
      ]);
      await w.financing.connect(w.tier2).openRequest(piece!, DISCOUNT, 880n * MILLION, 0n);
      const requestId = await w.financing.requestCount();
      await w.dilution.connect(w.debtor).proposeCreditNote(receivableId, 500n * MILLION, REASON, DOCS);
      const noteId = await w.dilution.creditNoteCount();
      const deadline = BigInt(await networkHelpers.time.latest()) + 3_600n;
      const consent = await signCreditNoteConsent(w, w.tier1, noteId, deadline);
      await w.dilution.connect(w.outsider).applyWithSellerConsent(noteId, consent, await leavesOf(w, receivableId));
      return { w, piece: piece!, requestId };
    }

    it("refuses the funding at the claim of the opening: the financier would pay 880 for less", async function () {
      const { w, piece, requestId } = await networkHelpers.loadFixture(listedThenCut);
      const live = await w.financing.remainingClaimOf(piece);
      expect(live).to.be.lessThan(900n * MILLION);
      for (const claim of [900n * MILLION, live]) {
        await expect(w.financing.connect(w.financier).fund(requestId, 880n * MILLION, 0n, claim))
          .to.be.revertedWithCustomError(w.financing, "FinancingRemainingClaimMismatch")
          .withArgs(requestId, live);
      }
      expect(await w.certificates.ownerOf(piece)).to.equal(w.tier2.address);
    });

    it("lets the holder cancel and list the cut piece again, but not above its claim", async function () {
      const { w, piece, requestId } = await networkHelpers.loadFixture(listedThenCut);
      const live = await w.financing.remainingClaimOf(piece);
      await w.financing.connect(w.tier2).cancelRequest(requestId);
      await expect(
        w.financing.connect(w.tier2).openRequest(piece, DISCOUNT, 880n * MILLION, 0n),
      ).to.be.revertedWithCustomError(w.financing, "FinancingTermsInvalid");
      await w.financing.connect(w.tier2).openRequest(piece, DISCOUNT, live - 10n * MILLION, 0n);
      await fundRequest(w, w.financier, requestId + 1n, live - 10n * MILLION, 0n);
      expect(await w.certificates.ownerOf(piece)).to.equal(w.financier.address);
    });
  });

  it("are noted by a credit the ledger records, even without a dispute before it", async function () {
    const { w, receivableId } = await networkHelpers.loadFixture(registered);
    const ledger = await w.dilution.getAddress();
    await networkHelpers.impersonateAccount(ledger);
    await networkHelpers.setBalance(ledger, 10n ** 18n);
    await expect(w.registry.connect(await ethers.getSigner(ledger)).recordCredit(receivableId, 1n * MILLION))
      .to.emit(w.registry, "DilutionNoted")
      .withArgs(receivableId);
    expect((await w.registry.statusAndDilutionOf(receivableId))[1]).to.equal(true);
  });

  describe("when anyone but the wired dilution ledger notes a receivable", function () {
    for (const who of ["operator", "governor", "debtor", "tier1", "outsider"] as const) {
      it(`refuses the ${who}, and the receivable stays unnoted`, async function () {
        const { w, receivableId } = await networkHelpers.loadFixture(registered);
        const signer = w[who];
        await expect(w.registry.connect(signer).noteDilution(receivableId))
          .to.be.revertedWithCustomError(w.registry, "CallerNotDilutionLedger")
          .withArgs(signer.address);
        expect((await w.registry.splitTermsOf(receivableId)).dilutionNoted).to.equal(false);
      });
    }

    it("refuses the admin through the timelock, and the token, market and escrow contracts", async function () {
      const { w, receivableId } = await networkHelpers.loadFixture(registered);
      await expect(asAdmin(w, w.registry, "noteDilution", [receivableId]))
        .to.be.revertedWithCustomError(w.registry, "CallerNotDilutionLedger")
        .withArgs(await w.timelock.getAddress());
      for (const contract of [w.certificates, w.financing, w.escrow]) {
        const address = await contract.getAddress();
        await networkHelpers.impersonateAccount(address);
        await networkHelpers.setBalance(address, 10n ** 18n);
        await expect(w.registry.connect(await ethers.getSigner(address)).noteDilution(receivableId))
          .to.be.revertedWithCustomError(w.registry, "CallerNotDilutionLedger")
          .withArgs(address);
      }
      expect((await w.registry.splitTermsOf(receivableId)).dilutionNoted).to.equal(false);
    });

    it("refuses the ledger itself for a receivable never registered", async function () {
      const { w } = await networkHelpers.loadFixture(registered);
      const ledger = await w.dilution.getAddress();
      await networkHelpers.impersonateAccount(ledger);
      await networkHelpers.setBalance(ledger, 10n ** 18n);
      const unknown = ethers.id("never registered");
      await expect(w.registry.connect(await ethers.getSigner(ledger)).noteDilution(unknown))
        .to.be.revertedWithCustomError(w.registry, "ReceivableNotFound")
        .withArgs(unknown);
    });
  });
});
