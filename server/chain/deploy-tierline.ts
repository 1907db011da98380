// Deploys and wires the Tierline contracts with any ethers signer. Used by tests, the
// benchmarks and (later) `npm start`, so every environment gets the same wiring.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { ContractFactory, type InterfaceAbi, type Signer } from "ethers";
import type { ContractTypes } from "./contracts.js";

export interface ContractArtifact {
  abi: InterfaceAbi;
  bytecode: string;
}

/** Where compiled contracts come from: Hardhat's artifacts, or the JSON files on disk. */
export type ArtifactLoader = (contractName: string) => Promise<ContractArtifact>;

export interface DeployOptions {
  /** An existing ERC-20 to settle in; without it a LocalSettlementToken is deployed. */
  settlementToken?: string;
  /** Accounts given REGISTRAR_ROLE on the registry (the operator is always one). */
  registrars?: string[];
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
}

export interface TierlineDeployment {
  chainId: bigint;
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

export async function deployTierline(
  admin: Signer,
  loadArtifact: ArtifactLoader,
  options: DeployOptions = {},
): Promise<TierlineDeployment> {
  const step = options.onStep ?? (() => {});
  const adminAddress = await admin.getAddress();
  const provider = admin.provider;
  if (provider === null) throw new Error("deployTierline needs a signer connected to a provider");
  const chainId = (await provider.getNetwork()).chainId;

  const deploy = async <N extends keyof ContractTypes>(
    name: N,
    args: unknown[],
  ): Promise<{ contract: ContractTypes[N]; block: bigint }> => {
    const artifact = await loadArtifact(name);
    const factory = new ContractFactory(artifact.abi, artifact.bytecode, admin);
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

  // Wiring: each contract learns the others it trusts, once.
  const c = certificates.contract;
  await send("wired registry", registry.contract.wire(certificatesAddress, escrowAddress));
  await send("wired financing", financing.contract.wireEscrow(escrowAddress));
  await send("granted LOCKER_ROLE", c.grantRole(await c.LOCKER_ROLE(), financingAddress));
  await send("granted SETTLER_ROLE", c.grantRole(await c.SETTLER_ROLE(), escrowAddress));
  const registrarRole = await registry.contract.REGISTRAR_ROLE();
  for (const registrar of new Set([adminAddress, ...(options.registrars ?? [])])) {
    await send(`granted REGISTRAR_ROLE to ${registrar}`, registry.contract.grantRole(registrarRole, registrar));
  }

  return {
    chainId,
    admin: adminAddress,
    deploymentBlock: token?.block ?? parties.block,
    localToken,
    addresses: {
      settlementToken,
      partyRegistry: partiesAddress,
      receivableRegistry: registryAddress,
      certificateToken: certificatesAddress,
      financingMarket: financingAddress,
      settlementEscrow: escrowAddress,
    },
  };
}
