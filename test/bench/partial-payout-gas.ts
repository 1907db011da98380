// Gas of settlements that pay leaves only in part (a half-repaid receivable), which
// scripts/bench/gas.ts does not cover: the path where the escrow tells the certificate token
// to emit ERC-4906 refresh notices. Prints one line per case; compare across commits.
//
//   npx hardhat run test/bench/partial-payout-gas.ts (beside the test helpers it builds on)
import { network } from "hardhat";
import { deployWorld, MILLION } from "../helpers/fixture.js";
import { registerReceivable, splitCertificate, fundRequest } from "../helpers/lifecycle.js";
const { ethers } = await network.create();
const w = await deployWorld(ethers);
const gas = async (p: Promise<{ wait: () => Promise<{ gasUsed: bigint } | null> }>) =>
  (await (await p).wait())!.gasUsed;
const { receivableId, rootId } = await registerReceivable(w, 1_000n * MILLION);
const leaves = await splitCertificate(w, w.tier1, rootId, [
  { to: w.tier2, amount: 300n * MILLION },
  { to: w.tier3, amount: 300n * MILLION },
  { to: w.tier1, amount: 400n * MILLION },
]);
await w.financing.connect(w.tier1).openRequest(leaves[2]!, 1, 200n * MILLION, 210n * MILLION);
await fundRequest(w, w.financier, 1n, 200n * MILLION, 210n * MILLION);
await w.escrow.connect(w.debtor).repay(receivableId, 500n * MILLION);
console.log("settle 1 leaf, partial payout:", await gas(w.escrow.settle(receivableId, [leaves[0]!])));
console.log("settle 1 pledged leaf, partial payout:", await gas(w.escrow.settle(receivableId, [leaves[2]!])));
await w.escrow.connect(w.debtor).repay(receivableId, 100n * MILLION);
console.log("settle batch of 3 leaves, partial payout:", await gas(w.escrow.settle(receivableId, [...leaves])));
{
  const { receivableId, rootId } = await registerReceivable(w, 1_000n * MILLION);
  const parts = Array.from({ length: 10 }, (_, i) => ({
    to: [w.tier1, w.tier2, w.tier3][i % 3]!,
    amount: 100n * MILLION,
  }));
  const ids = await splitCertificate(w, w.tier1, rootId, parts);
  await w.escrow.connect(w.debtor).repay(receivableId, 500n * MILLION);
  console.log("settle batch of 10 leaves, partial payout:", await gas(w.escrow.settle(receivableId, ids)));
}
