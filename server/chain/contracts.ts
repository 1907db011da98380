// The deployed Tierline contracts as ethers objects bound to one provider.
import { Contract, type ContractRunner } from "ethers";
import { readArtifact, type ContractName } from "./artifacts.js";

export interface ContractAddresses {
  settlementToken: string;
  partyRegistry: string;
  receivableRegistry: string;
  certificateToken: string;
  financingMarket: string;
  settlementEscrow: string;
  /** The TimelockController that is every contract's admin (absent for contracts configured by hand). */
  timelock?: string;
}

export interface Deployment {
  chainId: string;
  genesisHash: string;
  deploymentBlock: number;
  localToken: boolean;
  addresses: ContractAddresses;
}

export interface TierlineContracts {
  token: Contract;
  parties: Contract;
  registry: Contract;
  certificates: Contract;
  financing: Contract;
  escrow: Contract;
}

const bind = (name: ContractName, address: string, runner: ContractRunner) =>
  new Contract(address, readArtifact(name).abi, runner);

export function bindContracts(addresses: ContractAddresses, runner: ContractRunner): TierlineContracts {
  // The timelock emits no Tierline events the index needs: it is not bound here.
  return {
    // Any ERC-20 works as the settlement token; the local token's ABI covers the standard calls.
    token: bind("LocalSettlementToken", addresses.settlementToken, runner),
    parties: bind("PartyRegistry", addresses.partyRegistry, runner),
    registry: bind("ReceivableRegistry", addresses.receivableRegistry, runner),
    certificates: bind("CertificateToken", addresses.certificateToken, runner),
    financing: bind("FinancingMarket", addresses.financingMarket, runner),
    escrow: bind("SettlementEscrow", addresses.settlementEscrow, runner),
  };
}

/** The contract each event-emitting address is, for the indexer. */
export function contractsByAddress(contracts: TierlineContracts): Map<string, { name: string; contract: Contract }> {
  const entries = Object.entries(contracts) as Array<[string, Contract]>;
  return new Map(entries.map(([name, contract]) => [String(contract.target).toLowerCase(), { name, contract }]));
}
