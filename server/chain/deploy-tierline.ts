// Deploys and wires the Tierline contracts with any ethers signer. Used by tests, the
// benchmarks and `npm start`, so every environment gets the same wiring and the same split
// of duties: the deployer wires everything once, hands each role to its own key, gives the
// admin role to a TimelockController and renounces every power it had (see README, "Trust model").
import { readFile } from "node:fs/promises";
import path from "node:path";
import { Contract, ContractFactory, id, ZeroHash, type ContractRunner, type InterfaceAbi, type Signer } from "ethers";
import type { ContractTypes, ReceivableRegistry } from "./contracts.js";

/** What granting and renouncing need of an OpenZeppelin AccessControl contract. */
type AccessControlled = Pick<ReceivableRegistry, "grantRole" | "renounceRole">;

type RoleName =
  "DEFAULT_ADMIN_ROLE" | "REGISTRAR_ROLE" | "PAUSER_ROLE" | "PARTY_MANAGER_ROLE" | "ATTESTER_ROLE" | "ARBITER_ROLE";

/** OpenZeppelin's role ids: keccak256 of the name, and zero for the admin role. */
const roleId = (name: RoleName): string => (name === "DEFAULT_ADMIN_ROLE" ? ZeroHash : id(name));

export interface ContractArtifact {
  abi: InterfaceAbi;
  bytecode: string;
}

/** Where compiled contracts come from: Hardhat's artifacts, or the JSON files on disk. */
export type ArtifactLoader = (contractName: string) => Promise<ContractArtifact>;

/** Who holds which power once the deployment is done. Every one a different key. */
export interface TierlineRoles {
  /** Proposer, executor and canceller of the timelock that is every contract's admin
   * (an EOA on the local chain, a multisig on a real network). */
  governor: string;
  /** Seconds an admin action waits in the timelock. 0 is refused off the local chain (31337). */
  timelockDelay: bigint;
  /** REGISTRAR_ROLE on the registry (register debtor-confirmed receivables, set early-payment
   * rates for receivables registered later). */
  registrars: string[];
  /** PAUSER_ROLE on the registry, the certificate token and the market. */
  pauser: string;
  /** PARTY_MANAGER_ROLE on the party registry. */
  partyManager: string;
  /** ATTESTER_ROLE on the market: signs risk attestations of financing requests. */
  attester: string;
  /** Owner (minter) of the local settlement token; default: the deployer. */
  tokenOwner?: string;
}

export interface DeployOptions {
  /** An existing ERC-20 to settle in; without it a LocalSettlementToken is deployed. */
  settlementToken?: string;
  roles: TierlineRoles;
  /**
   * The certificate token's minimum piece size, in the settlement token's smallest unit;
   * default one whole unit (10**decimals: 1.00), so leaves cannot multiply at the keeper's cost.
   */
  minPieceSize?: bigint;
  /** Called after each step, for progress output. */
  onStep?: (message: string) => void;
}

export interface TierlineAddresses {
  settlementToken: string;
  partyRegistry: string;
  receivableRegistry: string;
  certificateToken: string;
  financingMarket: string;
  settlementEscrow: string;
  /** Disputes and credit notes (issue 16); its ARBITER_ROLE is the timelock's. */
  dilutionLedger: string;
  /** Endorsements with recourse and recourse claims (issue 16); no roles. */
  recourseLedger: string;
  /** The TimelockController holding DEFAULT_ADMIN_ROLE everywhere. */
  timelock: string;
}

export interface TierlineDeployment {
  chainId: bigint;
  /** The admin of every contract: the timelock. */
  admin: string;
  /** The first block an indexer must read: the block the first contract was deployed in. */
  deploymentBlock: bigint;
  localToken: boolean;
  addresses: TierlineAddresses;
}

/** Reads `artifacts/contracts/<Name>.sol/<Name>.json` below `root` (for plain Node). */
export function artifactsFromDisk(root: string): ArtifactLoader {
  return async (name) => {
    const file = path.join(root, "artifacts", "contracts", `${name}.sol`, `${name}.json`);
    const json = JSON.parse(await readFile(file, "utf8")) as ContractArtifact;
    return { abi: json.abi, bytecode: json.bytecode };
  };
}

export const LOCAL_CHAIN_ID = 31337n;

/** Checks the role plan before anything is deployed: distinct keys, no zero delay off the local chain. */
export function checkRoles(roles: TierlineRoles, chainId: bigint, deployer: string): void {
  const named: Array<[string, string]> = [
    ["governor", roles.governor],
    ["pauser", roles.pauser],
    ["partyManager", roles.partyManager],
    ["attester", roles.attester],
    ...roles.registrars.map((r, i): [string, string] => [`registrars[${i}]`, r]),
  ];
  if (roles.registrars.length === 0) throw new Error("deployTierline: at least one registrar is needed");
  const seen = new Map<string, string>();
  for (const [name, address] of named) {
    const key = address.toLowerCase();
    if (key === deployer.toLowerCase()) throw new Error(`deployTierline: ${name} must not be the deployer`);
    const other = seen.get(key);
    if (other !== undefined) throw new Error(`deployTierline: ${name} and ${other} must be different keys`);
    seen.set(key, name);
  }
  if (roles.timelockDelay < 0n) throw new Error("deployTierline: the timelock delay cannot be negative");
  if (roles.timelockDelay === 0n && chainId !== LOCAL_CHAIN_ID) {
    throw new Error(`deployTierline: a zero timelock delay is allowed only on the local chain (this is ${chainId})`);
  }
}

export async function deployTierline(
  deployer: Signer,
  loadArtifact: ArtifactLoader,
  options: DeployOptions,
): Promise<TierlineDeployment> {
  const step = options.onStep ?? (() => {});
  const roles = options.roles;
  const adminAddress = await deployer.getAddress(); // admin only until the hand-over at the end
  const provider = deployer.provider;
  if (provider === null) throw new Error("deployTierline needs a signer connected to a provider");
  const chainId = (await provider.getNetwork()).chainId;
  checkRoles(roles, chainId, adminAddress);

  const deploy = async <N extends keyof ContractTypes>(
    name: N,
    args: unknown[],
  ): Promise<{ contract: ContractTypes[N]; block: bigint }> => {
    const artifact = await loadArtifact(name);
    const factory = new ContractFactory(artifact.abi, artifact.bytecode, deployer);
    const contract = (await factory.deploy(...args)) as unknown as ContractTypes[N];
    const receipt = await contract.deploymentTransaction()?.wait();
    if (!receipt) throw new Error(`deployment of ${name} was not mined`);
    step(`deployed ${name} at ${await contract.getAddress()} (block ${receipt.blockNumber})`);
    return { contract, block: BigInt(receipt.blockNumber) };
  };
  const send = async (label: string, tx: Promise<{ wait: () => Promise<unknown> }>) => {
    await (await tx).wait();
    step(label);
  };

  const localToken = options.settlementToken === undefined;
  const token = localToken ? await deploy("LocalSettlementToken", [adminAddress]) : undefined;
  const settlementToken = options.settlementToken ?? (await token!.contract.getAddress());

  const parties = await deploy("PartyRegistry", [adminAddress]);
  const partiesAddress = await parties.contract.getAddress();
  const registry = await deploy("ReceivableRegistry", [adminAddress, partiesAddress, settlementToken]);
  const registryAddress = await registry.contract.getAddress();
  const certificates = await deploy("CertificateToken", [adminAddress, partiesAddress, registryAddress]);
  const certificatesAddress = await certificates.contract.getAddress();
  const financing = await deploy("FinancingMarket", [
    adminAddress,
    certificatesAddress,
    registryAddress,
    partiesAddress,
  ]);
  const financingAddress = await financing.contract.getAddress();
  const escrow = await deploy("SettlementEscrow", [registryAddress, certificatesAddress, financingAddress]);
  const escrowAddress = await escrow.contract.getAddress();
  // Dilution and recourse (issue 16): new contracts beside the four, wired in below.
  const dilution = await deploy("DilutionLedger", [
    adminAddress,
    registryAddress,
    certificatesAddress,
    financingAddress,
  ]);
  const dilutionAddress = await dilution.contract.getAddress();
  const recourse = await deploy("RecourseLedger", [
    registryAddress,
    certificatesAddress,
    dilutionAddress,
    escrowAddress,
  ]);
  const recourseAddress = await recourse.contract.getAddress();

  // Wiring: each contract learns the others it trusts, once and for good. Contract-to-contract
  // powers are checks against these addresses, not roles anyone could be granted later.
  await send("wired registry", registry.contract.wire(certificatesAddress, escrowAddress));
  await send("wired financing", financing.contract.wireEscrow(escrowAddress));
  await send("wired certificates", certificates.contract.wire(financingAddress, escrowAddress));
  await send("wired dilution into registry", registry.contract.wireDilution(dilutionAddress));
  await send("wired dilution into certificates", certificates.contract.wireDilution(dilutionAddress));
  await send("wired dilution into financing", financing.contract.wireDilution(dilutionAddress));

  // The tier policy's defaults, but no piece below one whole unit of the token (issue 18).
  const minPieceSize = options.minPieceSize ?? (await oneWholeUnitOf(settlementToken, deployer));
  const [maxTier, , maxSplitParts] = await certificates.contract.tierPolicy();
  await send(
    `set the minimum piece size to ${minPieceSize}`,
    certificates.contract.setTierPolicy(maxTier, minPieceSize, maxSplitParts),
  );

  // Duties: each role to its own key.
  const grant = async (contract: AccessControlled, roleName: RoleName, account: string, label: string) => {
    await send(`granted ${roleName} on ${label} to ${account}`, contract.grantRole(roleId(roleName), account));
  };
  for (const registrar of new Set(roles.registrars))
    await grant(registry.contract, "REGISTRAR_ROLE", registrar, "registry");
  await grant(parties.contract, "PARTY_MANAGER_ROLE", roles.partyManager, "parties");
  await grant(financing.contract, "ATTESTER_ROLE", roles.attester, "market");
  const pausable: Array<[AccessControlled, string]> = [
    [registry.contract, "registry"],
    [certificates.contract, "certificates"],
    [financing.contract, "market"],
  ];
  for (const [contract, label] of pausable) await grant(contract, "PAUSER_ROLE", roles.pauser, label);

  // The admin: a timelock the governor proposes to and executes through, after the delay.
  const timelock = await deploy("TierlineTimelock", [roles.timelockDelay, [roles.governor], [roles.governor]]);
  const timelockAddress = await timelock.contract.getAddress();
  // A credit note the seller did not co-sign is decided only through the timelock (in public, delayed).
  await grant(dilution.contract, "ARBITER_ROLE", timelockAddress, "dilution");
  const administered: Array<[AccessControlled, string, RoleName[]]> = [
    [parties.contract, "parties", ["PARTY_MANAGER_ROLE"]],
    [registry.contract, "registry", ["PAUSER_ROLE"]],
    [certificates.contract, "certificates", ["PAUSER_ROLE"]],
    [financing.contract, "market", ["PAUSER_ROLE"]],
    [dilution.contract, "dilution", []],
  ];
  for (const [contract, label, deployerRoles] of administered) {
    await grant(contract, "DEFAULT_ADMIN_ROLE", timelockAddress, label);
    // The deployer keeps nothing: its operational roles first, its admin role last.
    for (const roleName of [...deployerRoles, "DEFAULT_ADMIN_ROLE"] as const) {
      await send(`deployer renounced ${roleName} on ${label}`, contract.renounceRole(roleId(roleName), adminAddress));
    }
  }
  if (token && roles.tokenOwner !== undefined && roles.tokenOwner.toLowerCase() !== adminAddress.toLowerCase()) {
    await send("handed the local token's minting to its owner", token.contract.transferOwnership(roles.tokenOwner));
  }

  return {
    chainId,
    admin: timelockAddress,
    deploymentBlock: token?.block ?? parties.block,
    localToken,
    addresses: {
      settlementToken,
      partyRegistry: partiesAddress,
      receivableRegistry: registryAddress,
      certificateToken: certificatesAddress,
      financingMarket: financingAddress,
      settlementEscrow: escrowAddress,
      dilutionLedger: dilutionAddress,
      recourseLedger: recourseAddress,
      timelock: timelockAddress,
    },
  };
}

/** 10**decimals of the ERC-20 at `token`: one whole unit (1.00), the default minimum piece. */
export async function oneWholeUnitOf(token: string, runner: ContractRunner): Promise<bigint> {
  const erc20 = new Contract(token, ["function decimals() view returns (uint8)"], runner);
  return 10n ** ((await erc20.getFunction("decimals")()) as bigint);
}
