// Funding is delivery versus payment, and the certificate leg goes first: a selling holder that
// runs code when the price reaches it (a settlement token that calls its recipient) re-enters
// the escrow to settle the piece's pending payout. The attacker is
// contracts/mocks/PayoutGrabbingSeller.sol.
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import { network } from "hardhat";
import { MILLION } from "../helpers/fixture.js";
import { registerReceivable, splitCertificate } from "../helpers/lifecycle.js";
import { asLifecycleWorld, deployCustomTokenWorld, escrowBooks } from "../helpers/custom-token-world.js";
import type { CallbackToken, PayoutGrabbingSeller } from "../../types/ethers-contracts/index.js";
import { FinancingKind, RequestStatus } from "../../server/model/contract-enums.js";

const { ethers, networkHelpers } = await network.create();

const FACE = 1_000n * MILLION;
const PIECE = 600n * MILLION;
// The debtor paid half early and nobody settled it: 300 of the piece's 600 waits in the escrow.
const PENDING_PAYOUT = 300n * MILLION;

/** The seller (a contract) holds a 600 piece of a 1,000 receivable of which 500 is repaid. */
async function sellerWithPendingPayout() {
  const token = (await ethers.deployContract("CallbackToken")) as unknown as CallbackToken;
  const w = await deployCustomTokenWorld(ethers, token);
  const seller = (await ethers.deployContract("PayoutGrabbingSeller", [
    await w.escrow.getAddress(),
    await w.financing.getAddress(),
    await token.getAddress(),
  ])) as unknown as PayoutGrabbingSeller;
  const sellerAddress = await seller.getAddress();
  await w.parties.connect(w.partyManager).registerParty(sellerAddress, ethers.id("LEI:seller"), true);
  const { receivableId, rootId } = await registerReceivable(asLifecycleWorld(w), FACE);
  const [piece] = await splitCertificate(asLifecycleWorld(w), w.tier1, rootId, [
    // splitCertificate reads only `.address` of a recipient.
    { to: { address: sellerAddress } as HardhatEthersSigner, amount: PIECE },
    { to: w.tier1, amount: FACE - PIECE },
  ]);
  await w.escrow.connect(w.debtor).repay(receivableId, FACE / 2n);
  return { w, seller, sellerAddress, receivableId, piece: piece! };
}

describe("when the seller re-enters the escrow as the price reaches it", function () {
  describe("on a discount sale", function () {
    const price = 550n * MILLION;

    it("has delivered the piece already, so the pending payout goes to the financier", async function () {
      const { w, seller, sellerAddress, receivableId, piece } =
        await networkHelpers.loadFixture(sellerWithPendingPayout);
      await seller.list(receivableId, piece, Number(FinancingKind.discount), price, 0n);
      // The piece's remaining claim includes the pending payout: that is what the financier buys.
      expect(await w.financing.remainingClaimOf(piece)).to.equal(PIECE);
      const financierBefore = await w.token.balanceOf(w.financier.address);

      await expect(w.financing.connect(w.financier).fund(1n, price, 0n, PIECE))
        .to.emit(w.escrow, "LeafSettled")
        .withArgs(receivableId, piece, w.financier.address, PENDING_PAYOUT, ethers.ZeroAddress, 0n, PENDING_PAYOUT);

      // The hook did run and settled the piece, but to the financier.
      expect(await seller.settledInHook()).to.equal(PENDING_PAYOUT);
      expect(await w.certificates.ownerOf(piece)).to.equal(w.financier.address);
      expect((await w.financing.requestOf(1n)).status).to.equal(RequestStatus.sold);
      // The seller got the price and nothing else, paid or kept.
      expect(await w.token.balanceOf(sellerAddress)).to.equal(price);
      expect(await w.escrow.claimableOf(sellerAddress)).to.equal(0n);
      await expect(seller.withdrawKept())
        .to.be.revertedWithCustomError(w.escrow, "SettlementNothingToWithdraw")
        .withArgs(sellerAddress);
      // The financier has the 600 it paid for: 300 in hand, 300 still to come on the piece.
      expect((await w.token.balanceOf(w.financier.address)) - financierBefore).to.equal(PENDING_PAYOUT - price);
      expect(await w.financing.remainingClaimOf(piece)).to.equal(PIECE - PENDING_PAYOUT);
      const books = await escrowBooks(w, [receivableId]);
      expect(books.balance).to.equal(books.expected);
    });

    it("reports the sale, then the delivery, then the price paid", async function () {
      const { w, seller, receivableId, piece } = await networkHelpers.loadFixture(sellerWithPendingPayout);
      await seller.list(receivableId, piece, Number(FinancingKind.discount), price, 0n);

      const receipt = await (await w.financing.connect(w.financier).fund(1n, price, 0n, PIECE)).wait();

      // The indexer reads the sale before the certificate's own events, as before the reordering.
      const sources = new Map<string, [string, { parseLog: typeof w.token.interface.parseLog }]>([
        [(await w.financing.getAddress()).toLowerCase(), ["financing", w.financing.interface]],
        [(await w.certificates.getAddress()).toLowerCase(), ["certificates", w.certificates.interface]],
        [(await w.token.getAddress()).toLowerCase(), ["token", w.token.interface]],
      ]);
      const events = receipt!.logs.flatMap((log) => {
        const source = sources.get(log.address.toLowerCase());
        const name = source?.[1].parseLog(log)?.name;
        return source && name && name !== "MetadataUpdate" ? [`${source[0]}.${name}`] : [];
      });
      expect(events.slice(0, 4)).to.deep.equal([
        "financing.FinancingFunded",
        "certificates.CertificateLockLifted",
        "certificates.Transfer",
        "token.Transfer", // the price, financier to seller
      ]);
    });
  });

  describe("on a pledge", function () {
    const price = 400n * MILLION;
    const repayAmount = 450n * MILLION;

    it("pays the pending payout to the pledgee, against the loan", async function () {
      const { w, seller, sellerAddress, receivableId, piece } =
        await networkHelpers.loadFixture(sellerWithPendingPayout);
      await seller.list(receivableId, piece, Number(FinancingKind.pledge), price, repayAmount);
      const financierBefore = await w.token.balanceOf(w.financier.address);

      await expect(w.financing.connect(w.financier).fund(1n, price, repayAmount, PIECE))
        .to.emit(w.financing, "PledgeRepaid")
        .withArgs(1n, PENDING_PAYOUT, repayAmount - PENDING_PAYOUT);

      expect(await seller.settledInHook()).to.equal(PENDING_PAYOUT);
      expect(await w.financing.pledgeOf(piece)).to.deep.equal([1n, w.financier.address, repayAmount - PENDING_PAYOUT]);
      expect(await w.token.balanceOf(sellerAddress)).to.equal(price);
      expect(await w.escrow.claimableOf(sellerAddress)).to.equal(0n);
      expect((await w.token.balanceOf(w.financier.address)) - financierBefore).to.equal(PENDING_PAYOUT - price);
    });
  });
});
