// The shared test world: the deployed, wired contracts and a cast of parties
// (operator, debtor, three supplier tiers, two financiers, an auditor that may not hold
// certificates, an outsider), and the keys of
// the split duties: the operator is the registrar (and the local token's minter); the
// governor proposes admin actions to the timelock; pauser, party manager and attester are
// keys of their own. The deployer renounced everything it had.
import type { HardhatEthers, HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { artifacts } from "hardhat";
import { deployTierline } from "../../server/chain/deploy-tierline.js";
import { signAliasConsent } from "../../server/chain/alias-consent-typed-data.js";
import type {
  TierlineTimelock,
  CertificateToken,
  DilutionLedger,
  FinancingMarket,
  RecourseLedger,
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
  /** A registered, active party that may not hold certificates (registerParty(…, false)). */
  auditor: HardhatEthersSigner;
  outsider: HardhatEthersSigner;
  /** Proposes and executes admin actions through the timelock (delay 0 in tests). */
  governor: HardhatEthersSigner;
  pauser: HardhatEthersSigner;
  partyManager: HardhatEthersSigner;
  attester: HardhatEthersSigner;
  timelock: TierlineTimelock;
  token: LocalSettlementToken;
  parties: PartyRegistry;
  registry: ReceivableRegistry;
  certificates: CertificateToken;
  financing: FinancingMarket;
  escrow: SettlementEscrow;
  /** Disputes and credit notes (issue 16). */
  dilution: DilutionLedger;
  /** Endorsements with recourse and recourse claims (issue 16). */
  recourse: RecourseLedger;
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
  const [
    operator,
    debtor,
    tier1,
    tier2,
    tier3,
    financier,
    financier2,
    outsider,
    governor,
    pauser,
    partyManager,
    attester,
    deployer,
  ] = await ethers.getSigners();
  // The last default account: tests take 13 and 14 as bystanders of their own.
  const auditor = (await ethers.getSigners())[19];
  const deployment = await deployTierline(deployer!, (name) => artifacts.readArtifact(name), {
    settlementToken: existing ? await existing.getAddress() : undefined,
    // The contract tests split into pieces of a few smallest units on purpose (rounding dust,
    // pro-rata shares), below the deployment's default minimum of one whole unit (1.00).
    minPieceSize: 1n,
    roles: {
      governor: governor!.address,
      timelockDelay: 0n,
      registrars: [operator!.address],
      pauser: pauser!.address,
      partyManager: partyManager!.address,
      attester: attester!.address,
      tokenOwner: operator!.address,
    },
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
    auditor: auditor!,
    outsider: outsider!,
    governor: governor!,
    pauser: pauser!,
    partyManager: partyManager!,
    attester: attester!,
    timelock: (await ethers.getContractAt("TierlineTimelock", a.timelock)) as unknown as TierlineTimelock,
    token: existing ?? (await bindToken(a.settlementToken)),
    parties: (await ethers.getContractAt("PartyRegistry", a.partyRegistry)) as unknown as PartyRegistry,
    registry: (await ethers.getContractAt("ReceivableRegistry", a.receivableRegistry)) as unknown as ReceivableRegistry,
    certificates: (await ethers.getContractAt("CertificateToken", a.certificateToken)) as unknown as CertificateToken,
    financing: (await ethers.getContractAt("FinancingMarket", a.financingMarket)) as unknown as FinancingMarket,
    escrow: (await ethers.getContractAt("SettlementEscrow", a.settlementEscrow)) as unknown as SettlementEscrow,
    dilution: (await ethers.getContractAt("DilutionLedger", a.dilutionLedger)) as unknown as DilutionLedger,
    recourse: (await ethers.getContractAt("RecourseLedger", a.recourseLedger)) as unknown as RecourseLedger,
    deploymentBlock: deployment.deploymentBlock,
  };
  // Every party of the cast may hold but the auditor. The debtor may hold too: a core
  // enterprise is often a supplier elsewhere, and the per-receivable rule
  // (CertificateRecipientIsDebtor) keeps it from holding a claim on itself.
  const cast: Array<[HardhatEthersSigner, string, boolean]> = [
    [world.debtor, "core-enterprise", true],
    [world.tier1, "tier1", true],
    [world.tier2, "tier2", true],
    [world.tier3, "tier3", true],
    [world.financier, "bank", true],
    [world.financier2, "factor", true],
    [world.auditor, "audit-firm", false],
  ];
  for (const [signer, name, mayHold] of cast) {
    await world.parties.connect(world.partyManager).registerParty(signer.address, legalId(name), mayHold);
  }
  // Money for the debtor and the financiers, with allowances to the contracts that pull it.
  const escrowAddress = await world.escrow.getAddress();
  const financingAddress = await world.financing.getAddress();
  const recourseAddress = await world.recourse.getAddress();
  for (const payer of [world.debtor, world.financier, world.financier2, world.tier1, world.tier2, world.tier3]) {
    await world.token.mint(payer.address, 10_000_000n * MILLION);
    await world.token.connect(payer).approve(escrowAddress, ethers.MaxUint256);
    await world.token.connect(payer).approve(financingAddress, ethers.MaxUint256);
    await world.token.connect(payer).approve(recourseAddress, ethers.MaxUint256);
  }
  return world;
}

/**
 * Runs an admin action the only way there is: the governor schedules it on the timelock and
 * executes it once the delay (0 in tests) has passed. Returns the execution's transaction, so
 * tests can assert its events and reverts (the timelock bubbles the target's revert data up).
 */
export async function asAdmin(
  world: Pick<TierlineWorld, "timelock" | "governor">,
  target: {
    getAddress(): Promise<string>;
    interface: { encodeFunctionData(fn: string, args: readonly unknown[]): string };
  },
  fn: string,
  args: readonly unknown[],
) {
  const data = target.interface.encodeFunctionData(fn, args);
  const address = await target.getAddress();
  const salt = ethersIdOf(`${fn}:${++adminNonce}`);
  const zero = "0x" + "00".repeat(32);
  const timelock = world.timelock.connect(world.governor);
  await timelock.schedule(address, 0n, data, zero, salt, await timelock.getMinDelay());
  return timelock.execute(address, 0n, data, zero, salt);
}
let adminNonce = 0;
const ethersIdOf = (text: string): string => ethersId(text);

/**
 * Registers `alias` as a further address of `existing`'s company, the ordinary way: `existing`
 * signs its consent (nonce `nonce`, valid for an hour) and the party manager submits it.
 */
export async function registerAliasOf(
  world: Pick<TierlineWorld, "parties" | "partyManager">,
  existing: HardhatEthersSigner,
  alias: string,
  nonce = 1n,
) {
  const provider = existing.provider!;
  const legalIdHash = await world.parties.legalIdOf(existing.address);
  const deadline = BigInt((await provider.getBlock("latest"))!.timestamp) + 3_600n;
  const consent = await signAliasConsent(
    existing,
    (await provider.getNetwork()).chainId,
    await world.parties.getAddress(),
    { account: alias, legalIdHash, nonce, deadline },
  );
  return world.parties.connect(world.partyManager).registerAlias(alias, legalIdHash, consent);
}
