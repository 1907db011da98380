// The test world of fixture.ts, deployed over a settlement token of the test's choosing
// (fee-on-transfer, blocklisting, callback tokens from contracts/mocks) for attack tests.
import type { HardhatEthers, HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { artifacts } from "hardhat";
import { deployTierline } from "../../scripts/deploy/deploy-tierline.js";
import type {
  CertificateToken,
  FinancingMarket,
  PartyRegistry,
  ReceivableRegistry,
  SettlementEscrow,
} from "../../types/ethers-contracts/index.js";
import { MILLION, type TierlineWorld } from "./fixture.js";

/** What the world needs from a test-double token: an address, open minting and approvals. */
export interface MintableToken {
  getAddress(): Promise<string>;
  mint(to: string, amount: bigint): Promise<unknown>;
  connect(runner: HardhatEthersSigner): { approve(spender: string, amount: bigint): Promise<unknown> };
}

export type CustomTokenWorld<T extends MintableToken> = Omit<TierlineWorld, "token"> & { token: T };

/** Deploys Tierline settling in `token` and registers, funds and approves the cast as fixture.ts does. */
export async function deployCustomTokenWorld<T extends MintableToken>(
  ethers: HardhatEthers,
  token: T,
): Promise<CustomTokenWorld<T>> {
  const [operator, debtor, tier1, tier2, tier3, financier, financier2, outsider] = await ethers.getSigners();
  const deployment = await deployTierline(operator!, (name) => artifacts.readArtifact(name), {
    settlementToken: await token.getAddress(),
  });
  const a = deployment.addresses;
  const world: CustomTokenWorld<T> = {
    operator: operator!,
    debtor: debtor!,
    tier1: tier1!,
    tier2: tier2!,
    tier3: tier3!,
    financier: financier!,
    financier2: financier2!,
    outsider: outsider!,
    token,
    parties: (await ethers.getContractAt("PartyRegistry", a.partyRegistry)) as unknown as PartyRegistry,
    registry: (await ethers.getContractAt("ReceivableRegistry", a.receivableRegistry)) as unknown as ReceivableRegistry,
    certificates: (await ethers.getContractAt("CertificateToken", a.certificateToken)) as unknown as CertificateToken,
    financing: (await ethers.getContractAt("FinancingMarket", a.financingMarket)) as unknown as FinancingMarket,
    escrow: (await ethers.getContractAt("SettlementEscrow", a.settlementEscrow)) as unknown as SettlementEscrow,
    deploymentBlock: deployment.deploymentBlock,
  };
  const cast: Array<[HardhatEthersSigner, string]> = [
    [world.debtor, "core-enterprise"],
    [world.tier1, "tier1"],
    [world.tier2, "tier2"],
    [world.tier3, "tier3"],
    [world.financier, "bank"],
    [world.financier2, "factor"],
  ];
  for (const [signer, name] of cast) {
    await world.parties.registerParty(signer.address, ethers.id(`LEI:${name}`));
  }
  const escrowAddress = await world.escrow.getAddress();
  const financingAddress = await world.financing.getAddress();
  for (const payer of [world.debtor, world.financier, world.financier2, world.tier1, world.tier2, world.tier3]) {
    await token.mint(payer.address, 10_000_000n * MILLION);
    await token.connect(payer).approve(escrowAddress, ethers.MaxUint256);
    await token.connect(payer).approve(financingAddress, ethers.MaxUint256);
  }
  return world;
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
