// `npm run deploy:network`: deploys Tierline with Hardhat Ignition to the `tierline` network of
// hardhat.config.ts (TIERLINE_RPC_URL, and the deployer's key TIERLINE_DEPLOYER_KEY from the
// environment or Hardhat's keystore), then writes the addresses where `npm start` reads them:
// TIERLINE_CONTRACTS_FILE, by default <TIERLINE_DATA_DIR>/contracts.json.
//
// Who holds what (addresses; the deploy machine needs none of the service's keys):
// TIERLINE_GOVERNOR, TIERLINE_PAUSER, TIERLINE_REGISTRAR, TIERLINE_PARTY_MANAGER,
// TIERLINE_ATTESTER; for the three hot duties the address of TIERLINE_REGISTRAR_KEY,
// TIERLINE_PARTY_MANAGER_KEY or TIERLINE_ATTESTER_KEY serves when the address is not given.
// TIERLINE_TIMELOCK_DELAY_SECONDS (default two days; 0 only on chain 31337),
// TIERLINE_SETTLEMENT_TOKEN (unset: a LocalSettlementToken whose minter is the registrar).
import "../lib/node-version.js";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { getAddress, Wallet } from "ethers";
import { network } from "hardhat";
import { DEFAULT_TIMELOCK_DELAY_SECONDS } from "../../ignition/modules/Tierline.js";
import { LOCAL_CHAIN_ID } from "../../server/chain/deploy-tierline.js";
import { ConfigError, contractsFile, loadConfig } from "../../server/config.js";
import { deployTierlineWithIgnition } from "./ignition-deploy.js";

/** An address from `addressVariable`, else the address of the key in `keyVariable`. */
function addressOf(addressVariable: string, keyVariable?: string): string {
  const address = process.env[addressVariable];
  if (address) return getAddress(address);
  const key = keyVariable === undefined ? undefined : process.env[keyVariable];
  if (key) return new Wallet(key).address;
  const or = keyVariable === undefined ? "" : ` (or ${keyVariable})`;
  throw new ConfigError([`${addressVariable}${or}: not set; every role needs an address of its own`]);
}

async function main(): Promise<void> {
  // The output file need not exist yet, and an older one is replaced: not read as configuration.
  const { TIERLINE_CONTRACTS_FILE: output, TIERLINE_CONTRACTS: _ignored, ...env } = process.env;
  const config = loadConfig(env);
  const connection = await network.create();
  const provider = connection.ethers.provider;
  const chainId = (await provider.getNetwork()).chainId;
  const genesis = (await provider.getBlock(0))!.hash!;
  const registrar = addressOf("TIERLINE_REGISTRAR", "TIERLINE_REGISTRAR_KEY");
  const delay =
    config.TIERLINE_TIMELOCK_DELAY_SECONDS !== undefined
      ? BigInt(config.TIERLINE_TIMELOCK_DELAY_SECONDS)
      : chainId === LOCAL_CHAIN_ID
        ? 0n
        : DEFAULT_TIMELOCK_DELAY_SECONDS;

  const deployment = await deployTierlineWithIgnition(connection, {
    roles: {
      governor: addressOf("TIERLINE_GOVERNOR"),
      pauser: addressOf("TIERLINE_PAUSER"),
      registrar,
      partyManager: addressOf("TIERLINE_PARTY_MANAGER", "TIERLINE_PARTY_MANAGER_KEY"),
      attester: addressOf("TIERLINE_ATTESTER", "TIERLINE_ATTESTER_KEY"),
      timelockDelay: delay,
      tokenOwner: registrar, // the local token's minter, as `npm start` deploys it
    },
    settlementToken: config.TIERLINE_SETTLEMENT_TOKEN,
    // One journal per chain instance: a local chain restarted empty has a new genesis block, and
    // Ignition must not take the old journal's addresses for deployed contracts on it.
    deploymentId: `tierline-${chainId}-${genesis.slice(2, 10)}`,
    displayUi: true,
  });

  const file = contractsFile(output || undefined, config.dataDir);
  mkdirSync(path.dirname(file), { recursive: true });
  const contracts = {
    ...deployment.addresses,
    deploymentBlock: Number(deployment.deploymentBlock),
    chainId: Number(chainId),
  };
  writeFileSync(file, JSON.stringify(contracts, null, 2) + "\n");
  console.log(`\nTierline is deployed on chain ${chainId}; the addresses are in ${file}.`);
  console.log(
    `Start the service against it with TIERLINE_RPC_URL set and ${
      output ? `TIERLINE_CONTRACTS_FILE=${output}` : `the same TIERLINE_DATA_DIR`
    } (or TIERLINE_CONTRACTS='${JSON.stringify(contracts)}').`,
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? `cannot deploy: ${error.message}` : error);
  process.exitCode = 1;
});
