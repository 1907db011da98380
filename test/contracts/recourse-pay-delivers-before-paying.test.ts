// A default claim is paid against the leaf, and the leaf leg goes first: a creditor that runs code
// when the guarantor's money reaches it (a settlement token that calls its recipient) re-enters
// the escrow to settle a late payment waiting on the leaf. The attacker is
// contracts/mocks/PayoutGrabbingSeller.sol, here as the creditor of a recourse claim.
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import { network } from "hardhat";
import { MILLION } from "../helpers/fixture.js";
import { registerReceivable, splitCertificate } from "../helpers/lifecycle.js";
import { asLifecycleWorld, deployCustomTokenWorld, escrowBooks } from "../helpers/custom-token-world.js";
import type { CallbackToken, PayoutGrabbingSeller } from "../../types/ethers-contracts/index.js";

const { ethers, networkHelpers } = await network.create();

const FACE = 1_000n * MILLION;
const LEAF = 600n * MILLION;
// The debtor pays half late and nobody settles it: 300 of the leaf's 600 waits in the escrow.
const LATE_PAYMENT = FACE / 2n;
const PENDING_PAYOUT = 300n * MILLION;

/**
 * tier1 endorses the root and passes a 600 leaf to the creditor (a contract); the receivable
 * defaults unpaid, the creditor claims its 600 from tier1, and then the debtor pays 500 late.
 */
async function creditorWithPendingPayout() {
  const token = (await ethers.deployContract("CallbackToken")) as unknown as CallbackToken;
  const w = await deployCustomTokenWorld(ethers, token);
  const creditor = (await ethers.deployContract("PayoutGrabbingSeller", [
    await w.escrow.getAddress(),
    await w.financing.getAddress(),
    await token.getAddress(),
  ])) as unknown as PayoutGrabbingSeller;
  const creditorAddress = await creditor.getAddress();
  await w.parties.connect(w.partyManager).registerParty(creditorAddress, ethers.id("LEI:creditor"), true);
  const { receivableId, rootId } = await registerReceivable(asLifecycleWorld(w), FACE);
  await w.recourse.connect(w.tier1).grantRecourse(rootId);
  const [leaf] = await splitCertificate(asLifecycleWorld(w), w.tier1, rootId, [
    // splitCertificate reads only `.address` of a recipient.
    { to: { address: creditorAddress } as HardhatEthersSigner, amount: LEAF },
    { to: w.tier1, amount: FACE - LEAF },
  ]);
  const receivable = await w.registry.receivableOf(receivableId);
  await networkHelpers.time.increaseTo(receivable.dueDate + receivable.gracePeriod + 1n);
  await w.registry.markDefaulted(receivableId);
  await creditor.claimDefault(
    await w.recourse.getAddress(),
    await w.certificates.getAddress(),
    receivableId,
    leaf!,
    rootId,
    0n,
  );
  await w.escrow.connect(w.debtor).repay(receivableId, LATE_PAYMENT);
  return { w, creditor, creditorAddress, receivableId, leaf: leaf! };
}

describe("when the creditor of a default claim re-enters the escrow as the guarantor's money reaches it", function () {
  it("has delivered the leaf already, so the late payout goes to the guarantor", async function () {
    const { w, creditor, creditorAddress, receivableId, leaf } =
      await networkHelpers.loadFixture(creditorWithPendingPayout);
    // The late payment is not settled yet: the leaf is still owed all 600, and the guarantor pays it.
    expect((await w.recourse.claimOf(1n)).amount).to.equal(LEAF);
    const guarantorBefore = await w.token.balanceOf(w.tier1.address);

    await expect(w.recourse.connect(w.tier1).payClaim(1n))
      .to.emit(w.recourse, "RecourseClaimPaid")
      .withArgs(1n, w.tier1.address, creditorAddress, LEAF)
      .and.to.emit(w.escrow, "LeafSettled")
      .withArgs(receivableId, leaf, w.tier1.address, PENDING_PAYOUT, ethers.ZeroAddress, 0n, PENDING_PAYOUT);

    // The hook did run and settled the leaf, but to the guarantor that now holds it.
    expect(await creditor.settledInHook()).to.equal(PENDING_PAYOUT);
    expect(await w.certificates.ownerOf(leaf)).to.equal(w.tier1.address);
    // The creditor recovered its 600 once: the claim, and nothing paid or kept on the leaf.
    expect(await w.token.balanceOf(creditorAddress)).to.equal(LEAF);
    expect(await w.escrow.claimableOf(creditorAddress)).to.equal(0n);
    await expect(creditor.withdrawKept())
      .to.be.revertedWithCustomError(w.escrow, "SettlementNothingToWithdraw")
      .withArgs(creditorAddress);
    // The guarantor paid 600 for a leaf that has paid it 300 back and is still owed 300.
    expect((await w.token.balanceOf(w.tier1.address)) - guarantorBefore).to.equal(PENDING_PAYOUT - LEAF);
    expect(await w.escrow.paidOutOf(leaf)).to.equal(PENDING_PAYOUT);
    const books = await escrowBooks(w, [receivableId]);
    expect(books.balance).to.equal(books.expected);
  });

  it("reports the payment, then the delivery, then the money paid", async function () {
    const { w, leaf } = await networkHelpers.loadFixture(creditorWithPendingPayout);

    const receipt = await (await w.recourse.connect(w.tier1).payClaim(1n)).wait();

    // The indexer reads RecourseClaimPaid first, as before the reordering.
    const sources = new Map<string, [string, { parseLog: typeof w.token.interface.parseLog }]>([
      [(await w.recourse.getAddress()).toLowerCase(), ["recourse", w.recourse.interface]],
      [(await w.certificates.getAddress()).toLowerCase(), ["certificates", w.certificates.interface]],
      [(await w.token.getAddress()).toLowerCase(), ["token", w.token.interface]],
    ]);
    const events = receipt!.logs.flatMap((log) => {
      const source = sources.get(log.address.toLowerCase());
      const name = source?.[1].parseLog(log)?.name;
      return source && name && name !== "MetadataUpdate" ? [`${source[0]}.${name}`] : [];
    });
    expect(events.slice(0, 3)).to.deep.equal([
      "recourse.RecourseClaimPaid",
      "certificates.Transfer", // the leaf, creditor to guarantor
      "token.Transfer", // the claim, guarantor to creditor
    ]);
    const certificatesAddress = (await w.certificates.getAddress()).toLowerCase();
    const delivery = receipt!.logs
      .filter((log) => log.address.toLowerCase() === certificatesAddress)
      .map((log) => w.certificates.interface.parseLog(log))
      .find((parsed) => parsed?.name === "Transfer")!;
    expect(delivery.args.tokenId).to.equal(leaf);
    expect(delivery.args.to).to.equal(w.tier1.address);
  });
});
