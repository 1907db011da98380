// The shared test world: the deployed, wired contracts and a cast of parties
// (operator, debtor, three supplier tiers, two financiers, an outsider).
import type { HardhatEthers, HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { artifacts } from "hardhat";
import { deployTierline } from "../../server/chain/deploy-tierline.js";
import type {
  CertificateToken,
  FinancingMarket,
  LocalSettlementToken,
  PartyRegistry,
  ReceivableRegistry,
  SettlementEscrow,
} from "../../types/ethers-contracts/index.js";

export const MILLION = 1_000_000n; // one tUSD in smallest units (6 decimals)
export const DAY = 24n * 60n * 60n;

export interface TierlineWorld {
  operator: HardhatEthersSigner;
  debtor: HardhatEthersSigner;
  tier1: HardhatEthersSigner;
  tier2: HardhatEthersSigner;
  tier3: HardhatEthersSigner;
  financier: HardhatEthersSigner;
  financier2: HardhatEthersSigner;
  outsider: HardhatEthersSigner;
  token: LocalSettlementToken;
  parties: PartyRegistry;
  registry: ReceivableRegistry;
  certificates: CertificateToken;
  financing: FinancingMarket;
  escrow: SettlementEscrow;
  deploymentBlock: bigint;
}

export const legalId = (name: string): string => ethersId(`LEI:${name}`);
let ethersId: (text: string) => string = () => {
  throw new Error("fixture not initialised");
};

/** What the world needs from its settlement token: an address, open minting and approvals. */
export interface MintableToken {
  getAddress(): Promise<string>;
  mint(to: string, amount: bigint): Promise<unknown>;
  connect(runner: HardhatEthersSigner): { approve(spender: string, amount: bigint): Promise<unknown> };
}

/** Deploys everything with the real deploy script and registers the cast as parties. */
export async function deployWorld(ethers: HardhatEthers): Promise<TierlineWorld> {
  return deployWorldOver(
    ethers,
    (address) => ethers.getContractAt("LocalSettlementToken", address) as unknown as Promise<LocalSettlementToken>,
  );
}

/**
 * The world over a settlement token: the local one (deployed by the script) when `existing`
 * is not given, or a test double of the test's choosing. Registers, funds and approves the cast.
 */
export async function deployWorldOver<T extends MintableToken>(
  ethers: HardhatEthers,
  bindToken: (address: string) => Promise<T>,
  existing?: T,
): Promise<Omit<TierlineWorld, "token"> & { token: T }> {
  ethersId = ethers.id;
  const [operator, debtor, tier1, tier2, tier3, financier, financier2, outsider] = await ethers.getSigners();
  const deployment = await deployTierline(operator!, (name) => artifacts.readArtifact(name), {
    settlementToken: existing ? await existing.getAddress() : undefined,
  });
  const a = deployment.addresses;
  const world = {
    operator: operator!,
    debtor: debtor!,
    tier1: tier1!,
    tier2: tier2!,
    tier3: tier3!,
    financier: financier!,
    financier2: financier2!,
    outsider: outsider!,
    token: existing ?? (await bindToken(a.settlementToken)),
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
    await world.parties.registerParty(signer.address, legalId(name));
  }
  // Money for the debtor and the financiers, with allowances to the contracts that pull it.
  const escrowAddress = await world.escrow.getAddress();
  const financingAddress = await world.financing.getAddress();
  for (const payer of [world.debtor, world.financier, world.financier2, world.tier1, world.tier2, world.tier3]) {
    await world.token.mint(payer.address, 10_000_000n * MILLION);
    await world.token.connect(payer).approve(escrowAddress, ethers.MaxUint256);
    await world.token.connect(payer).approve(financingAddress, ethers.MaxUint256);
  }
  return world;
}
