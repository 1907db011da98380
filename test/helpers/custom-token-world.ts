// The test world of fixture.ts, deployed over a settlement token of the test's choosing
// (fee-on-transfer, blocklisting, callback tokens from contracts/mocks) for attack tests.
import type { HardhatEthers } from "@nomicfoundation/hardhat-ethers/types";
import type { ReceivableRegistry, SettlementEscrow } from "../../types/ethers-contracts/index.js";
import { deployWorldOver, type MintableToken, type TierlineWorld } from "./fixture.js";

export type { MintableToken };

export type CustomTokenWorld<T extends MintableToken> = Omit<TierlineWorld, "token"> & { token: T };

/** Deploys Tierline settling in `token` and registers, funds and approves the cast as fixture.ts does. */
export function deployCustomTokenWorld<T extends MintableToken>(
  ethers: HardhatEthers,
  token: T,
): Promise<CustomTokenWorld<T>> {
  return deployWorldOver(ethers, async () => token, token);
}

/** The lifecycle.ts helpers never touch `token`, so a custom-token world serves them as is. */
export function asLifecycleWorld<T extends MintableToken>(world: CustomTokenWorld<T>): TierlineWorld {
  return world as unknown as TierlineWorld;
}

/** The escrow's books for `receivableIds`: its token balance, and what it must hold —
 * sum(repaid) - sum(distributed) + totalClaimable (kept payments count as distributed). */
export async function escrowBooks(
  world: {
    token: { balanceOf(account: string): Promise<bigint> };
    escrow: SettlementEscrow;
    registry: ReceivableRegistry;
  },
  receivableIds: string[],
): Promise<{ balance: bigint; expected: bigint }> {
  let expected = await world.escrow.totalClaimable();
  for (const receivableId of receivableIds) {
    expected += (await world.registry.receivableOf(receivableId)).repaidAmount;
    expected -= await world.escrow.distributedOf(receivableId);
  }
  const balance = await world.token.balanceOf(await world.escrow.getAddress());
  return { balance, expected };
}
