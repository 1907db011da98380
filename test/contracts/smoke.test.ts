import { expect } from "chai";
import { network } from "hardhat";
import { deployWorld, MILLION } from "../helpers/fixture.js";
import { fundRequest, registerReceivable, splitCertificate } from "../helpers/lifecycle.js";

const { ethers, networkHelpers } = await network.create();
const world = () => deployWorld(ethers);

describe("a receivable's whole life", function () {
  it("is registered, split down two tiers, pledged, repaid and settled to every holder", async function () {
    const w = await networkHelpers.loadFixture(world);
    const { receivableId, rootId } = await registerReceivable(w, 1_000n * MILLION);
    const [t2, t1keep] = await splitCertificate(w, w.tier1, rootId, [
      { to: w.tier2, amount: 600n * MILLION },
      { to: w.tier1, amount: 400n * MILLION },
    ]);
    const [t3, t2keep] = await splitCertificate(w, w.tier2, t2!, [
      { to: w.tier3, amount: 250n * MILLION },
      { to: w.tier2, amount: 350n * MILLION },
    ]);
    expect((await w.certificates.certificateOf(t3!)).tier).to.equal(3n);
    await w.financing.connect(w.tier3).openRequest(t3!, 1, 200n * MILLION, 210n * MILLION);
    await fundRequest(w, w.financier, 1n, 200n * MILLION, 210n * MILLION);
    await w.escrow.connect(w.debtor).repay(receivableId, 1_000n * MILLION);
    const before = await w.token.balanceOf(w.tier3.address);
    const bankBefore = await w.token.balanceOf(w.financier.address);
    await w.escrow.settle(receivableId, [t1keep!, t2keep!, t3!]);
    expect((await w.token.balanceOf(w.tier3.address)) - before).to.equal(40n * MILLION);
    expect((await w.token.balanceOf(w.financier.address)) - bankBefore).to.equal(210n * MILLION);
    expect(await w.token.balanceOf(await w.escrow.getAddress())).to.equal(0n);
  });
});
