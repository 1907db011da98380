// Deploys Tierline through the Hardhat Ignition modules (ignition/modules/Tierline.ts) on any
// Hardhat network connection, after the same checks as server/chain/deploy-tierline.ts (every
// role a key of its own, none the deployer, no zero timelock delay off chain 31337). Used by
// `npm run deploy:network` and by the test that holds the modules to the library's wiring.
import type { DeployConfig } from "@nomicfoundation/ignition-core";
import { getAddress } from "ethers";
import type { NetworkConnection } from "hardhat/types/network";
import TierlineModule, { TierlineWithLocalTokenModule } from "../../ignition/modules/Tierline.js";
import {
  checkRoles,
  oneWholeUnitOf,
  type TierlineAddresses,
  type TierlineDeployment,
} from "../../server/chain/deploy-tierline.js";

/** Who holds which power once the deployment is done (see TierlineRoles: one registrar here). */
export interface IgnitionRoles {
  governor: string;
  timelockDelay: bigint;
  registrar: string;
  pauser: string;
  partyManager: string;
  attester: string;
  /** The local token's minter (only when no settlementToken is given); default the deployer. */
  tokenOwner?: string;
}

export interface IgnitionDeployOptions {
  roles: IgnitionRoles;
  /** An existing ERC-20 to settle in; without it a LocalSettlementToken is deployed. */
  settlementToken?: string;
  /** Ignition's journal for an HTTP network: ignition/deployments/<id> (resumes an interrupted run). */
  deploymentId?: string;
  displayUi?: boolean;
  /** Ignition's own settings (confirmations to wait for: 5 by default off the in-process chain; polling). */
  config?: Partial<DeployConfig>;
}

export async function deployTierlineWithIgnition(
  connection: NetworkConnection,
  options: IgnitionDeployOptions,
): Promise<TierlineDeployment> {
  const { ethers, ignition } = connection;
  const [deployer] = await ethers.getSigners();
  if (deployer === undefined) throw new Error("this network has no deployer account (TIERLINE_DEPLOYER_KEY)");
  const chainId = (await ethers.provider.getNetwork()).chainId;
  const { registrar, tokenOwner, ...roles } = options.roles;
  checkRoles({ ...roles, registrars: [registrar] }, chainId, deployer.address);

  const common = {
    governor: getAddress(roles.governor),
    pauser: getAddress(roles.pauser),
    registrar: getAddress(registrar),
    partyManager: getAddress(roles.partyManager),
    attester: getAddress(roles.attester),
    timelockDelay: roles.timelockDelay,
  };
  const run = {
    deploymentId: options.deploymentId,
    displayUi: options.displayUi ?? false,
    config: options.config ?? {},
  };
  const localToken = options.settlementToken === undefined;
  const deployed = localToken
    ? await ignition.deploy(TierlineWithLocalTokenModule, {
        ...run,
        parameters: {
          TierlineWithLocalToken: {
            ...common,
            ...(tokenOwner === undefined ? {} : { tokenOwner: getAddress(tokenOwner) }),
          },
        },
      })
    : {
        ...(await ignition.deploy(TierlineModule, {
          ...run,
          parameters: {
            Tierline: {
              ...common,
              settlementToken: getAddress(options.settlementToken!),
              minPieceSize: await oneWholeUnitOf(options.settlementToken!, ethers.provider),
            },
          },
        })),
        settlementToken: undefined,
      };
  const settlementToken = deployed.settlementToken
    ? await deployed.settlementToken.getAddress()
    : getAddress(options.settlementToken!);

  const addresses: TierlineAddresses = {
    settlementToken,
    partyRegistry: await deployed.partyRegistry.getAddress(),
    receivableRegistry: await deployed.receivableRegistry.getAddress(),
    certificateToken: await deployed.certificateToken.getAddress(),
    financingMarket: await deployed.financingMarket.getAddress(),
    settlementEscrow: await deployed.settlementEscrow.getAddress(),
    dilutionLedger: await deployed.dilutionLedger.getAddress(),
    recourseLedger: await deployed.recourseLedger.getAddress(),
    timelock: await deployed.timelock.getAddress(),
  };
  // The first Tierline contract's block: where an indexer starts (nothing it reads is older).
  const deploymentBlock = (await deployed.partyRegistry.getFunction("deploymentBlock")()) as bigint;
  return { chainId, admin: addresses.timelock, deploymentBlock, localToken, addresses };
}
